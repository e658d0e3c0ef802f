package dev.dockerconfigwebhook.tls;

/** {@code webhook.certificates.source}: where the serving certificate comes from ({@code files} or {@code self}). */
public enum CertificateSource {
    /** The PEM files {@code webhook.tls.cert}, {@code .key} and {@code .ca}: a Secret mounted by the kubelet. */
    FILES,
    /** The pods' own CA and TLS Secrets, read from the API (certificates.CertificateReconciler). */
    SELF
}
