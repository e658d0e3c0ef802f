package dev.dockerconfigwebhook.cabundle;

import dev.dockerconfigwebhook.tls.X509Certificates;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The keeper's decision, on real certificates made by certs/generate.sh (two CAs, a serving certificate of each). */
class CaBundleTest {

    @TempDir
    static Path tmp;

    static String caA;
    static String caB;
    static X509Certificate servedByA;
    static X509Certificate servedByB;

    @BeforeAll
    static void makeCertificates() throws Exception {
        assumeTrue(new ProcessBuilder("openssl", "version").start().waitFor() == 0, "needs openssl");
        for (String name : List.of("a", "b")) {
            Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", tmp.resolve(name).toString())
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor());
        }
        caA = Files.readString(tmp.resolve("a/ca.crt"));
        caB = Files.readString(tmp.resolve("b/ca.crt"));
        servedByA = certificate(Files.readString(tmp.resolve("a/tls.crt")));
        servedByB = certificate(Files.readString(tmp.resolve("b/tls.crt")));
    }

    record Case(String bundle, X509Certificate served, String mounted, boolean trustEveryCa,
            Function<CaBundle.Verdict, String> check) {
        Case(String bundle, X509Certificate served, String mounted, Function<CaBundle.Verdict, String> check) {
            this(bundle, served, mounted, false, check);
        }
    }

    /** Cases are built after {@link #makeCertificates()}: JUnit runs @BeforeAll before it asks for arguments. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("bundle trusts the served certificate", new Case(caA, servedByA, caA,
                        verdict -> verdict instanceof CaBundle.Trusted ? null : "expected Trusted, got " + verdict)),
                Arguments.of("trusted through one of several CAs", new Case(caB + caA, servedByA, caA,
                        verdict -> verdict instanceof CaBundle.Trusted ? null : "expected Trusted, got " + verdict)),
                Arguments.of("empty bundle (configuration re-applied) gets the mounted CA", new Case("", servedByA, caA,
                        verdict -> healedTo(verdict, List.of(caA), 1))),
                Arguments.of("garbage bundle is replaced by the mounted CA", new Case("not pem", servedByA, caA,
                        verdict -> healedTo(verdict, List.of(caA), 1))),
                Arguments.of("another CA stays, the mounted one is added after it", new Case(caB, servedByA, caA,
                        verdict -> healedTo(verdict, List.of(caB, caA), 1))),
                Arguments.of("mounted bundle of two: only the missing one is added", new Case(caB, servedByA, caB + caA,
                        verdict -> healedTo(verdict, List.of(caB, caA), 1))),
                Arguments.of("ca.crt that did not issue the served certificate cannot heal", new Case("", servedByA, caB,
                        verdict -> verdict instanceof CaBundle.CannotHeal c && c.reason().contains("no certificate in ca.crt issued")
                                ? null : "expected CannotHeal, got " + verdict)),
                Arguments.of("files: a new CA in ca.crt waits until the served certificate needs it",
                        new Case(caA, servedByA, caA + caB,
                                verdict -> verdict instanceof CaBundle.Trusted ? null : "expected Trusted, got " + verdict)),
                Arguments.of("self-managed: a new CA in ca.crt is trusted before anything is signed with it",
                        new Case(caA, servedByA, caA + caB, true, verdict -> healedTo(verdict, List.of(caA, caB), 1))),
                Arguments.of("self-managed: every CA already there", new Case(caB + caA, servedByA, caA + caB, true,
                        verdict -> verdict instanceof CaBundle.Trusted ? null : "expected Trusted, got " + verdict)),
                Arguments.of("missing ca.crt cannot heal", new Case("", servedByB, "",
                        verdict -> verdict instanceof CaBundle.CannotHeal c && c.reason().contains("no certificate")
                                ? null : "expected CannotHeal, got " + verdict)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void judges(String name, Case c) {
        List<X509Certificate> mounted = X509Certificates.parse(c.mounted().getBytes(StandardCharsets.US_ASCII));
        CaBundle.Verdict verdict = CaBundle.judge(c.bundle().getBytes(StandardCharsets.US_ASCII), c.served(), mounted, c.trustEveryCa());
        String problem = c.check().apply(verdict);
        assertEquals(null, problem, name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aHealedBundleIsTrustedOnTheNextLook(String name, Case c) {
        List<X509Certificate> mounted = X509Certificates.parse(c.mounted().getBytes(StandardCharsets.US_ASCII));
        if (CaBundle.judge(c.bundle().getBytes(StandardCharsets.US_ASCII), c.served(), mounted, c.trustEveryCa())
                instanceof CaBundle.Heal heal) {
            assertInstanceOf(CaBundle.Trusted.class, CaBundle.judge(heal.bundle(), c.served(), mounted, c.trustEveryCa()),
                    "idempotent");
        }
    }

    private static String healedTo(CaBundle.Verdict verdict, List<String> expectedCas, int added) {
        if (!(verdict instanceof CaBundle.Heal heal)) return "expected Heal, got " + verdict;
        List<X509Certificate> got = X509Certificates.parse(heal.bundle());
        List<X509Certificate> want = expectedCas.stream().map(CaBundleTest::certificate).toList();
        if (!got.equals(want)) return "bundle holds " + got.size() + " certificates, not the expected " + want.size();
        if (heal.added() != added) return "added " + heal.added() + ", expected " + added;
        assertTrue(new String(heal.bundle(), StandardCharsets.US_ASCII).endsWith("-----END CERTIFICATE-----\n"));
        return null;
    }

    private static X509Certificate certificate(String pem) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
