package dev.dockerconfigwebhook.tls;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** Reading PEM certificate bundles and checking who signed what: one place for the serving, caBundle and CA code. */
public final class X509Certificates {

    private X509Certificates() {
    }

    /** The certificates of a PEM bundle, in order; none when it is empty or not PEM (such a bundle trusts nothing). */
    public static List<X509Certificate> parse(byte[] pem) {
        if (pem == null || pem.length == 0) {
            return List.of();
        }
        try {
            List<X509Certificate> certificates = new ArrayList<>();
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                certificates.add((X509Certificate) c);
            }
            return List.copyOf(certificates);
        } catch (GeneralSecurityException | RuntimeException e) {
            return List.of();
        }
    }

    /** Whether {@code ca} signed {@code certificate} (or is it): a one-step chain, as the webhook's issuers make. */
    public static boolean issuedBy(X509Certificate certificate, X509Certificate ca) {
        if (!ca.getSubjectX500Principal().equals(certificate.getIssuerX500Principal())) {
            return false;
        }
        try {
            certificate.verify(ca.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException e) {
            return false; // same name, other key (a rotated CA)
        }
    }
}
