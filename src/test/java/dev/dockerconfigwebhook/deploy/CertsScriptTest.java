package dev.dockerconfigwebhook.deploy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs certs/generate.sh without a cluster (state in --out) and checks its output with openssl; --apply is CertificatesScriptIT. */
class CertsScriptTest {

    @TempDir
    Path tmp;

    record Run(int exit, String output) {
    }

    @Test
    void createsACaAndAServingCertificateForTheService() throws Exception {
        Path out = tmp.resolve("out");
        Run run = generate(Map.of(), "--out", out.toString(), "--namespace", "ns1", "--service", "svc1", "--days", "10");
        assertEquals(0, run.exit(), run.output());

        assertEquals(0, openssl("verify", "-CAfile", out.resolve("ca.crt").toString(), out.resolve("tls.crt").toString()).exit());
        String sans = openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-ext", "subjectAltName").output();
        assertTrue(sans.contains("DNS:svc1, DNS:svc1.ns1, DNS:svc1.ns1.svc, DNS:svc1.ns1.svc.cluster.local"), sans);
        String caConstraints = openssl("x509", "-in", out.resolve("ca.crt").toString(), "-noout", "-ext", "basicConstraints").output();
        assertTrue(caConstraints.contains("CA:TRUE, pathlen:0"), "a CA that signs no other CA: " + caConstraints);
        String usage = openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-ext", "extendedKeyUsage").output();
        assertTrue(usage.contains("TLS Web Server Authentication"), usage);
        assertEquals(0, openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-checkend",
                String.valueOf(9 * 86400)).exit(), "valid for the 10 days asked");
        assertEquals(1, openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-checkend",
                String.valueOf(11 * 86400)).exit(), "and not longer");
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(out.resolve("tls.key")), "keys are private to their owner");
    }

    /** --release gives the chart's names, hashed the chart's way when long: the certificate is for the chart's Service. */
    @org.junit.jupiter.params.ParameterizedTest(name = "release {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"acme", "team-dockerconfig-webhook",
            "a-release-name-of-exactly-fifty-three-characters-long"})
    void releaseNamesAreTheChartsNames(String release) throws Exception {
        Path out = tmp.resolve(release);
        Run run = generate(Map.of(), "--out", out.toString(), "--namespace", "ns1", "--release", release);
        assertEquals(0, run.exit(), run.output());
        String service = Manifests.of(HelmChartTest.render(release, "ns1",
                        Map.of("image.repository", HelmChartTest.REPOSITORY)))
                .one(io.fabric8.kubernetes.api.model.Service.class).getMetadata().getName();
        String sans = openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-ext", "subjectAltName").output();
        assertTrue(sans.contains("DNS:" + service + ", DNS:" + service + ".ns1, DNS:" + service + ".ns1.svc,"), sans);
        assertTrue(service.length() <= 63, service);
    }

    @Test
    void releaseAndSingleNamesDoNotMix() throws Exception {
        Run run = generate(Map.of(), "--out", tmp.resolve("x").toString(), "--release", "acme", "--service", "other");
        assertEquals(2, run.exit(), run.output());
        assertTrue(run.output().contains("--release gives all the names"), run.output());
    }

    @Test
    void runningAgainRenewsTheServingCertificateUnderTheSameCa() throws Exception {
        Path out = tmp.resolve("out");
        assertEquals(0, generate(Map.of(), "--out", out.toString()).exit());
        String ca = Files.readString(out.resolve("ca.crt"));
        String cert = Files.readString(out.resolve("tls.crt"));

        Run again = generate(Map.of(), "--out", out.toString());
        assertEquals(0, again.exit(), again.output());
        assertEquals(ca, Files.readString(out.resolve("ca.crt")));
        assertNotEquals(cert, Files.readString(out.resolve("tls.crt")));
        assertEquals(ca, Files.readString(out.resolve("ca-bundle.crt")), "one CA to trust");
        assertTrue(verifies(out.resolve("ca-bundle.crt"), cert) && verifies(out.resolve("ca-bundle.crt"), Files.readString(out.resolve("tls.crt"))),
                "pods still serving the old certificate and pods with the new one are trusted by the same caBundle");
    }

    @Test
    void caRotationTrustsTheNewCaBeforeItSignsAndTheOldOneAfter() throws Exception {
        // The same steps as against a cluster (CertificatesScriptIT), here with the state kept in --out.
        Path out = tmp.resolve("out");
        assertEquals(0, generate(Map.of(), "--out", out.toString()).exit());
        String first = Files.readString(out.resolve("ca.crt"));
        String servedFirst = Files.readString(out.resolve("tls.crt"));

        for (int repeat = 0; repeat < 2; repeat++) {
            Run step1 = generate(Map.of(), "--out", out.toString(), "--new-ca");
            assertEquals(0, step1.exit(), step1.output());
            assertEquals(first, Files.readString(out.resolve("ca.crt")), "step 1 does not sign with the new CA yet");
            assertEquals(2, count(out.resolve("ca-bundle.crt")), "old and new CA trusted; repeating adds none");
        }
        Run step2 = generate(Map.of(), "--out", out.toString(), "--promote-ca");
        assertEquals(0, step2.exit(), step2.output());
        assertNotEquals(first, Files.readString(out.resolve("ca.crt")));
        assertTrue(verifies(out.resolve("ca-bundle.crt"), servedFirst), "the old CA stays trusted after step 2");
        assertTrue(verifies(out.resolve("ca-bundle.crt"), Files.readString(out.resolve("tls.crt"))));
        assertEquals(0, generate(Map.of(), "--out", out.toString(), "--promote-ca").exit(), "repeating step 2 is harmless");
        assertTrue(verifies(out.resolve("ca-bundle.crt"), servedFirst));

        assertEquals(0, generate(Map.of(), "--out", out.toString(), "--retire-after", "0").exit());
        assertEquals(1, count(out.resolve("ca-bundle.crt")), "after its window the old CA is dropped");
        assertFalse(verifies(out.resolve("ca-bundle.crt"), servedFirst));
    }

    @Test
    void stepsThatContradictEachOtherAreRefused() throws Exception {
        Run both = generate(Map.of(), "--out", tmp.toString(), "--new-ca", "--promote-ca");
        assertEquals(2, both.exit());
        assertTrue(both.output().contains("two steps"), both.output());
    }

    private boolean verifies(Path bundle, String certificate) throws Exception {
        Path leaf = Files.createTempFile(tmp, "leaf", ".crt");
        Files.writeString(leaf, certificate);
        return openssl("verify", "-no-CApath", "-CAfile", bundle.toString(), leaf.toString()).exit() == 0;
    }

    private static long count(Path bundle) throws IOException {
        return Files.readAllLines(bundle).stream().filter(l -> l.contains("BEGIN CERTIFICATE")).count();
    }

    @Test
    void rejectsUnknownFlagsAndBadNumbers() throws Exception {
        assertEquals(2, generate(Map.of(), "--out", tmp.toString(), "--bogus").exit());
        assertEquals(2, generate(Map.of(), "--out", tmp.toString(), "--days", "ten").exit());
    }

    @Test
    void defaultOutputFolderIsIgnoredByGit() throws Exception {
        assumeTrue(Manifests.onPath("git") && Files.isDirectory(Path.of(".git")), "needs a git checkout");
        Process check = new ProcessBuilder("git", "check-ignore", "certs/out/tls.key", "certs/out/ca.key").start();
        assertEquals(0, check.waitFor(), "certs/out/ must be git-ignored");
    }

    private static Run generate(Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", "certs/generate.sh"));
        command.addAll(List.of(args));
        return run(env, command);
    }

    private static Run openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        return run(Map.of(), command);
    }

    private static Run run(Map<String, String> env, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Run(process.exitValue(), output);
    }
}
