package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.certificates.CertificateMaker.Pair;
import dev.dockerconfigwebhook.tls.CertificateWithKey;
import dev.dockerconfigwebhook.tls.X509Certificates;

import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The next step for self-managed certificates, decided from what one pod sees: the CA Secret, the TLS Secret, the live
 * {@code caBundle} of its webhook configuration and the certificate it serves. Framework-free: {@link
 * CertificateReconciler} reads, carries out the one step returned, reads everything back and asks again, until the
 * answer is {@link Steady}.
 *
 * <p>The invariant: nothing is served, and no CA signs, before the live {@code caBundle} of every webhook of the
 * configuration trusts it. So every change goes in one order, each step confirmed by reading it back before the next:
 * <ol>
 * <li>the CA Secret: a new CA is written as <em>pending</em> (when none exists or it cannot be read, or when a third
 * of the signing CA's life is left); a CA that issued a certificate still in use and still trusted is kept as
 * retired;</li>
 * <li>{@code caBundle}: exactly the CAs of the CA Secret (signing, pending, retired), in every webhook;</li>
 * <li>promotion: the pending CA signs once {@code caBundle} trusts it <em>and</em> either the overlap has passed or no
 * trusted certificate is in use (a first install); the old one is retired;</li>
 * <li>the TLS Secret: a serving certificate of the signing CA, once {@code caBundle} trusts that CA; or, when the
 * Secret was deleted, the one this pod serves, written back;</li>
 * <li>retired CAs leave the CA Secret (and then {@code caBundle}) one overlap after they stopped signing, unless a
 * certificate in use still needs them.</li>
 * </ol>
 * A step whose write failed this round (forbidden, say) is {@linkplain Observed#blocked skipped}: the steps that do not
 * depend on it still happen, and {@link Steady#waiting} says what waits.
 *
 * <p>The CA Secret uses the layout of {@code certs/generate.sh}, so either can take over from the other: {@code
 * tls.crt}/{@code tls.key} sign (empty while the only CA is pending); {@code pending.crt}/{@code pending.key} are the next CA ({@code pending-at}: since
 * when); {@code retired.crt} are CAs that stopped signing at {@code retired-at}. The TLS Secret holds {@code tls.crt},
 * {@code tls.key} and {@code ca.crt}, the CAs to trust.
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

    /** A Secret as read: its decoded data, and whether its labels and annotations are already the ones wanted. */
    public record SecretState(Map<String, byte[]> data, boolean metadataCurrent) {
    }

    /** What a step writes to; a target whose write failed this round is skipped until the next. */
    public enum Target {
        CA_SECRET, CA_BUNDLE, TLS_SECRET
    }

    /**
     * One look at everything the plan depends on.
     *
     * @param ca          the CA Secret, null when it does not exist
     * @param tls         the TLS Secret, null when it does not exist
     * @param caBundle    the live caBundle of every webhook of the configuration, or none when the configuration
     *                    does not exist
     * @param bundleFresh whether {@code caBundle} was read just now; false: it is the last one read (the read failed),
     *                    good enough to keep serving but no evidence for a promotion
     * @param held        what this pod serves, if anything
     * @param blocked     targets whose write failed this round
     */
    public record Observed(SecretState ca, SecretState tls, Optional<CaBundles> caBundle, boolean bundleFresh,
            Optional<CertificateWithKey> held, Set<Target> blocked, Instant now) {
    }

    /** The one next step. */
    public sealed interface Step {
        /** What changed, in words (never content), for the log. */
        String why();
    }

    /** Create or update the CA Secret with {@code data}. */
    public record WriteCaSecret(Map<String, byte[]> data, String why) implements Step {
    }

    /** Set the caBundle of every webhook of the configuration to exactly {@code cas}. */
    public record WriteCaBundle(List<X509Certificate> cas, String why) implements Step {
    }

    /** Create or update the TLS Secret with {@code data}. */
    public record WriteTlsSecret(Map<String, byte[]> data, String why) implements Step {
    }

    /**
     * Nothing to write: serve {@code serve} (the TLS Secret's or the held certificate, trusted by caBundle), or nothing
     * when neither is; {@code waiting} says what cannot progress and why (empty when nothing waits).
     */
    public record Steady(Optional<CertificateWithKey> serve, List<String> waiting) implements Step {
        @Override
        public String why() {
            return "steady";
        }
    }

    private CertificatePlan() {
    }

    public static Step next(Observed seen, Settings settings) {
        Instant now = seen.now();
        List<String> waiting = new ArrayList<>();
        Optional<CaBundles> bundle = seen.caBundle();
        boolean caWritable = !seen.blocked().contains(Target.CA_SECRET);
        Optional<CertificateWithKey> tlsPair = pair(seen.tls());
        List<CertificateWithKey> inUse = new ArrayList<>();
        tlsPair.filter(h -> valid(h.certificate(), now)).ifPresent(inUse::add);
        seen.held().filter(h -> valid(h.certificate(), now)).ifPresent(inUse::add);
        List<CertificateWithKey> trustedInUse = inUse.stream().filter(h -> bundle.map(b -> b.trusts(h.certificate())).orElse(false))
                .toList();
        List<X509Certificate> known = knownCertificates(seen, bundle);

        // 1. The CA Secret gains what must be trusted before anything else happens.
        CaState observed = null;
        String unusable = null;
        if (seen.ca() != null) {
            try {
                observed = CaState.read(seen.ca().data());
            } catch (IllegalArgumentException e) {
                unusable = e.getMessage();
            }
        }
        CaState planned = observed == null ? new CaState() : observed.copy();
        List<String> additions = new ArrayList<>();
        if (seen.ca() == null) additions.add("created the CA Secret");
        if (unusable != null) additions.add("the CA Secret cannot be used (" + unusable + "): rewrote it");
        if (planned.pending == null && (planned.signing == null
                || remaining(planned.signing.certificate(), now).compareTo(settings.caLifetime().dividedBy(3)) < 0)) {
            planned.pending = newCa(settings, now);
            planned.pendingAt = now;
            additions.add("created a pending CA: trusted first, signing only once caBundle trusts it");
        } else if (planned.pending != null && planned.pendingAt == null) {
            planned.pendingAt = now; // written by certs/generate.sh --new-ca, which keeps no time: the overlap starts now
            additions.add("the pending CA's overlap starts now");
        }
        for (CertificateWithKey use : trustedInUse) {
            Optional<X509Certificate> issuer = issuerAmong(use.certificate(), known);
            if (issuer.isPresent() && valid(issuer.get(), now) && !planned.holds(issuer.get())) {
                if (planned.retired.isEmpty()) planned.retiredAt = now;
                planned.retired.add(issuer.get());
                additions.add("kept the CA of the certificate in use as retired (still trusted)");
            }
        }
        if (seen.ca() != null && !seen.ca().metadataCurrent() && additions.isEmpty()) {
            additions.add("labels and annotations of the CA Secret updated");
        }
        if (!additions.isEmpty()) {
            if (caWritable) return new WriteCaSecret(planned.data(), String.join("; ", additions));
            waiting.add("the CA Secret cannot be written");
        }
        CaState state = observed; // what the Secret holds: the steps below build on nothing unwritten

        // 2. caBundle: exactly the CAs of the CA Secret, in every webhook.
        if (bundle.isEmpty()) {
            waiting.add("the webhook configuration does not exist");
        } else if (state != null && !bundle.get().holdsExactly(state.all())) {
            if (!seen.bundleFresh()) {
                waiting.add("caBundle differs from the CA Secret but cannot be read");
            } else if (!seen.blocked().contains(Target.CA_BUNDLE)) {
                return new WriteCaBundle(state.all(), "caBundle set to the " + state.all().size()
                        + " CA(s) of the CA Secret (was " + bundle.get().largest() + ")");
            }
            waiting.add("caBundle cannot be written");
        }
        if (state == null) {
            return new Steady(choose(tlsPair, seen.held(), bundle, now), List.copyOf(waiting));
        }

        // 3. Promotion: the pending CA signs once caBundle trusts it, and after the overlap while a trusted
        // certificate is in use.
        if (state.pending != null) {
            boolean trusted = seen.bundleFresh() && bundle.map(b -> b.holds(state.pending.certificate())).orElse(false);
            boolean overlapOver = !now.isBefore(state.pendingAt.plus(settings.overlap()));
            if (trusted && (overlapOver || trustedInUse.isEmpty())) {
                if (caWritable) {
                    CaState promoted = state.copy();
                    if (promoted.signing != null) promoted.retired.add(0, promoted.signing.certificate());
                    if (!promoted.retired.isEmpty()) promoted.retiredAt = now;
                    promoted.signing = promoted.pending;
                    promoted.pending = null;
                    promoted.pendingAt = null;
                    return new WriteCaSecret(promoted.data(), "the pending CA signs from now on (caBundle trusts it)"
                            + (state.signing == null ? "" : "; the previous one stays trusted for the overlap"));
                }
                waiting.add("the pending CA is due to sign but the CA Secret cannot be written");
            } else if (!trusted && overlapOver) {
                waiting.add("the pending CA is due to sign but caBundle does not trust it yet"
                        + (seen.bundleFresh() ? "" : " (caBundle cannot be read)"));
            }
        }

        // 4. The TLS Secret: a certificate of the signing CA once caBundle trusts it, or the held one written back.
        boolean tlsWritable = !seen.blocked().contains(Target.TLS_SECRET);
        byte[] caPem = state.bundle();
        boolean signingTrusted = state.signing != null
                && bundle.map(b -> b.holds(state.signing.certificate())).orElse(false);
        String renewal = state.signing == null ? null : renewalReason(seen.tls(), tlsPair, state.signing, now, settings);
        Optional<CertificateWithKey> restorable = seen.held().filter(h -> trustedInUse.contains(h));
        Map<String, byte[]> tlsData = null;
        String tlsWhy = null;
        if (renewal != null && signingTrusted) {
            Instant notAfter = min(now.plus(settings.lifetime()), state.signing.certificate().getNotAfter().toInstant());
            Pair serving = CertificateMaker.newServing(state.signing, settings.dnsNames(), now.minus(BACKDATE), notAfter);
            tlsData = tlsData(ascii(CertificateMaker.pem(serving.certificate())), ascii(CertificateMaker.pem(serving.key())),
                    caPem);
            tlsWhy = "issued a serving certificate (" + renewal + "), valid until " + notAfter.truncatedTo(ChronoUnit.SECONDS);
        } else if (tlsPair.isEmpty() && restorable.isPresent()) {
            tlsData = tlsData(restorable.get().cert(), restorable.get().key(), caPem);
            tlsWhy = "wrote the served certificate back to the TLS Secret";
        } else if (tlsPair.isPresent() && !sameCertificates(seen.tls().data().get(CA_BUNDLE), caPem)) {
            tlsData = tlsData(tlsPair.get().cert(), tlsPair.get().key(), caPem);
            tlsWhy = "ca.crt of the TLS Secret now holds " + state.all().size() + " CA(s)";
        } else if (tlsPair.isPresent() && !seen.tls().metadataCurrent()) {
            tlsData = new LinkedHashMap<>(seen.tls().data());
            tlsWhy = "labels and annotations of the TLS Secret updated";
        } else if (renewal != null) {
            waiting.add("a serving certificate is due (" + renewal + ") but caBundle does not trust the signing CA");
        }
        if (tlsData != null) {
            if (tlsWritable) return new WriteTlsSecret(tlsData, tlsWhy);
            waiting.add("the TLS Secret cannot be written");
        }

        // 5. Retired CAs leave after their overlap, unless a certificate in use still needs them.
        if (!state.retired.isEmpty()) {
            boolean overlapOver = state.retiredAt == null || !now.isBefore(state.retiredAt.plus(settings.overlap()));
            CaState pruned = state.copy();
            pruned.retired.removeIf(ca -> !valid(ca, now)
                    || overlapOver && inUse.stream().noneMatch(h -> X509Certificates.issuedBy(h.certificate(), ca)));
            if (pruned.retired.size() != state.retired.size()) {
                if (pruned.retired.isEmpty()) pruned.retiredAt = null;
                if (caWritable) {
                    return new WriteCaSecret(pruned.data(), "retired " + (state.retired.size() - pruned.retired.size())
                            + " CA(s): no certificate in use needs them");
                }
                waiting.add("a retired CA is due to leave but the CA Secret cannot be written");
            }
        }
        return new Steady(choose(tlsPair, seen.held(), bundle, now), List.copyOf(waiting));
    }

    /** The TLS Secret's pair when caBundle trusts it, else the held one when it does, else nothing. */
    private static Optional<CertificateWithKey> choose(Optional<CertificateWithKey> tls, Optional<CertificateWithKey> held, Optional<CaBundles> bundle, Instant now) {
        for (Optional<CertificateWithKey> candidate : List.of(tls, held)) {
            if (candidate.isPresent() && valid(candidate.get().certificate(), now)
                    && bundle.map(b -> b.trusts(candidate.get().certificate())).orElse(false)) {
                return candidate;
            }
        }
        return Optional.empty();
    }

    /** The TLS Secret's certificate and key when they are readable and a pair. */
    private static Optional<CertificateWithKey> pair(SecretState tls) {
        if (tls == null) return Optional.empty();
        try {
            byte[] cert = orEmpty(tls.data().get(CERT));
            byte[] key = orEmpty(tls.data().get(KEY));
            X509Certificate certificate = CertificateMaker.certificates(cert).get(0);
            if (!CertificateMaker.matches(CertificateMaker.privateKey(key), certificate)) return Optional.empty();
            return Optional.of(new CertificateWithKey(cert, key, orEmpty(tls.data().get(CA_BUNDLE)), certificate));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** Every CA certificate this pod can see: where the issuer of a certificate in use is looked up. */
    private static List<X509Certificate> knownCertificates(Observed seen, Optional<CaBundles> bundle) {
        List<X509Certificate> known = new ArrayList<>();
        bundle.ifPresent(b -> known.addAll(b.all()));
        if (seen.tls() != null) known.addAll(X509Certificates.parse(seen.tls().data().get(CA_BUNDLE)));
        seen.held().ifPresent(h -> known.addAll(X509Certificates.parse(h.ca())));
        return known;
    }

    private static Optional<X509Certificate> issuerAmong(X509Certificate certificate, List<X509Certificate> cas) {
        return cas.stream().filter(ca -> X509Certificates.issuedBy(certificate, ca)).findFirst();
    }

    /** Why the TLS Secret's serving certificate must be replaced, or null when it is fine. */
    private static String renewalReason(SecretState tls, Optional<CertificateWithKey> pair, Pair signing, Instant now,
            Settings settings) {
        if (tls == null) return "none yet";
        if (pair.isEmpty()) return "the TLS Secret holds no usable certificate and key";
        X509Certificate certificate = pair.get().certificate();
        if (!X509Certificates.issuedBy(certificate, signing.certificate())) return "not signed by the signing CA";
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

    private static boolean sameCertificates(byte[] pem, byte[] expected) {
        return CaBundles.sameList(X509Certificates.parse(pem), X509Certificates.parse(expected));
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

    private static boolean valid(X509Certificate certificate, Instant now) {
        return now.isBefore(certificate.getNotAfter().toInstant());
    }

    private static Duration remaining(X509Certificate certificate, Instant now) {
        return Duration.between(now, certificate.getNotAfter().toInstant());
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }

    private static boolean isEmpty(byte[] value) {
        return value == null || value.length == 0;
    }

    private static byte[] orEmpty(byte[] value) {
        return value == null ? new byte[0] : value;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    /** The CA Secret, read or about to be written. */
    private static final class CaState {
        Pair signing;
        Pair pending;
        Instant pendingAt;
        final List<X509Certificate> retired = new ArrayList<>();
        Instant retiredAt;

        /** The CA Secret's content; {@link IllegalArgumentException} (naming a key, never content) when unusable. */
        static CaState read(Map<String, byte[]> data) {
            CaState state = new CaState();
            if (!isEmpty(data.get(CERT)) || !isEmpty(data.get(KEY))) {
                state.signing = pair(data, CERT, KEY);
            }
            if (data.containsKey(PENDING_CERT)) {
                try {
                    state.pending = pair(data, PENDING_CERT, PENDING_KEY);
                    state.pendingAt = instant(data.get(PENDING_AT));
                } catch (IllegalArgumentException e) {
                    if (state.signing == null) throw e; // nothing usable at all
                    state.pending = null; // an unusable next CA is made again when it is due
                }
            }
            if (data.containsKey(RETIRED)) {
                state.retired.addAll(X509Certificates.parse(data.get(RETIRED))); // unreadable: trusted by nobody
                state.retiredAt = instant(data.get(RETIRED_AT));
            }
            if (state.signing == null && state.pending == null) {
                throw new IllegalArgumentException("it holds no CA");
            }
            return state;
        }

        CaState copy() {
            CaState copy = new CaState();
            copy.signing = signing;
            copy.pending = pending;
            copy.pendingAt = pendingAt;
            copy.retired.addAll(retired);
            copy.retiredAt = retiredAt;
            return copy;
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

        boolean holds(X509Certificate ca) {
            return CaBundles.contains(all(), ca);
        }

        /** Signing, pending, retired: what caBundle and ca.crt hold, in that order. */
        List<X509Certificate> all() {
            List<X509Certificate> all = new ArrayList<>();
            if (signing != null) all.add(signing.certificate());
            if (pending != null) all.add(pending.certificate());
            all.addAll(retired);
            return List.copyOf(all);
        }

        byte[] bundle() {
            return ascii(CertificateMaker.pem(all()));
        }

        Map<String, byte[]> data() {
            Map<String, byte[]> data = new LinkedHashMap<>();
            // A kubernetes.io/tls Secret must have both keys: without a signing CA (a new one still pending) they are
            // there and empty.
            data.put(CERT, signing == null ? new byte[0] : ascii(CertificateMaker.pem(signing.certificate())));
            data.put(KEY, signing == null ? new byte[0] : ascii(CertificateMaker.pem(signing.key())));
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
    }
}
