package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.certificates.CertificateMaker.Pair;
import dev.dockerconfigwebhook.tls.X509Certificates;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What the two certificate Secrets must become, decided from what they hold now: framework-free, so
 * {@link SelfManagedCertificates} only reads, writes and retries.
 *
 * <p>The CA Secret uses the layout of {@code certs/generate.sh}, so either can take over from the other:
 * {@code tls.crt}/{@code tls.key} sign; {@code pending.crt}/{@code pending.key} are the next CA, already trusted but
 * not signing yet ({@code pending-at}: since when); {@code retired.crt} are CAs that stopped signing at
 * {@code retired-at} and stay trusted a while. The TLS Secret holds {@code tls.crt}, {@code tls.key} and
 * {@code ca.crt}, the bundle of every CA to trust (signing, pending, retired).
 *
 * <p>The rules, each safe to apply again:
 * <ol>
 * <li>No CA, or one that cannot be read: a new CA.</li>
 * <li>The signing CA has less than a third of {@code caLifetime} left: a pending CA (it reaches ca.crt and caBundle
 * first).</li>
 * <li>A CA pending for {@code overlap}: it signs from now on; the old one is retired, still trusted.</li>
 * <li>Retired CAs are dropped {@code overlap} after they stopped signing, or when they expire.</li>
 * <li>No serving certificate, or one that is unreadable, not a pair with its key, not signed by the signing CA, for
 * other names, or with less than a third of {@code lifetime} left: a new one, never outliving its CA.</li>
 * </ol>
 */
public final class CertificatePlan {

    /** The keys of the CA Secret, as certs/generate.sh writes them. */
    static final String CERT = "tls.crt", KEY = "tls.key", CA_BUNDLE = "ca.crt", PENDING_CERT = "pending.crt",
            PENDING_KEY = "pending.key", PENDING_AT = "pending-at", RETIRED = "retired.crt", RETIRED_AT = "retired-at";

    /** Certificates start this long before they are made: a node's clock a little behind must not reject them. */
    static final Duration BACKDATE = Duration.ofMinutes(5);

    /**
     * @param service    the Service's name: the CA's name and the first DNS name's first label
     * @param namespace  the Service's namespace
     * @param lifetime   of a serving certificate
     * @param caLifetime of a CA
     * @param overlap    how long a new CA is trusted before it signs, and an old one after it stopped
     */
    public record Settings(String service, String namespace, Duration lifetime, Duration caLifetime, Duration overlap) {
        public Settings {
            if (lifetime.isNegative() || lifetime.isZero() || overlap.isNegative() || overlap.isZero()) {
                throw new IllegalArgumentException("webhook.certificates.lifetime and .overlap must be positive");
            }
            if (caLifetime.dividedBy(3).compareTo(overlap.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("webhook.certificates.ca-lifetime must be at least 6 x overlap: "
                        + "a CA is replaced when a third of its life is left, in two overlap periods");
            }
            if (lifetime.compareTo(caLifetime.dividedBy(3)) > 0) {
                throw new IllegalArgumentException("webhook.certificates.lifetime must be at most a third of ca-lifetime");
            }
        }

        /** The names a client may use for the Service, as certs/generate.sh and cert-manager's Certificate list them. */
        public List<String> dnsNames() {
            return List.of(service + "." + namespace + ".svc", service, service + "." + namespace,
                    service + "." + namespace + ".svc.cluster.local");
        }
    }

    /**
     * The outcome: the new data of each Secret when it must change, and what changed in words (no content) for the log.
     */
    public record Plan(Optional<Map<String, byte[]>> ca, Optional<Map<String, byte[]>> tls, List<String> changes) {
        public boolean changesNothing() {
            return ca.isEmpty() && tls.isEmpty();
        }
    }

    private CertificatePlan() {
    }

    /**
     * @param caData  the CA Secret's data, null when the Secret does not exist
     * @param tlsData the TLS Secret's data, null when the Secret does not exist
     */
    public static Plan plan(Map<String, byte[]> caData, Map<String, byte[]> tlsData, Instant now, Settings settings) {
        List<String> changes = new ArrayList<>();
        CaState ca;
        boolean caChanged = false;
        if (caData == null) {
            ca = CaState.fresh(settings, now);
            caChanged = true;
            changes.add("created a CA");
        } else {
            try {
                ca = CaState.read(caData);
            } catch (IllegalArgumentException e) {
                ca = CaState.fresh(settings, now);
                caChanged = true;
                changes.add("the CA Secret cannot be used (" + e.getMessage() + "): replaced it with a new CA");
            }
        }
        if (ca.pending == null && remaining(ca.signing.certificate(), now).compareTo(settings.caLifetime().dividedBy(3)) < 0) {
            ca.pending = newCa(settings, now);
            ca.pendingAt = now;
            caChanged = true;
            changes.add("created the next CA: trusted from now on, signing after the overlap");
        } else if (ca.pending != null && ca.pendingAt == null) {
            ca.pendingAt = now; // written by certs/generate.sh --new-ca, which keeps no time: the overlap starts now
            caChanged = true;
        }
        if (ca.pending != null && !now.isBefore(ca.pendingAt.plus(settings.overlap()))) {
            ca.retired.add(ca.signing.certificate());
            ca.retiredAt = now;
            ca.signing = ca.pending;
            ca.pending = null;
            ca.pendingAt = null;
            caChanged = true;
            changes.add("the next CA signs from now on; the previous one stays trusted for the overlap");
        }
        if (!ca.retired.isEmpty()) {
            boolean overlapOver = ca.retiredAt == null || !now.isBefore(ca.retiredAt.plus(settings.overlap()));
            int before = ca.retired.size();
            ca.retired.removeIf(c -> overlapOver || !c.getNotAfter().toInstant().isAfter(now));
            if (ca.retired.size() != before) {
                caChanged = true;
                changes.add("dropped " + (before - ca.retired.size()) + " retired CA(s) from ca.crt");
            }
            if (ca.retired.isEmpty()) ca.retiredAt = null;
        }

        byte[] bundle = ca.bundle();
        Optional<Map<String, byte[]>> tls = Optional.empty();
        String renewal = renewalReason(tlsData, ca.signing.certificate(), now, settings);
        if (renewal != null) {
            Instant notAfter = min(now.plus(settings.lifetime()), ca.signing.certificate().getNotAfter().toInstant());
            Pair serving = CertificateMaker.newServing(ca.signing, settings.dnsNames(), now.minus(BACKDATE), notAfter);
            tls = Optional.of(tlsData(CertificateMaker.pem(serving.certificate()).getBytes(StandardCharsets.US_ASCII),
                    CertificateMaker.pem(serving.key()).getBytes(StandardCharsets.US_ASCII), bundle));
            changes.add("issued a serving certificate (" + renewal + "), valid until "
                    + notAfter.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        } else if (!Arrays.equals(tlsData.get(CA_BUNDLE), bundle)) {
            tls = Optional.of(tlsData(tlsData.get(CERT), tlsData.get(KEY), bundle));
            changes.add("ca.crt of the serving certificate now holds " + ca.count() + " CA(s)");
        }
        return new Plan(caChanged ? Optional.of(ca.data()) : Optional.empty(), tls, List.copyOf(changes));
    }

    /** Why the serving certificate must be replaced, or null when it is fine. */
    private static String renewalReason(Map<String, byte[]> tlsData, X509Certificate signingCa, Instant now,
            Settings settings) {
        if (tlsData == null) return "none yet";
        X509Certificate certificate;
        PrivateKey key;
        try {
            certificate = CertificateMaker.certificates(orEmpty(tlsData.get(CERT))).get(0);
            key = CertificateMaker.privateKey(orEmpty(tlsData.get(KEY)));
        } catch (IllegalArgumentException e) {
            return "the Secret's " + e.getMessage();
        }
        if (!CertificateMaker.matches(key, certificate)) return "tls.key is not the key of tls.crt";
        if (!X509Certificates.issuedBy(certificate, signingCa)) return "not signed by the signing CA";
        if (remaining(certificate, now).compareTo(settings.lifetime().dividedBy(3)) < 0) return "a third of its life left";
        if (!dnsNames(certificate).equals(new HashSet<>(settings.dnsNames()))) return "for other DNS names";
        return null;
    }

    private static Set<String> dnsNames(X509Certificate certificate) {
        Set<String> names = new HashSet<>();
        try {
            if (certificate.getSubjectAlternativeNames() != null) {
                for (List<?> name : certificate.getSubjectAlternativeNames()) {
                    if (Integer.valueOf(2).equals(name.get(0))) names.add(String.valueOf(name.get(1)));
                }
            }
        } catch (CertificateParsingException e) {
            // no names: renewed
        }
        return names;
    }

    private static Map<String, byte[]> tlsData(byte[] cert, byte[] key, byte[] bundle) {
        Map<String, byte[]> data = new LinkedHashMap<>();
        data.put(CERT, cert);
        data.put(KEY, key);
        data.put(CA_BUNDLE, bundle);
        return data;
    }

    private static Pair newCa(Settings settings, Instant now) {
        return CertificateMaker.newCa(settings.service() + "-ca", now.minus(BACKDATE), now.plus(settings.caLifetime()));
    }

    private static Duration remaining(X509Certificate certificate, Instant now) {
        return Duration.between(now, certificate.getNotAfter().toInstant());
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static byte[] orEmpty(byte[] value) {
        return value == null ? new byte[0] : value;
    }

    /** The CA Secret, read or about to be written. */
    private static final class CaState {
        Pair signing;
        Pair pending;
        Instant pendingAt;
        final List<X509Certificate> retired = new ArrayList<>();
        Instant retiredAt;

        static CaState fresh(Settings settings, Instant now) {
            CaState state = new CaState();
            state.signing = newCa(settings, now);
            return state;
        }

        static CaState read(Map<String, byte[]> data) {
            CaState state = new CaState();
            state.signing = pair(data, CERT, KEY);
            if (data.containsKey(PENDING_CERT)) {
                try {
                    state.pending = pair(data, PENDING_CERT, PENDING_KEY);
                    state.pendingAt = instant(data.get(PENDING_AT));
                } catch (IllegalArgumentException e) {
                    state.pending = null; // an unusable next CA is made again when it is due
                }
            }
            if (data.containsKey(RETIRED)) {
                try {
                    state.retired.addAll(CertificateMaker.certificates(data.get(RETIRED)));
                    state.retiredAt = instant(data.get(RETIRED_AT));
                } catch (IllegalArgumentException e) {
                    // unreadable: trusted by nobody anyway
                }
            }
            return state;
        }

        private static Pair pair(Map<String, byte[]> data, String certKey, String keyKey) {
            X509Certificate certificate;
            try {
                certificate = CertificateMaker.certificates(orEmpty(data.get(certKey))).get(0);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(certKey + ": " + e.getMessage());
            }
            PrivateKey key;
            try {
                key = CertificateMaker.privateKey(orEmpty(data.get(keyKey)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(keyKey + ": " + e.getMessage());
            }
            if (!CertificateMaker.matches(key, certificate)) {
                throw new IllegalArgumentException(keyKey + " is not the key of " + certKey);
            }
            return new Pair(key, certificate);
        }

        private static Instant instant(byte[] epochSeconds) {
            if (epochSeconds == null) return null;
            try {
                return Instant.ofEpochSecond(Long.parseLong(new String(epochSeconds, StandardCharsets.US_ASCII).strip()));
            } catch (NumberFormatException e) {
                return null;
            }
        }

        int count() {
            return 1 + (pending == null ? 0 : 1) + retired.size();
        }

        byte[] bundle() {
            List<X509Certificate> all = new ArrayList<>();
            all.add(signing.certificate());
            if (pending != null) all.add(pending.certificate());
            all.addAll(retired);
            return CertificateMaker.pem(all).getBytes(StandardCharsets.US_ASCII);
        }

        Map<String, byte[]> data() {
            Map<String, byte[]> data = new LinkedHashMap<>();
            data.put(CERT, ascii(CertificateMaker.pem(signing.certificate())));
            data.put(KEY, ascii(CertificateMaker.pem(signing.key())));
            if (pending != null) {
                data.put(PENDING_CERT, ascii(CertificateMaker.pem(pending.certificate())));
                data.put(PENDING_KEY, ascii(CertificateMaker.pem(pending.key())));
                data.put(PENDING_AT, ascii(String.valueOf(pendingAt.getEpochSecond())));
            }
            if (!retired.isEmpty()) {
                data.put(RETIRED, ascii(CertificateMaker.pem(retired)));
                data.put(RETIRED_AT, ascii(String.valueOf(retiredAt.getEpochSecond())));
            }
            return data;
        }

        private static byte[] ascii(String text) {
            return text.getBytes(StandardCharsets.US_ASCII);
        }
    }
}
