package dev.dockerconfigwebhook.tls;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Serves the webhook a certificate from certs/generate.sh through a {@code current} symlink, and rotates it the way
 * the kubelet updates a Secret volume: new files in a new directory, then one atomic rename of the link.
 */
public class RotatingCertificates implements QuarkusTestResourceLifecycleManager {

    static final Path ROOT = Path.of("target/rotation-test").toAbsolutePath();
    static final Path GENERATED = ROOT.resolve("generated");
    static final Path CURRENT = ROOT.resolve("current");

    @Override
    public Map<String, String> start() {
        try {
            deleteRecursively(ROOT);
            Files.createDirectories(ROOT);
            publish(generate(), "v1");
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot prepare certificates", e);
        }
        return Map.of("webhook.tls.cert", CURRENT.resolve("tls.crt").toString(),
                "webhook.tls.key", CURRENT.resolve("tls.key").toString(),
                "webhook.certificates.check-period", "1s");
    }

    @Override
    public void stop() {
    }

    /** A new serving certificate from the same CA (as `certs/generate.sh` does when run again). */
    static Path generate() throws IOException, InterruptedException {
        Process process = new ProcessBuilder("bash", "certs/generate.sh", "--out", GENERATED.toString(),
                "--service", "localhost", "--days", "2").redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IOException("certs/generate.sh failed: " + output);
        }
        return GENERATED;
    }

    static void publish(Path generated, String version) throws IOException {
        Path dir = Files.createDirectories(ROOT.resolve(version));
        Files.copy(generated.resolve("tls.crt"), dir.resolve("tls.crt"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(generated.resolve("tls.key"), dir.resolve("tls.key"), StandardCopyOption.REPLACE_EXISTING);
        Path link = ROOT.resolve("current.tmp");
        Files.deleteIfExists(link);
        Files.createSymbolicLink(link, dir.getFileName());
        Files.move(link, CURRENT, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (var walk = Files.walk(path)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
