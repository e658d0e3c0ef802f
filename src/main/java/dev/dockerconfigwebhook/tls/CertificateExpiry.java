package dev.dockerconfigwebhook.tls;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * When the certificates expire, on /q/metrics: an expired serving certificate is the likeliest outage of a webhook
 * with failurePolicy Fail, and these are what an alert watches (the chart's PrometheusRule), as cert-manager's
 * {@code certmanager_certificate_expiration_timestamp_seconds} is.
 * <ul>
 * <li>{@code webhook_certificate_expiration_timestamp_seconds}: the served certificate's notAfter;</li>
 * <li>{@code webhook_ca_certificate_expiration_timestamp_seconds}: the earliest notAfter among the CAs of its ca.crt;</li>
 * <li>{@code webhook_ca_bundle_trusted}: 1 while the live caBundle trusts the served certificate, else 0;</li>
 * <li>{@code webhook_ca_bundle_certificates}: how many CAs the configuration's caBundle holds (the largest of its
 * webhooks').</li>
 * </ul>
 * Timestamps are Unix seconds; NaN while there is none (not ready yet, or no ca.crt), and the caBundle gauges are NaN
 * while nobody checks caBundle ({@code webhook.ca-bundle.keep=false}).
 */
@ApplicationScoped
public class CertificateExpiry {

    private final ServingCertificate serving;
    private final MeterRegistry registry;

    public CertificateExpiry(ServingCertificate serving, MeterRegistry registry) {
        this.serving = serving;
        this.registry = registry;
    }

    void register(@Observes StartupEvent event) {
        Gauge.builder("webhook.certificate.expiration.timestamp", serving, s -> servingNotAfter(s.current()))
                .description("notAfter of the serving certificate, Unix seconds").baseUnit("seconds")
                .strongReference(true).register(registry);
        Gauge.builder("webhook.ca.certificate.expiration.timestamp", serving, s -> earliestNotAfter(s.caCertificates()))
                .description("Earliest notAfter among the CA certificates of ca.crt, Unix seconds").baseUnit("seconds")
                .strongReference(true).register(registry);
        Gauge.builder("webhook.ca.bundle.trusted", serving, s -> trusted(s.trust()))
                .description("1 while the live caBundle trusts the served certificate, else 0").strongReference(true)
                .register(registry);
        Gauge.builder("webhook.ca.bundle.certificates", serving,
                s -> s.trust().checked() ? s.trust().caBundleCertificates() : Double.NaN)
                .description("CA certificates in the webhook configuration's caBundle").strongReference(true)
                .register(registry);
    }

    static double trusted(ServingCertificate.Trust trust) {
        return !trust.checked() ? Double.NaN : trust.trusted() ? 1 : 0;
    }

    static double servingNotAfter(Optional<X509Certificate> certificate) {
        return certificate.map(c -> (double) c.getNotAfter().toInstant().getEpochSecond()).orElse(Double.NaN);
    }

    static double earliestNotAfter(List<X509Certificate> certificates) {
        return certificates.stream().mapToDouble(c -> c.getNotAfter().toInstant().getEpochSecond()).min().orElse(Double.NaN);
    }
}
