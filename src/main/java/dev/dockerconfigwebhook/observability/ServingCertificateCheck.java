package dev.dockerconfigwebhook.observability;

import io.quarkus.tls.CertificateUpdatedEvent;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collections;
import java.util.Optional;

/**
 * Ready only while a serving certificate is loaded and valid: the API server cannot call a webhook whose TLS
 * it cannot verify, so a pod without one must not receive traffic. Reports only public facts (subject, expiry).
 */
@Readiness
@ApplicationScoped
public class ServingCertificateCheck implements HealthCheck {

    private static final Logger LOG = Logger.getLogger(ServingCertificateCheck.class);

    private final TlsConfigurationRegistry registry;

    public ServingCertificateCheck(TlsConfigurationRegistry registry) {
        this.registry = registry;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("serving-certificate");
        Optional<X509Certificate> certificate = servingCertificate(registry.getDefault());
        if (certificate.isEmpty()) {
            return response.down().withData("reason", "no serving certificate loaded").build();
        }
        Instant notAfter = certificate.get().getNotAfter().toInstant();
        response.withData("subject", certificate.get().getSubjectX500Principal().getName())
                .withData("notAfter", notAfter.toString());
        return Instant.now().isBefore(notAfter) ? response.up().build()
                : response.down().withData("reason", "serving certificate expired").build();
    }

    /** The TLS registry re-reads the PEM files every {@code quarkus.tls.reload-period}; say when they changed. */
    void onReload(@Observes CertificateUpdatedEvent event) {
        servingCertificate(Optional.ofNullable(event.tlsConfiguration())).ifPresent(c -> LOG.infof(
                "serving certificate reloaded: subject=%s notAfter=%s", c.getSubjectX500Principal().getName(),
                c.getNotAfter().toInstant()));
    }

    private static Optional<X509Certificate> servingCertificate(Optional<TlsConfiguration> configuration) {
        try {
            KeyStore keyStore = configuration.map(TlsConfiguration::getKeyStore).orElse(null);
            if (keyStore == null) {
                return Optional.empty();
            }
            for (String alias : Collections.list(keyStore.aliases())) {
                Certificate certificate = keyStore.getCertificate(alias);
                if (certificate instanceof X509Certificate) {
                    return Optional.of((X509Certificate) certificate);
                }
            }
        } catch (KeyStoreException e) {
            LOG.warnf("serving certificate cannot be read: %s", e.getClass().getSimpleName());
        }
        return Optional.empty();
    }
}
