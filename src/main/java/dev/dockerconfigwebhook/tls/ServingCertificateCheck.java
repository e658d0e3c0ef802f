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
 * Ready only while a serving certificate is loaded and valid and, whenever the pods keep caBundle, the live caBundle
 * trusts it: the API server cannot call a webhook whose TLS it cannot verify, so a pod it would not trust must not
 * receive traffic, and {@code helm install --wait} returning means the first write succeeds. The data says which part
 * is missing ({@code reason}) and what waits while the pod is ready ({@code waiting}: a CA rotation that cannot go on,
 * say). Reports only public facts (subject, expiry).
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
        ServingCertificate.Trust trust = serving.trust();
        if (certificate.isEmpty()) {
            String reason = trust.checked() && !trust.reason().isEmpty() ? trust.reason()
                    : serving.problem().orElse("no serving certificate loaded");
            return response.down().withData("reason", reason).build();
        }
        Instant notAfter = certificate.get().getNotAfter().toInstant();
        response.withData("subject", certificate.get().getSubjectX500Principal().getName())
                .withData("notAfter", notAfter.toString());
        serving.earliestCaNotAfter().ifPresent(ca -> response.withData("caNotAfter", ca.toString()));
        if (trust.checked()) {
            response.withData("caBundleTrusted", trust.trusted())
                    .withData("caBundleCertificates", trust.caBundleCertificates());
        }
        if (!Instant.now().isBefore(notAfter)) {
            return response.down().withData("reason", "serving certificate expired").build();
        }
        if (trust.checked() && !trust.trusted()) {
            return response.down().withData("reason", trust.reason()).build();
        }
        if (!trust.reason().isEmpty()) response.withData("waiting", trust.reason());
        return response.up().build();
    }
}
