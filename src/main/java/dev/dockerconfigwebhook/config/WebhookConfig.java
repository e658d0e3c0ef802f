package dev.dockerconfigwebhook.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

import java.time.Duration;
import java.util.Optional;

/**
 * Every setting of the webhook's own ({@code webhook.*}; environment variables {@code WEBHOOK_*}), with its default:
 * the one place they are declared. docs/operations.md's configuration reference lists exactly these
 * (ConfigurationReferenceTest); application.properties only overrides them for quarkus:dev and the tests.
 */
@ConfigMapping(prefix = "webhook")
public interface WebhookConfig {

    /** Deny, instead of only warning about, entries whose credentials no {@code auth} can express. */
    @WithDefault("false")
    boolean strict();

    Review review();

    Certificates certificates();

    Tls tls();

    CaBundle caBundle();

    interface Review {
        /**
         * A review must be answered (body received, answer written) within this time of its headers, or its stream is
         * reset (HTTP/2) or its connection closed (HTTP/1): twice the API server's timeoutSeconds of 5 s, so a client
         * that stops sending or reading gives back what it holds then. Keep it above the webhook's timeoutSeconds.
         */
        @WithDefault("10s")
        Duration deadline();
    }

    /** Where the serving certificate comes from. */
    enum Source {
        /** The PEM files of {@link Tls}: a Secret mounted by the kubelet (certs/generate.sh, cert-manager). */
        FILES,
        /** The pods' own CA and TLS Secrets, made and read through the API (certificates.CertificateReconciler). */
        SELF
    }

    interface Certificates {
        /**
         * {@code self} (what deploy/ and the chart set): one reconcile loop per pod keeps a CA Secret and a TLS Secret
         * in {@link #namespace()} and the caBundle of its webhook configuration, in one order, each step read back
         * before the next (a new CA is pending until caBundle trusts it). {@code files}: the PEM files of {@link Tls}
         * (quarkus:dev, the tests, and the script and cert-manager variants).
         */
        @WithDefault("files")
        Source source();

        /** The namespace of the two Secrets: the pod's own (the Deployment sets it from the downward API). */
        Optional<String> namespace();

        /** The Service the certificate is for: its DNS names. */
        @WithDefault("dockerconfig-webhook")
        String service();

        /** The TLS Secret ({@code tls.crt}, {@code tls.key}, {@code ca.crt}). */
        @WithDefault("dockerconfig-webhook-tls")
        String secret();

        /** The CA Secret: the signing CA, and the pending and retired ones while a rotation overlaps. */
        @WithDefault("dockerconfig-webhook-ca")
        String caSecret();

        /**
         * {@code key=value} pairs, comma-separated, put on the Secrets the pods create; never
         * {@code app.kubernetes.io/instance}, which GitOps tools that track by it would prune.
         */
        Optional<String> labels();

        /** The serving certificate's lifetime; it is renewed when a third of it is left. */
        @WithDefault("90d")
        Duration lifetime();

        /** The CA's lifetime; the next CA is made when a third of it is left. */
        @WithDefault("1095d")
        Duration caLifetime();

        /** How long a new CA is trusted before it signs, and a retired one after it stopped. */
        @WithDefault("1h")
        Duration overlap();

        /** How often the reconcile loop runs (every second while the pod is not trusted yet). */
        @WithDefault("10s")
        Duration checkPeriod();
    }

    /**
     * With {@code source=files}: the mounted Secret's files (a whole-volume mount, so rotated files reach the pod),
     * re-read every check period and swapped in when they changed and form a valid pair, without a restart; missing or
     * bad files leave the pod running and not ready, never crashed. (Not quarkus.http.ssl.certificate.*: Quarkus fails
     * the start when those files are missing.)
     */
    interface Tls {
        /** The serving certificate (PEM). */
        @WithDefault("/etc/webhook/tls/tls.crt")
        String cert();

        /** Its private key (PEM). */
        @WithDefault("/etc/webhook/tls/tls.key")
        String key();

        /** The CA(s) the serving certificate chains to: ca.crt of the same Secret. */
        @WithDefault("/etc/webhook/tls/ca.crt")
        String ca();
    }

    /**
     * The caBundle keeper: the loop reads the webhook's own MutatingWebhookConfiguration every check period and keeps
     * every webhook's caBundle at exactly the CAs in use, and readiness requires that the live caBundle trusts what is
     * served. Needs get/update on that one object and egress to the API server.
     */
    interface CaBundle {
        /** {@code false} leaves caBundle entirely to the installer (files only: {@code self} needs it). */
        @WithDefault("true")
        boolean keep();

        /** The MutatingWebhookConfiguration it keeps (the RBAC names the same one). */
        @WithDefault("dockerconfig-webhook")
        String configuration();
    }
}
