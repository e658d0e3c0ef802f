package dev.dockerconfigwebhook.cabundle;

import dev.dockerconfigwebhook.tls.X509Certificates;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Decides whether a webhook's {@code caBundle} lets the API server verify the certificate this pod serves, and if not,
 * what it must become: framework-free, so {@link CaBundleKeeper} only fetches and stores.
 *
 * <p>The rule only ever <em>adds</em> trust: the CAs of the served certificate's {@code ca.crt} that are missing are
 * appended and every CA already there stays. Adding a CA never breaks a call; removing one can, so removal is left to the one who
 * rotates (certs/generate.sh, or cert-manager's injector), who knows when no pod serves a certificate of it any more.
 */
public final class CaBundle {

    private CaBundle() {
    }

    /** What the keeper should do with one webhook's {@code caBundle}. */
    public sealed interface Verdict {
    }

    /** The bundle already trusts the served certificate: leave it alone. */
    public record Trusted() implements Verdict {
    }

    /** The bundle does not trust the served certificate; {@code bundle} does (the old one plus {@code added} CAs). */
    public record Heal(byte[] bundle, int added) implements Verdict {
    }

    /** Nothing in ca.crt would make it trusted; {@code reason} names the problem (never content). */
    public record CannotHeal(String reason) implements Verdict {
    }

    /**
     * @param caBundle     the webhook's current {@code caBundle} (PEM), empty or null when unset
     * @param served       the certificate this pod serves
     * @param caCrt        the certificates of {@code ca.crt}, in file order
     * @param trustEveryCa add every CA of {@code ca.crt} that is missing even while the served certificate is trusted:
     *                     with self-managed certificates a new CA is in {@code ca.crt} before anything is signed with
     *                     it, and must reach caBundle before it does
     */
    public static Verdict judge(byte[] caBundle, X509Certificate served, List<X509Certificate> caCrt,
            boolean trustEveryCa) {
        List<X509Certificate> trusted = X509Certificates.parse(caBundle);
        boolean servedTrusted = issuedByAny(served, trusted);
        if (servedTrusted && (!trustEveryCa || containsAll(trusted, caCrt))) {
            return new Trusted();
        }
        if (!servedTrusted && !issuedByAny(served, caCrt)) {
            return new CannotHeal(caCrt.isEmpty() ? "ca.crt has no certificate"
                    : "no certificate in ca.crt issued the serving certificate");
        }
        StringBuilder pem = new StringBuilder();
        boolean keepOld = !trusted.isEmpty();
        if (keepOld) {
            pem.append(new String(caBundle, StandardCharsets.US_ASCII).strip()).append('\n');
        }
        int added = 0;
        for (X509Certificate ca : caCrt) {
            if (!contains(trusted, ca)) {
                pem.append(toPem(ca));
                trusted = append(trusted, ca);
                added++;
            }
        }
        return new Heal(pem.toString().getBytes(StandardCharsets.US_ASCII), added);
    }

    private static boolean containsAll(List<X509Certificate> certificates, List<X509Certificate> wanted) {
        for (X509Certificate one : wanted) {
            if (!contains(certificates, one)) return false;
        }
        return true;
    }

    /** Whether one of {@code cas} signed {@code certificate} (or is it). */
    static boolean issuedByAny(X509Certificate certificate, List<X509Certificate> cas) {
        return cas.stream().anyMatch(ca -> X509Certificates.issuedBy(certificate, ca));
    }

    private static boolean contains(List<X509Certificate> certificates, X509Certificate wanted) {
        try {
            byte[] der = wanted.getEncoded();
            for (X509Certificate c : certificates) {
                if (Arrays.equals(c.getEncoded(), der)) return true;
            }
            return false;
        } catch (CertificateEncodingException e) {
            return false;
        }
    }

    private static List<X509Certificate> append(List<X509Certificate> list, X509Certificate one) {
        List<X509Certificate> copy = new ArrayList<>(list);
        copy.add(one);
        return copy;
    }

    static String toPem(X509Certificate certificate) {
        try {
            return "-----BEGIN CERTIFICATE-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(certificate.getEncoded())
                    + "\n-----END CERTIFICATE-----\n";
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException("a parsed certificate re-encodes", e);
        }
    }
}
