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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs certs/generate.sh in a temporary folder and checks its output with openssl. */
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
        String usage = openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-ext", "extendedKeyUsage").output();
        assertTrue(usage.contains("TLS Web Server Authentication"), usage);
        assertEquals(0, openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-checkend",
                String.valueOf(9 * 86400)).exit(), "valid for the 10 days asked");
        assertEquals(1, openssl("x509", "-in", out.resolve("tls.crt").toString(), "-noout", "-checkend",
                String.valueOf(11 * 86400)).exit(), "and not longer");
        assertEquals(Set.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE),
                Files.getPosixFilePermissions(out.resolve("tls.key")), "keys are private to their owner");
    }

    @Test
    void runningAgainRotatesTheServingCertificateAndKeepsTheCa() throws Exception {
        Path out = tmp.resolve("out");
        assertEquals(0, generate(Map.of(), "--out", out.toString()).exit());
        byte[] ca = Files.readAllBytes(out.resolve("ca.crt"));
        byte[] cert = Files.readAllBytes(out.resolve("tls.crt"));

        Run again = generate(Map.of(), "--out", out.toString());
        assertEquals(0, again.exit(), again.output());
        assertTrue(again.output().contains("reusing CA"));
        assertEquals(new String(ca, StandardCharsets.US_ASCII), Files.readString(out.resolve("ca.crt")));
        assertNotEquals(new String(cert, StandardCharsets.US_ASCII), Files.readString(out.resolve("tls.crt")));
        assertEquals(0, openssl("verify", "-CAfile", out.resolve("ca.crt").toString(), out.resolve("tls.crt").toString()).exit(),
                "pods still serving the old certificate and pods with the new one are trusted by the same caBundle");

        assertEquals(0, generate(Map.of(), "--out", out.toString(), "--new-ca").exit());
        String bundle = Files.readString(out.resolve("ca-bundle.crt"));
        assertNotEquals(new String(ca, StandardCharsets.US_ASCII), Files.readString(out.resolve("ca.crt")));
        assertTrue(bundle.contains(new String(ca, StandardCharsets.US_ASCII).trim()), "the old CA stays trusted during the switch");
        assertTrue(bundle.contains(Files.readString(out.resolve("ca.crt")).trim()));
    }

    @Test
    void applyCreatesTheSecretAndPatchesTheCaBundleThroughKubectl() throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path calls = tmp.resolve("kubectl-calls.txt");
        // A recording stand-in for kubectl: no cluster needed.
        Files.writeString(bin.resolve("kubectl"), "#!/usr/bin/env bash\n"
                + "echo \"ARGS: $*\" >> '" + calls + "'\n"
                + "case \" $* \" in *' create secret '*) echo 'kind: Secret' ;; esac\n"
                + "if [ \"$1\" = apply ]; then echo \"STDIN: $(cat)\" >> '" + calls + "'; fi\n");
        bin.resolve("kubectl").toFile().setExecutable(true);
        Path out = tmp.resolve("out");
        Run run = generate(Map.of("PATH", bin + ":" + System.getenv("PATH")), "--out", out.toString(), "--apply",
                "--namespace", "ns1", "--secret", "tls1", "--webhook-config", "hook1");
        assertEquals(0, run.exit(), run.output());

        // The two sides of `kubectl create ... | kubectl apply -f -` run at once: their lines may come in either order.
        List<String> lines = Files.readAllLines(calls);
        assertEquals(4, lines.size(), String.join("\n", lines));
        assertTrue(lines.contains("ARGS: -n ns1 create secret tls tls1 --cert=tls.crt --key=tls.key --dry-run=client -o yaml"), lines.toString());
        assertTrue(lines.contains("ARGS: apply -f -"), lines.toString());
        assertTrue(lines.contains("STDIN: kind: Secret"), lines.toString());
        String patch = lines.get(3);
        assertTrue(patch.startsWith("ARGS: patch mutatingwebhookconfiguration hook1 --type=json -p "), patch);
        String bundle = patch.replaceAll(".*\"value\":\"([^\"]+)\".*", "$1");
        assertEquals(Files.readString(out.resolve("ca-bundle.crt")),
                new String(Base64.getDecoder().decode(bundle), StandardCharsets.US_ASCII));
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
