package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.tls.X509Certificates;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The live {@code caBundle} of every webhook of one MutatingWebhookConfiguration, parsed: what the API server trusts
 * when it calls this pod. Framework-free. A webhook with no caBundle, or one that is not PEM, trusts nothing.
 *
 * @param perWebhook the CA certificates of each webhook's caBundle, in configuration order
 */
public record CaBundles(List<List<X509Certificate>> perWebhook) {

    public CaBundles {
        perWebhook = perWebhook.stream().map(List::copyOf).toList();
    }

    /** From each webhook's caBundle as PEM bytes (null or empty when unset). */
    public static CaBundles ofPem(List<byte[]> pems) {
        return new CaBundles(pems.stream().map(X509Certificates::parse).toList());
    }

    /** Whether every webhook trusts {@code certificate}: a CA in each caBundle issued it. */
    public boolean trusts(X509Certificate certificate) {
        return !perWebhook.isEmpty() && perWebhook.stream()
                .allMatch(cas -> cas.stream().anyMatch(ca -> X509Certificates.issuedBy(certificate, ca)));
    }

    /** Whether every webhook's caBundle holds {@code ca} itself. */
    public boolean holds(X509Certificate ca) {
        return !perWebhook.isEmpty() && perWebhook.stream().allMatch(cas -> contains(cas, ca));
    }

    /** Whether every webhook's caBundle holds exactly {@code cas}, in any order. */
    public boolean holdsExactly(List<X509Certificate> cas) {
        return !perWebhook.isEmpty() && perWebhook.stream()
                .allMatch(bundle -> bundle.size() == cas.size() && cas.stream().allMatch(ca -> contains(bundle, ca)));
    }

    /** The most CAs any one webhook's caBundle holds (0 without webhooks). */
    public int largest() {
        return perWebhook.stream().mapToInt(List::size).max().orElse(0);
    }

    /** Every certificate of every webhook's caBundle. */
    public List<X509Certificate> all() {
        List<X509Certificate> all = new ArrayList<>();
        perWebhook.forEach(all::addAll);
        return all;
    }

    static boolean contains(List<X509Certificate> certificates, X509Certificate wanted) {
        byte[] der = der(wanted);
        return certificates.stream().anyMatch(c -> Arrays.equals(der(c), der));
    }

    /** The same certificates in the same order. */
    static boolean sameList(List<X509Certificate> a, List<X509Certificate> b) {
        if (a.size() != b.size()) return false;
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(der(a.get(i)), der(b.get(i)))) return false;
        }
        return true;
    }

    private static byte[] der(X509Certificate certificate) {
        try {
            return certificate.getEncoded();
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a parsed certificate re-encodes", e);
        }
    }
}
