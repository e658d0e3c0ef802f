package dev.dockerconfigwebhook.tls;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Optional;

/**
 * Ready only while a serving certificate is loaded and valid: the API server cannot call a webhook whose TLS
 * it cannot verify, so a pod without one must not receive traffic. Reports only public facts (subject, expiry).
 */
@Readiness
@ApplicationScoped
public class ServingCertificateCheck implements HealthCheck {

    private final ServingCertificate serving;

    public ServingCertificateCheck(ServingCertificate serving) {
        this.serving = serving;
    }

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder response = HealthCheckResponse.named("serving-certificate");
        Optional<X509Certificate> certificate = serving.current();
        if (certificate.isEmpty()) {
            return response.down().withData("reason", serving.problem().orElse("no serving certificate loaded")).build();
        }
        Instant notAfter = certificate.get().getNotAfter().toInstant();
        response.withData("subject", certificate.get().getSubjectX500Principal().getName())
                .withData("notAfter", notAfter.toString());
        serving.earliestCaNotAfter().ifPresent(ca -> response.withData("caNotAfter", ca.toString()));
        return Instant.now().isBefore(notAfter) ? response.up().build()
                : response.down().withData("reason", "serving certificate expired").build();
    }
}
