package dev.dockerconfigwebhook.tls;

import java.security.cert.X509Certificate;

/**
 * A serving certificate with its private key and its CA bundle, as PEM (kept in memory only), and the certificate
 * parsed: what a TLS Secret holds and what a pod serves.
 */
public record CertificateWithKey(byte[] cert, byte[] key, byte[] ca, X509Certificate certificate) {
}
