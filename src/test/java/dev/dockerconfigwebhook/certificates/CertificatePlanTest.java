package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.certificates.CertificatePlan.Observed;
import dev.dockerconfigwebhook.certificates.CertificatePlan.SecretState;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Settings;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Steady;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Step;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Target;
import dev.dockerconfigwebhook.certificates.CertificatePlan.WriteCaBundle;
import dev.dockerconfigwebhook.certificates.CertificatePlan.WriteCaSecret;
import dev.dockerconfigwebhook.certificates.CertificatePlan.WriteTlsSecret;
import dev.dockerconfigwebhook.tls.CertificateWithKey;
import dev.dockerconfigwebhook.tls.X509Certificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The self-managed certificate rules on real certificates, without a cluster: a {@link World} stands for the two
 * Secrets, the webhook configuration's caBundle and what one pod serves; each step the plan returns is applied to it,
 * as the reconcile loop applies it to the API server. After every step the invariant is checked: what is served, and
 * every serving certificate in the TLS Secret, is trusted by the caBundle of every webhook.
 */
class CertificatePlanTest {

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** Serving 30 days, CA 180 days, overlap 1 day: renewal after 20 days, next CA after 120 days. */
    private static final Settings SETTINGS = new Settings("dcw", "team", Duration.ofDays(30), Duration.ofDays(180),
            Duration.ofDays(1));

    /** The objects the plan looks at, as the API server would hold them after each write, and what the pod serves. */
    static final class World {
        final Settings settings;
        Map<String, byte[]> ca;
        Map<String, byte[]> tls;
        /** caBundle of each webhook; null: the configuration does not exist. */
        List<List<X509Certificate>> bundles = new ArrayList<>(List.of(List.of()));
        CertificateWithKey served;
        final Set<Target> blocked = EnumSet.noneOf(Target.class);
        final List<Class<?>> steps = new ArrayList<>();
        Steady last;

        World() {
            this(SETTINGS);
        }

        World(Settings settings) {
            this.settings = settings;
        }

        /** Looks once a day from {@code from} to {@code until}, as the loop would (renewals happen on the way). */
        World dailyUntil(Instant from, Instant until) {
            for (Instant t = from; t.isBefore(until); t = t.plus(Duration.ofDays(1))) settle(t);
            return this;
        }

        /** Applies steps until the plan is steady, checking the invariant after each; returns the steady answer. */
        Steady settle(Instant now) {
            steps.clear();
            for (int i = 0; i < 20; i++) {
                Step step = CertificatePlan.next(observed(now), settings);
                steps.add(step.getClass());
                if (step instanceof Steady steady) {
                    steady.serve().ifPresent(s -> served = s);
                    assertInvariant(now);
                    last = steady;
                    return steady;
                } else if (step instanceof WriteCaSecret write) {
                    ca = new HashMap<>(write.data());
                } else if (step instanceof WriteTlsSecret write) {
                    tls = new HashMap<>(write.data());
                    X509Certificate issued = CertificateMaker.certificates(tls.get("tls.crt")).get(0);
                    assertTrue(bundles().trusts(issued), "a TLS Secret is written only with a trusted certificate");
                } else if (step instanceof WriteCaBundle write) {
                    bundles.replaceAll(b -> write.cas());
                }
                assertInvariant(now);
            }
            throw new AssertionError("not steady after 20 steps: " + steps);
        }

        Observed observed(Instant now) {
            return new Observed(ca == null ? null : new SecretState(ca, true), tls == null ? null : new SecretState(tls, true),
                    Optional.ofNullable(bundles).map(b -> bundles()), true, Optional.ofNullable(served), blocked, now);
        }

        CaBundles bundles() {
            return new CaBundles(bundles);
        }

        void assertInvariant(Instant now) {
            if (served != null && now.isBefore(served.certificate().getNotAfter().toInstant())) {
                assertTrue(bundles != null && bundles().trusts(served.certificate()),
                        "the served certificate is trusted by every webhook's caBundle");
            }
            if (bundles != null) assertTrue(bundles().largest() <= 3, "caBundle holds at most three CAs");
        }

        X509Certificate servedCertificate() {
            return served.certificate();
        }

        Optional<X509Certificate> signingCa() {
            return ca.get("tls.crt") != null && ca.get("tls.crt").length > 0 ? Optional.of(CertificateMaker.certificates(ca.get("tls.crt")).get(0))
                    : Optional.empty();
        }

        Optional<X509Certificate> pendingCa() {
            return ca.containsKey("pending.crt") ? Optional.of(CertificateMaker.certificates(ca.get("pending.crt")).get(0))
                    : Optional.empty();
        }

        List<X509Certificate> bundle() {
            return bundles.get(0);
        }

        List<X509Certificate> tlsCaCrt() {
            return X509Certificates.parse(tls.get("ca.crt"));
        }
    }

    /** A world that reached steady state from nothing at T0. */
    private static World installed() {
        World world = new World();
        world.settle(T0);
        return world;
    }

    /** One transition: from the world {@code given} at {@code at}, the plan's next step, and what it says. */
    record StepRow(Supplier<World> given, Instant at, Class<? extends Step> step, String says) {
    }

    private static final Instant DUE = T0.plus(Duration.ofDays(121)); // the next CA is made (a third of 180 days left)

    static Stream<Arguments> steps() {
        return Stream.of(
                row("nothing: a pending CA goes into the CA Secret", () -> fromNothing(0), T0, WriteCaSecret.class,
                        "created a pending CA"),
                row("pending, not in caBundle: caBundle gains it", () -> fromNothing(1), T0, WriteCaBundle.class,
                        "caBundle set to the 1 CA(s)"),
                row("pending in caBundle, nothing in use: it signs at once", () -> fromNothing(2), T0,
                        WriteCaSecret.class, "the pending CA signs"),
                row("signing CA trusted, no TLS Secret: a serving certificate", () -> fromNothing(3), T0,
                        WriteTlsSecret.class, "issued a serving certificate"),
                row("all in place: steady", () -> fromNothing(4), T0, Steady.class, ""),
                row("broken CA Secret: rewritten with a new pending CA", () -> {
                    World w = installed();
                    w.ca.put("tls.crt", "not pem".getBytes(StandardCharsets.US_ASCII));
                    return w;
                }, T0.plusSeconds(1), WriteCaSecret.class, "the CA Secret cannot be used (tls.crt: no PEM certificate)"),
                row("a third of the CA's life left: a pending CA", () -> installed().dailyUntil(T0, DUE), DUE,
                        WriteCaSecret.class, "created a pending CA"),
                row("pending without trust, past the overlap: no promotion, and why", CertificatePlanTest::pendingUntrusted,
                        DUE.plus(Duration.ofDays(2)), Steady.class, "caBundle does not trust it yet"),
                row("pending with trust, within the overlap: steady", CertificatePlanTest::pendingTrusted,
                        DUE.plus(Duration.ofHours(12)), Steady.class, ""),
                row("pending with trust, past the overlap: it signs", CertificatePlanTest::pendingTrusted,
                        DUE.plus(Duration.ofDays(1)), WriteCaSecret.class, "the pending CA signs"),
                row("retired within the overlap: kept", CertificatePlanTest::justPromoted,
                        DUE.plus(Duration.ofDays(1)).plus(Duration.ofHours(12)), Steady.class, ""),
                row("retired past the overlap: dropped", CertificatePlanTest::justPromoted,
                        DUE.plus(Duration.ofDays(2)), WriteCaSecret.class, "retired 1 CA(s)"),
                row("foreign CA in caBundle: removed", () -> {
                    World w = installed();
                    w.bundles.replaceAll(b -> List.of(b.get(0), installed().signingCa().orElseThrow()));
                    return w;
                }, T0.plusSeconds(1), WriteCaBundle.class, "caBundle set to the 1 CA(s) of the CA Secret (was 2)"),
                row("no configuration: nothing to trust, and why", () -> {
                    World w = installed();
                    w.bundles = null;
                    return w;
                }, T0.plusSeconds(1), Steady.class, "the webhook configuration does not exist"));
    }

    private static Arguments row(String name, Supplier<World> given, Instant at, Class<? extends Step> step, String says) {
        return Arguments.of(name, new StepRow(given, at, step, says));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("steps")
    void eachTransitionIsOneStep(String name, StepRow row) {
        World world = row.given().get();
        Step step = CertificatePlan.next(world.observed(row.at()), world.settings);
        assertEquals(row.step(), step.getClass(), step.why());
        if (step instanceof Steady steady) {
            assertEquals(row.says().isEmpty(), steady.waiting().isEmpty(), steady.waiting().toString());
            if (!row.says().isEmpty()) {
                assertTrue(steady.waiting().stream().anyMatch(w -> w.contains(row.says())), steady.waiting().toString());
            }
        } else {
            assertTrue(step.why().contains(row.says()), step.why());
        }
    }

    /** The world after {@code steps} steps from nothing at T0. */
    private static World fromNothing(int steps) {
        World world = new World();
        for (int i = 0; i < steps; i++) {
            Step step = CertificatePlan.next(world.observed(T0), SETTINGS);
            if (step instanceof WriteCaSecret write) world.ca = new HashMap<>(write.data());
            else if (step instanceof WriteCaBundle write) world.bundles.replaceAll(b -> write.cas());
            else if (step instanceof WriteTlsSecret write) world.tls = new HashMap<>(write.data());
        }
        return world;
    }

    private static World pendingTrusted() {
        World world = installed().dailyUntil(T0, DUE);
        world.settle(DUE);
        return world;
    }

    private static World pendingUntrusted() {
        World world = installed().dailyUntil(T0, DUE);
        world.blocked.add(Target.CA_BUNDLE);
        world.settle(DUE);
        return world;
    }

    private static World justPromoted() {
        World world = pendingTrusted();
        world.settle(DUE.plus(Duration.ofDays(1)));
        return world;
    }

    @Test
    void fromNothingThePendingCaIsTrustedBeforeItSignsAndNothingIsServedBefore() throws Exception {
        World world = new World();
        Steady steady = world.settle(T0);
        assertEquals(List.of(WriteCaSecret.class, WriteCaBundle.class, WriteCaSecret.class, WriteTlsSecret.class,
                Steady.class), world.steps, "pending CA, caBundle, promotion, serving certificate, in that order");
        X509Certificate ca = world.signingCa().orElseThrow();
        assertTrue(world.pendingCa().isEmpty());
        assertEquals(List.of(ca), world.bundle(), "caBundle is exactly the CA");
        assertEquals(List.of(ca), world.tlsCaCrt());
        assertTrue(steady.serve().isPresent() && steady.waiting().isEmpty());
        X509Certificate served = world.servedCertificate();
        assertTrue(X509Certificates.issuedBy(served, ca));
        assertEquals(Set.of("dcw.team.svc", "dcw", "dcw.team", "dcw.team.svc.cluster.local"), dnsNames(served));
        assertEquals("CN=dcw.team.svc", served.getSubjectX500Principal().getName());
        assertEquals(0, ca.getBasicConstraints(), "the CA is a CA that signs no other CA (pathLenConstraint 0)");
        assertEquals(-1, served.getBasicConstraints(), "the serving certificate is not");
        assertEquals(T0.plus(Duration.ofDays(30)), served.getNotAfter().toInstant());
        assertTrue(served.getNotBefore().toInstant().isBefore(T0), "backdated for clock skew");

        world.settle(T0.plusSeconds(10));
        assertEquals(List.of(Steady.class), world.steps, "a second look changes nothing");
        world.settle(T0.plus(Duration.ofDays(19)));
        assertEquals(List.of(Steady.class), world.steps, "two thirds of its life: kept");
    }

    @Test
    void withoutTheConfigurationNothingIsSignedOrServed() {
        World world = new World();
        world.bundles = null;
        Steady steady = world.settle(T0);
        assertTrue(steady.serve().isEmpty());
        assertTrue(world.signingCa().isEmpty(), "the CA stays pending");
        assertTrue(world.pendingCa().isPresent());
        assertTrue(steady.waiting().contains("the webhook configuration does not exist"), steady.waiting().toString());
        world.bundles = new ArrayList<>(List.of(List.of()));
        assertTrue(world.settle(T0.plusSeconds(1)).serve().isPresent(), "served once the configuration is there");
    }

    @Test
    void aFullCaRotationSignsOnlyAfterTheOverlapAndTheEvidenceThenRetiresTheOldCa() {
        World world = installed();
        X509Certificate first = world.signingCa().orElseThrow();
        world.dailyUntil(T0, DUE).settle(DUE);
        X509Certificate next = world.pendingCa().orElseThrow();
        assertEquals(first, world.signingCa().orElseThrow(), "the old CA still signs");
        assertEquals(Set.of(first, next), Set.copyOf(world.bundle()), "caBundle trusts both");
        assertTrue(X509Certificates.issuedBy(world.servedCertificate(), first));

        world.settle(DUE.plus(Duration.ofHours(23)));
        assertEquals(first, world.signingCa().orElseThrow(), "within the overlap nothing changes");

        Instant promoted = DUE.plus(Duration.ofDays(1));
        world.settle(promoted);
        assertEquals(next, world.signingCa().orElseThrow(), "after the overlap, with caBundle's trust, it signs");
        assertTrue(X509Certificates.issuedBy(world.servedCertificate(), next), "and is served");
        assertEquals(Set.of(first, next), Set.copyOf(world.bundle()), "the old CA is still trusted for one overlap");

        world.settle(promoted.plus(Duration.ofDays(1)));
        assertEquals(List.of(next), world.bundle(), "then it leaves caBundle");
        assertEquals(List.of(next), world.tlsCaCrt(), "and ca.crt");
        assertFalse(world.ca.containsKey("retired.crt"));
    }

    @Test
    void aServingCertificateNeverOutlivesItsCa() {
        // Serving certificates of 60 days, a CA of 180: during the overlap the old CA, 60 days from its end, still signs.
        World world = new World(new Settings("dcw", "team", Duration.ofDays(60), Duration.ofDays(180), Duration.ofDays(1)));
        Instant inOverlap = T0.plus(Duration.ofDays(120)).plus(Duration.ofHours(12));
        world.dailyUntil(T0, inOverlap).settle(inOverlap);
        X509Certificate ca = world.signingCa().orElseThrow();
        assertTrue(world.pendingCa().isPresent(), "the next CA is pending");
        world.tls = null;
        world.settle(inOverlap.plus(Duration.ofHours(1)));
        X509Certificate issued = world.servedCertificate();
        assertTrue(X509Certificates.issuedBy(issued, ca), "the old CA still signs during the overlap");
        assertEquals(ca.getNotAfter(), issued.getNotAfter(), "cut at the CA's end, not 60 days on");
    }

    /** A change from outside: what is done to an installed world, and what must hold once the plan is steady again. */
    record OutsideChange(Consumer<World> change, BiConsumer<World, X509Certificate> expect) {
    }

    static Stream<Arguments> outsideChanges() {
        return Stream.of(
                Arguments.of("CA Secret deleted: served certificate kept, a new pending CA, the old CA kept as retired",
                        new OutsideChange(w -> w.ca = null, CertificatePlanTest::keptServingWithANewPendingCa)),
                Arguments.of("CA Secret with a garbage certificate: the same",
                        new OutsideChange(w -> w.ca.put("tls.crt", "not pem".getBytes(StandardCharsets.US_ASCII)),
                                CertificatePlanTest::keptServingWithANewPendingCa)),
                Arguments.of("CA Secret emptied: the same",
                        new OutsideChange(w -> w.ca.clear(), CertificatePlanTest::keptServingWithANewPendingCa)),
                Arguments.of("CA key of another CA: the same", new OutsideChange(
                        w -> w.ca.put("tls.key", installed().ca.get("tls.key")),
                        CertificatePlanTest::keptServingWithANewPendingCa)),
                Arguments.of("CA and TLS Secrets deleted: the served pair is written back, a new pending CA",
                        new OutsideChange(w -> {
                            w.ca = null;
                            w.tls = null;
                        }, (w, before) -> {
                            keptServingWithANewPendingCa(w, before);
                            assertEquals(before, CertificateMaker.certificates(w.tls.get("tls.crt")).get(0),
                                    "the TLS Secret holds the served certificate again");
                        })),
                Arguments.of("TLS Secret deleted: a new certificate of the trusted CA", new OutsideChange(w -> w.tls = null,
                        (w, before) -> assertTrue(X509Certificates.issuedBy(w.servedCertificate(), w.signingCa().orElseThrow())))),
                Arguments.of("serving key of another certificate: reissued", new OutsideChange(
                        w -> w.tls.put("tls.key", installed().tls.get("tls.key")),
                        (w, before) -> assertTrue(CertificateMaker.matches(CertificateMaker.privateKey(w.tls.get("tls.key")),
                                w.servedCertificate())))),
                Arguments.of("serving certificate of another CA: reissued by ours, never served",
                        new OutsideChange(w -> w.tls = installed().tls,
                                (w, before) -> assertTrue(X509Certificates.issuedBy(w.servedCertificate(), w.signingCa().orElseThrow())))),
                Arguments.of("ca.crt emptied: restored, certificate kept", new OutsideChange(w -> w.tls.put("ca.crt", new byte[0]),
                        (w, before) -> assertEquals(List.of(w.signingCa().orElseThrow()), w.tlsCaCrt()))),
                Arguments.of("foreign CAs in caBundle: removed, ours kept", new OutsideChange(
                        w -> w.bundles.replaceAll(b -> List.of(b.get(0), installed().signingCa().orElseThrow(),
                                installed().signingCa().orElseThrow())),
                        (w, before) -> assertEquals(List.of(w.signingCa().orElseThrow()), w.bundle()))),
                Arguments.of("caBundle emptied: restored", new OutsideChange(w -> w.bundles.replaceAll(b -> List.of()),
                        (w, before) -> assertEquals(List.of(w.signingCa().orElseThrow()), w.bundle()))),
                Arguments.of("a second webhook without caBundle: given the same", new OutsideChange(
                        w -> w.bundles.add(List.of()), (w, before) -> assertEquals(w.bundles.get(0), w.bundles.get(1)))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outsideChanges")
    void aChangeMadeFromOutsideNeverMakesThePodServeAnUntrustedCertificate(String name, OutsideChange change) {
        World world = installed();
        X509Certificate before = world.servedCertificate();
        change.change().accept(world);
        world.settle(T0.plusSeconds(60)); // the invariant is checked after every step
        change.expect().accept(world, before);
        world.settle(T0.plusSeconds(61));
        assertEquals(List.of(Steady.class), world.steps, "repaired once, then stable");
    }

    private static void keptServingWithANewPendingCa(World world, X509Certificate before) {
        assertEquals(before, world.servedCertificate(), "what is served does not change");
        X509Certificate old = world.bundle().stream().filter(ca -> X509Certificates.issuedBy(before, ca)).findFirst()
                .orElseThrow(() -> new AssertionError("the served certificate's CA stays in caBundle"));
        assertTrue(world.signingCa().isEmpty(), "no CA signs: the old key is gone, the new CA is not due yet");
        X509Certificate pending = world.pendingCa().orElseThrow();
        assertEquals(Set.of(pending, old), Set.copyOf(world.bundle()), "caBundle: the pending CA and the one in use");
    }

    @Test
    void aPrunerDeletingBothSecretsAgainAndAgainNeitherGrowsCaBundleNorChangesWhatIsServed() {
        World world = installed();
        X509Certificate served = world.servedCertificate();
        for (int i = 1; i <= 20; i++) {
            world.ca = null;
            if (i % 2 == 0) world.tls = null;
            world.settle(T0.plusSeconds(5L * i));
            assertEquals(2, world.bundle().size(), "caBundle: " + world.bundle().size() + " CAs after " + i + " deletions");
            assertEquals(served, world.servedCertificate());
        }
        // Left alone for the overlap, the pending CA signs; the old one leaves one overlap later.
        Instant promoted = T0.plusSeconds(100).plus(Duration.ofDays(1));
        world.settle(promoted);
        X509Certificate signing = world.signingCa().orElseThrow();
        assertTrue(X509Certificates.issuedBy(world.servedCertificate(), signing), "served from the promoted CA");
        assertEquals(2, world.bundle().size(), "the old CA is trusted one overlap longer");
        world.settle(promoted.plus(Duration.ofDays(1)));
        assertEquals(List.of(signing), world.bundle());
    }

    @Test
    void aPendingCaWithoutTrustNeverSignsAndSaysWhy() {
        World world = installed();
        X509Certificate first = world.signingCa().orElseThrow();
        world.dailyUntil(T0, DUE.minus(Duration.ofDays(1)));
        world.blocked.add(Target.CA_BUNDLE); // the update of the configuration is forbidden
        world.settle(DUE);
        assertTrue(world.pendingCa().isPresent(), "the pending CA is written");
        assertEquals(List.of(first), world.bundle(), "but caBundle cannot gain it");
        Steady late = world.settle(DUE.plus(Duration.ofDays(3)));
        assertEquals(first, world.signingCa().orElseThrow(), "past the overlap it still does not sign");
        assertTrue(X509Certificates.issuedBy(world.servedCertificate(), first), "the trusted CA's certificate is served");
        assertTrue(late.waiting().stream().anyMatch(w -> w.contains("caBundle cannot be written")), late.waiting().toString());
        assertTrue(late.waiting().stream().anyMatch(w -> w.contains("does not trust it yet")), late.waiting().toString());

        world.blocked.clear(); // given back
        world.settle(DUE.plus(Duration.ofDays(3)).plusSeconds(1));
        assertTrue(world.pendingCa().isEmpty());
        assertNotEquals(first, world.signingCa().orElseThrow(), "promoted once caBundle trusts it");
        assertTrue(world.last.waiting().isEmpty(), world.last.waiting().toString());
    }

    @Test
    void aStaleCaBundleIsNoEvidenceForAPromotion() {
        World world = installed();
        world.dailyUntil(T0, DUE).settle(DUE);
        X509Certificate pending = world.pendingCa().orElseThrow();
        Observed seen = world.observed(DUE.plus(Duration.ofDays(2)));
        Observed stale = new Observed(seen.ca(), seen.tls(), seen.caBundle(), false, seen.held(), seen.blocked(), seen.now());
        Step step = CertificatePlan.next(stale, SETTINGS);
        assertTrue(step instanceof Steady, "no promotion on a caBundle that could not be read: " + step);
        assertTrue(CertificatePlan.next(seen, SETTINGS) instanceof WriteCaSecret, "a fresh one is");
        assertTrue(world.bundles().holds(pending));
    }

    @Test
    void aPendingCaMadeByTheScriptStartsItsOverlapWhenFirstSeen() {
        World world = installed();
        World other = installed();
        world.ca.put("pending.crt", other.ca.get("tls.crt"));
        world.ca.put("pending.key", other.ca.get("tls.key"));
        world.settle(T0.plusSeconds(100));
        assertEquals("%d".formatted(T0.plusSeconds(100).getEpochSecond()),
                new String(world.ca.get("pending-at"), StandardCharsets.US_ASCII));
        assertTrue(world.bundles().holds(other.signingCa().orElseThrow()), "trusted at once");
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
        World world = new World();
        world.ca = new HashMap<>(Map.of("tls.crt", Files.readAllBytes(out.resolve("ca.crt")),
                "tls.key", Files.readAllBytes(out.resolve("ca.key"))));
        try (var parser = new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(out.resolve("ca.key")))) {
            assertTrue(parser.readObject() instanceof org.bouncycastle.openssl.PEMKeyPair, "the format under test");
        }
        X509Certificate scriptCa = CertificateMaker.certificates(world.ca.get("tls.crt")).get(0);
        world.settle(Instant.now());
        assertEquals(scriptCa, world.signingCa().orElseThrow(), "the script's CA is kept");
        assertTrue(X509Certificates.issuedBy(world.servedCertificate(), scriptCa));
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

    private static Set<String> dnsNames(X509Certificate certificate) throws Exception {
        return certificate.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).collect(Collectors.toSet());
    }
}
