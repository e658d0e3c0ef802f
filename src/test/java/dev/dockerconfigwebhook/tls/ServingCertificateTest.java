package dev.dockerconfigwebhook.tls;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link ServingCertificate#reloadFiles()} without Quarkus, in the manner of cert-manager's file_source_test:
 * files appear, change, break and heal on disk, and each look gives the pair that must be served and the reason
 * when one is not (nothing but the test's own calls looks: the reconcile loop that calls it in the application is not
 * running).
 */
class ServingCertificateTest {

    @TempDir
    static Path pairs;

    private static Vertx vertx;

    @TempDir
    Path mounted;

    private ServingCertificate serving;

    @BeforeAll
    static void makePairs() throws Exception {
        assumeTrue(new ProcessBuilder("openssl", "version").start().waitFor() == 0, "needs openssl");
        for (String name : new String[] {"a", "b"}) {
            Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", pairs.resolve(name).toString(),
                    "--service", "svc-" + name).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            assertEquals(0, p.waitFor());
        }
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void closeVertx() {
        if (vertx != null) vertx.close();
    }

    private ServingCertificate watch() {
        serving = new ServingCertificate(vertx, mounted.resolve("tls.crt").toString(), mounted.resolve("tls.key").toString());
        return serving;
    }

    private void mount(String pair) throws Exception {
        mount(pair, pair);
    }

    /** Writes a certificate of one pair and the key of another, as a half-finished rotation would. */
    private void mount(String certOf, String keyOf) throws Exception {
        Files.copy(pairs.resolve(certOf).resolve("tls.crt"), mounted.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(pairs.resolve(keyOf).resolve("tls.key"), mounted.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
    }

    private static String subject(ServingCertificate serving) {
        return serving.current().map(X509Certificate::getSubjectX500Principal).map(Object::toString).orElse("none");
    }

    @Test
    void missingFilesLeaveItUnreadyWithTheFileNamedThenALaterPairIsLoaded() throws Exception {
        ServingCertificate s = watch();
        assertEquals(Optional.empty(), s.current());
        assertEquals(Optional.of(mounted.resolve("tls.crt") + ": file not found"), s.problem());
        String quoted = dev.dockerconfigwebhook.testing.Docs.quote("README.md", q -> q.endsWith(": file not found"));
        assertTrue(s.problem().orElseThrow().endsWith(quoted.substring(quoted.lastIndexOf('/'))), "README quotes " + quoted);

        mount("a");
        s.reloadFiles();
        assertEquals("CN=svc-a.dockerconfig-webhook.svc", subject(s));
        assertEquals(Optional.empty(), s.problem());
    }

    @Test
    void garbageIsNamedAndNeverLoaded() throws Exception {
        Files.writeString(mounted.resolve("tls.crt"), "not a certificate");
        Files.copy(pairs.resolve("a/tls.key"), mounted.resolve("tls.key"));
        ServingCertificate s = watch();
        assertEquals(Optional.empty(), s.current());
        assertEquals(Optional.of(mounted.resolve("tls.crt") + ": no PEM certificate"), s.problem());

        mount("a");
        // A PEM block of the right type with four bytes of nothing in it (assembled, so no file holds a key-shaped text).
        String label = "PRIVATE" + " KEY";
        Files.writeString(mounted.resolve("tls.key"), "-----BEGIN " + label + "-----\nAAAA\n-----END " + label + "-----\n");
        s.reloadFiles();
        assertEquals(Optional.of(mounted.resolve("tls.key") + ": no usable PEM private key"), s.problem());
        assertEquals(Optional.empty(), s.current());
    }

    @Test
    void aRotationSwapsThePairAndAMismatchKeepsThePreviousOneServing() throws Exception {
        mount("a");
        ServingCertificate s = watch();
        String first = subject(s);

        mount("b", "a"); // the new certificate arrived, its key not yet
        s.reloadFiles();
        assertEquals(first, subject(s), "a mismatched pair is never loaded: the previous one keeps serving");
        assertTrue(s.problem().orElseThrow().endsWith("are not a pair (the key does not match the certificate)"),
                s.problem().toString());
        for (String part : dev.dockerconfigwebhook.testing.Docs.fixedParts(
                dev.dockerconfigwebhook.testing.Docs.quote("README.md", q -> q.contains("are not a pair")))) {
            assertTrue(s.problem().orElseThrow().contains(part), "README's quote: " + part);
        }

        mount("b");
        s.reloadFiles();
        assertNotEquals(first, subject(s));
        assertEquals("CN=svc-b.dockerconfig-webhook.svc", subject(s));
        assertEquals(Optional.empty(), s.problem());
    }

    @Test
    void unchangedFilesAreNotReloaded() throws Exception {
        mount("a");
        ServingCertificate s = watch();
        X509Certificate loaded = s.current().orElseThrow();
        s.reloadFiles();
        assertTrue(loaded == s.current().orElseThrow(), "the same object: nothing was parsed again");
    }
}
