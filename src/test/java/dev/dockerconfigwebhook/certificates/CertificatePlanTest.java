package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.certificates.CertificatePlan.Plan;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Settings;
import dev.dockerconfigwebhook.tls.X509Certificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The self-managed certificate rules on real certificates, without a cluster: the plan's output is applied to two maps
 * standing for the Secrets, and the results are checked (who signed what, what ca.crt trusts, what expires when).
 */
class CertificatePlanTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** Serving 30 days, CA 180 days, overlap 1 day: renewal after 20 days, next CA after 120 days. */
    private static final Settings SETTINGS = new Settings("dcw", "team", Duration.ofDays(30), Duration.ofDays(180),
            Duration.ofDays(1));

    /** The two Secrets' data, as the API server would hold them after each write. */
    private static final class Secrets {
        Map<String, byte[]> ca;
        Map<String, byte[]> tls;

        Plan step(Instant now) {
            Plan plan = CertificatePlan.plan(ca, tls, now, SETTINGS);
            plan.ca().ifPresent(d -> ca = d);
            plan.tls().ifPresent(d -> tls = d);
            return plan;
        }

        X509Certificate served() {
            return CertificateMaker.certificates(tls.get("tls.crt")).get(0);
        }

        X509Certificate signingCa() {
            return CertificateMaker.certificates(ca.get("tls.crt")).get(0);
        }

        List<X509Certificate> trusted() {
            return CertificateMaker.certificates(tls.get("ca.crt"));
        }
    }

    @Test
    void fromNothingOneCaAndAServingCertificateOfItThenNothingMore() throws Exception {
        Secrets secrets = new Secrets();
        Plan first = secrets.step(T0);
        assertTrue(first.ca().isPresent() && first.tls().isPresent(), "both Secrets are created");
        assertTrue(X509Certificates.issuedBy(secrets.served(), secrets.signingCa()));
        assertEquals(List.of(secrets.signingCa()), secrets.trusted(), "ca.crt is the CA");
        assertTrue(CertificateMaker.matches(CertificateMaker.privateKey(secrets.tls.get("tls.key")), secrets.served()));
        assertEquals(Set.of("dcw.team.svc", "dcw", "dcw.team", "dcw.team.svc.cluster.local"), dnsNames(secrets.served()));
        assertEquals("CN=dcw.team.svc", secrets.served().getSubjectX500Principal().getName());
        assertEquals(List.of("serverAuth"), secrets.served().getExtendedKeyUsage().stream()
                .map(o -> o.equals("1.3.6.1.5.5.7.3.1") ? "serverAuth" : o).toList());
        assertTrue(secrets.signingCa().getBasicConstraints() >= 0, "the CA is a CA");
        assertEquals(-1, secrets.served().getBasicConstraints(), "the serving certificate is not");
        assertEquals(T0.plus(Duration.ofDays(30)), secrets.served().getNotAfter().toInstant());
        assertTrue(secrets.served().getNotBefore().toInstant().isBefore(T0), "backdated for clock skew");

        assertTrue(secrets.step(T0.plusSeconds(10)).changesNothing(), "a second look changes nothing");
        assertTrue(secrets.step(T0.plus(Duration.ofDays(19))).changesNothing(), "two thirds of its life: kept");
    }

    @Test
    void aCaRotationTrustsTheNextCaBeforeItSignsAndTheOldOneAfter() {
        Secrets secrets = new Secrets();
        secrets.step(T0);
        X509Certificate firstCa = secrets.signingCa();

        // Renewal: a third of the serving certificate's life left; same CA.
        X509Certificate before = secrets.served();
        Plan renewal = secrets.step(T0.plus(Duration.ofDays(21)));
        assertTrue(renewal.ca().isEmpty() && renewal.tls().isPresent(), renewal.changes().toString());
        assertNotEquals(before, secrets.served());
        assertTrue(X509Certificates.issuedBy(secrets.served(), firstCa));

        // A third of the CA's life left: the next CA is trusted, nothing is signed with it yet.
        Instant due = T0.plus(Duration.ofDays(121));
        X509Certificate servedBeforeRotation = renewUntil(secrets, due);
        Plan next = secrets.step(due);
        assertTrue(next.ca().isPresent(), next.changes().toString());
        assertEquals(firstCa, secrets.signingCa(), "the old CA still signs");
        assertEquals(2, secrets.trusted().size(), "ca.crt trusts both");
        X509Certificate nextCa = secrets.trusted().get(1);
        assertEquals(servedBeforeRotation, secrets.served(), "the serving certificate is kept; only its ca.crt grew");
        assertTrue(secrets.step(due.plus(Duration.ofHours(23))).changesNothing(), "within the overlap: nothing");

        // After the overlap: the next CA signs, the old one stays trusted.
        Instant promoted = due.plus(Duration.ofDays(1));
        Plan promotion = secrets.step(promoted);
        assertTrue(promotion.ca().isPresent() && promotion.tls().isPresent(), promotion.changes().toString());
        assertEquals(nextCa, secrets.signingCa());
        assertTrue(X509Certificates.issuedBy(secrets.served(), nextCa), "served certificates now come from the next CA");
        assertEquals(List.of(nextCa, firstCa), secrets.trusted(), "the old CA is still trusted");

        // After another overlap the old CA is dropped.
        Plan drop = secrets.step(promoted.plus(Duration.ofDays(1)));
        assertTrue(drop.ca().isPresent() && drop.tls().isPresent(), drop.changes().toString());
        assertEquals(List.of(nextCa), secrets.trusted());
        assertFalse(secrets.ca.containsKey("retired.crt"));
    }

    private static X509Certificate renewUntil(Secrets secrets, Instant until) {
        for (Instant t = T0; t.isBefore(until.minus(Duration.ofDays(1))); t = t.plus(Duration.ofDays(1))) {
            secrets.step(t);
        }
        return secrets.served();
    }

    @Test
    void aServingCertificateNeverOutlivesItsCa() {
        Secrets secrets = new Secrets();
        // A CA with 40 days left, and no rotation yet: a serving certificate of 30 days would fit, 60 would not.
        Settings longServing = new Settings("dcw", "team", Duration.ofDays(60), Duration.ofDays(180), Duration.ofDays(1));
        Instant late = T0.plus(Duration.ofDays(140));
        Map<String, byte[]> ca = CertificatePlan.plan(null, null, T0, longServing).ca().orElseThrow();
        Plan plan = CertificatePlan.plan(ca, null, late, longServing);
        secrets.ca = plan.ca().orElse(ca);
        secrets.tls = plan.tls().orElseThrow();
        X509Certificate oldCa = CertificateMaker.certificates(ca.get("tls.crt")).get(0);
        assertTrue(X509Certificates.issuedBy(secrets.served(), oldCa), "the old CA still signs during its overlap");
        assertEquals(oldCa.getNotAfter(), secrets.served().getNotAfter());
    }

    /** A change to a Secret someone made by hand, and what the next plan must do about it. */
    record Tamper(UnaryOperator<Secrets> change, String expect) {
    }

    static Stream<Arguments> tampering() {
        return Stream.of(
                Arguments.of("CA Secret with a garbage certificate: a new CA, and a certificate of it", new Tamper(s -> {
                    s.ca.put("tls.crt", "not pem".getBytes(StandardCharsets.US_ASCII));
                    return s;
                }, "new CA")),
                Arguments.of("CA key of another CA: a new CA", new Tamper(s -> {
                    s.ca.put("tls.key", CertificatePlan.plan(null, null, T0, SETTINGS).ca().orElseThrow().get("tls.key"));
                    return s;
                }, "new CA")),
                Arguments.of("serving key of another certificate: reissued", new Tamper(s -> {
                    s.tls.put("tls.key", CertificatePlan.plan(null, null, T0, SETTINGS).tls().orElseThrow().get("tls.key"));
                    return s;
                }, "reissued")),
                Arguments.of("serving certificate missing: reissued", new Tamper(s -> {
                    s.tls.remove("tls.crt");
                    return s;
                }, "reissued")),
                Arguments.of("serving certificate of another CA: reissued by ours", new Tamper(s -> {
                    s.tls = CertificatePlan.plan(null, null, T0, SETTINGS).tls().orElseThrow();
                    return s;
                }, "reissued")),
                Arguments.of("ca.crt emptied: restored, certificate kept", new Tamper(s -> {
                    s.tls.put("ca.crt", new byte[0]);
                    return s;
                }, "bundle")),
                Arguments.of("TLS Secret deleted: reissued", new Tamper(s -> {
                    s.tls = null;
                    return s;
                }, "reissued")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tampering")
    void repairsWhatWasChangedByHand(String name, Tamper tamper) {
        Secrets secrets = new Secrets();
        secrets.step(T0);
        X509Certificate ca = secrets.signingCa();
        byte[] servedCert = secrets.tls.get("tls.crt");
        tamper.change().apply(secrets);
        Plan plan = secrets.step(T0.plusSeconds(60));
        assertTrue(X509Certificates.issuedBy(secrets.served(), secrets.signingCa()), plan.changes().toString());
        assertTrue(CertificateMaker.matches(CertificateMaker.privateKey(secrets.tls.get("tls.key")), secrets.served()));
        assertEquals(List.of(secrets.signingCa()), secrets.trusted());
        switch (tamper.expect()) {
            case "new CA" -> assertNotEquals(ca, secrets.signingCa());
            case "reissued" -> {
                assertEquals(ca, secrets.signingCa(), "the CA is kept");
                assertTrue(plan.ca().isEmpty());
            }
            case "bundle" -> assertEquals(new String(servedCert, StandardCharsets.US_ASCII),
                    new String(secrets.tls.get("tls.crt"), StandardCharsets.US_ASCII));
            default -> throw new AssertionError(tamper.expect());
        }
        assertTrue(secrets.step(T0.plusSeconds(61)).changesNothing(), "repaired once, then stable");
    }

    @Test
    void adoptsACaMadeByTheScript(@TempDir Path out) throws Exception {
        assumeTrue(new ProcessBuilder("openssl", "version").start().waitFor() == 0, "needs openssl");
        Process script = new ProcessBuilder("bash", "certs/generate.sh", "--out", out.toString())
                .redirectErrorStream(true).start();
        script.getInputStream().readAllBytes();
        assertEquals(0, script.waitFor());
        // What --apply stores in the CA Secret: tls.crt and tls.key, the key in openssl's SEC1 EC format (a key pair to
        // the PEM parser), not the PKCS#8 this application writes.
        Map<String, byte[]> ca = new HashMap<>();
        ca.put("tls.crt", Files.readAllBytes(out.resolve("ca.crt")));
        ca.put("tls.key", Files.readAllBytes(out.resolve("ca.key")));
        try (var parser = new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(out.resolve("ca.key")))) {
            assertTrue(parser.readObject() instanceof org.bouncycastle.openssl.PEMKeyPair, "the format under test");
        }
        X509Certificate scriptCa = CertificateMaker.certificates(ca.get("tls.crt")).get(0);
        Plan plan = CertificatePlan.plan(ca, null, Instant.now(), SETTINGS);
        assertTrue(plan.ca().isEmpty(), "the script's CA is kept: " + plan.changes());
        X509Certificate served = CertificateMaker.certificates(plan.tls().orElseThrow().get("tls.crt")).get(0);
        assertTrue(X509Certificates.issuedBy(served, scriptCa));
    }

    @Test
    void settingsThatCannotWorkAreRefusedWithTheReason() {
        IllegalArgumentException shortCa = assertThrows(IllegalArgumentException.class,
                () -> new Settings("s", "n", Duration.ofDays(1), Duration.ofDays(3), Duration.ofDays(1)));
        assertTrue(shortCa.getMessage().contains("6 x overlap"), shortCa.getMessage());
        IllegalArgumentException longServing = assertThrows(IllegalArgumentException.class,
                () -> new Settings("s", "n", Duration.ofDays(90), Duration.ofDays(180), Duration.ofHours(1)));
        assertTrue(longServing.getMessage().contains("a third of ca-lifetime"), longServing.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new Settings("s", "n", Duration.ZERO, Duration.ofDays(180), Duration.ofHours(1)));
    }

    @Test
    void durationsAreLoggedAsTheSettingsWriteThem() {
        assertEquals("90d", SelfManagedCertificates.shortly(Duration.ofDays(90)));
        assertEquals("1h", SelfManagedCertificates.shortly(Duration.ofHours(1)));
        assertEquals("20s", SelfManagedCertificates.shortly(Duration.ofSeconds(20)));
        assertEquals("PT0.5S", SelfManagedCertificates.shortly(Duration.ofMillis(500)));
    }

    @Test
    void labelsAreParsedFromTheDeploymentsText() {
        assertEquals(Map.of("app.kubernetes.io/instance", "acme", "dockerconfig-webhook/skip", "true"),
                SelfManagedCertificates.parseLabels("app.kubernetes.io/instance=acme, dockerconfig-webhook/skip=true,"));
        assertEquals(Map.of(), SelfManagedCertificates.parseLabels(""));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> SelfManagedCertificates.parseLabels("novalue"));
        assertTrue(bad.getMessage().contains("key=value"));
    }

    private static Set<String> dnsNames(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).collect(Collectors.toSet());
    }
}
