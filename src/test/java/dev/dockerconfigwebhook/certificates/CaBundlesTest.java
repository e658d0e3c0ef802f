package dev.dockerconfigwebhook.certificates;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What counts as trust: every webhook of the configuration must trust the served certificate (the API server may call
 * any of them), and with mounted certificates caBundle may only be made of a ca.crt that issued it.
 */
class CaBundlesTest {

    private static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    private static final CertificateMaker.Pair CA = CertificateMaker.newCa("a", NOW, NOW.plus(Duration.ofDays(30)));
    private static final CertificateMaker.Pair OTHER = CertificateMaker.newCa("a", NOW, NOW.plus(Duration.ofDays(30)));
    private static final X509Certificate SERVED = CertificateMaker.newServing(CA, List.of("a.b.svc"), NOW,
            NOW.plus(Duration.ofDays(1))).certificate();

    static Stream<Arguments> bundles() {
        X509Certificate ca = CA.certificate();
        X509Certificate other = OTHER.certificate();
        return Stream.of(
                Arguments.of("no webhook", List.of(), false, false),
                Arguments.of("one webhook with the CA", List.of(List.of(ca)), true, true),
                Arguments.of("the CA among others", List.of(List.of(other, ca)), true, false),
                Arguments.of("another CA of the same name", List.of(List.of(other)), false, false),
                Arguments.of("two webhooks, both with the CA", List.of(List.of(ca), List.of(ca)), true, true),
                Arguments.of("two webhooks, one without", List.of(List.of(ca), List.of()), false, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("bundles")
    void trustNeedsEveryWebhook(String name, List<List<X509Certificate>> perWebhook, boolean trusts, boolean exactly) {
        CaBundles bundles = new CaBundles(perWebhook);
        assertEquals(trusts, bundles.trusts(SERVED));
        assertEquals(trusts, bundles.holds(CA.certificate()));
        assertEquals(exactly, bundles.holdsExactly(List.of(CA.certificate())));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("mounted")
    void aMountedCaCrtSetsCaBundleOnlyWhenItIssuedTheServedCertificate(String name, List<X509Certificate> caCrt,
            Optional<String> problem) {
        assertEquals(problem, CertificateReconciler.cannotTrust(SERVED, caCrt));
    }

    static Stream<Arguments> mounted() {
        return Stream.of(
                Arguments.of("the issuer", List.of(CA.certificate()), Optional.empty()),
                Arguments.of("the issuer and another", List.of(OTHER.certificate(), CA.certificate()), Optional.empty()),
                Arguments.of("empty", List.of(), Optional.of("ca.crt has no certificate")),
                Arguments.of("another CA only", List.of(OTHER.certificate()),
                        Optional.of("no certificate in ca.crt issued the serving certificate")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pems")
    void aCaBundleThatIsNotPemTrustsNothing(String name, byte[] pem) {
        assertEquals(false, CaBundles.ofPem(List.of(pem)).trusts(SERVED));
    }

    static Stream<Arguments> pems() {
        return Stream.of(Arguments.of("empty", new byte[0]),
                Arguments.of("text", "not a certificate".getBytes(StandardCharsets.US_ASCII)));
    }
}
