package dev.dockerconfigwebhook.packaged;

import dev.dockerconfigwebhook.testing.TestLog;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dockerconfigwebhook.testing.Expectation;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.TestTls;
import io.fabric8.kubernetes.api.model.Container;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Builds the image from the real src/main/docker/Dockerfile.jvm and runs it the way deploy/base/deployment.yaml runs
 * the container (user, read-only root, a 64 MiB /tmp, no capabilities, no new privileges, its memory limit, its
 * JAVA_OPTS, all read from that file), with the TLS Secret mounted where the variants with a mounted Secret mount it
 * (the default's self-managed certificates need an API server).
 *
 * <p>No registry is reachable here, so the UBI base is replaced, for the build only, by a JRE 17 image made from
 * Debian packages and shaped like it ({@code src/test/container/make-base.sh}); {@code buildah build --from} swaps the
 * FROM line and nothing else. What this cannot prove: anything that differs between that base and UBI's (JDK build,
 * user database, environment). The base is cached in ~/.cache/dockerconfig-webhook between runs. Skipped, with the
 * reason, where buildah, podman or mmdebstrap are missing (Debian: see .ci/run).
 */
class ContainerImageIT {

    private static final Path CACHE = Path.of(System.getProperty("user.home"), ".cache", "dockerconfig-webhook");
    private static final String BASE = "localhost/dockerconfig-webhook-it-base:debian-jre17";
    private static final String IMAGE = "localhost/dockerconfig-webhook:it";
    private static final Path WORK = Path.of("target/container-it").toAbsolutePath();
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static String container;

    @BeforeAll
    static void buildImage() throws Exception {
        for (String tool : List.of("buildah", "podman", "mmdebstrap")) {
            assumeTrue(onPath(tool), tool + " is not installed: the container image test needs buildah, podman and "
                    + "mmdebstrap (apt-get install buildah podman mmdebstrap runc uidmap)");
        }
        Files.createDirectories(CACHE);
        Files.createDirectories(WORK);
        writeContainerConfiguration();
        Path rootfs = CACHE.resolve("debian-jre17-rootfs.tar");
        run(Duration.ofMinutes(10), "bash", "src/test/container/make-base.sh", rootfs.toString());
        if (run(Duration.ofMinutes(1), false, "podman", "image", "exists", BASE).exit() != 0) {
            run(Duration.ofMinutes(5), "podman", "import", "--change", "USER 185", "--change", "WORKDIR /deployments",
                    rootfs.toString(), BASE);
        }
        // --layers: one layer per instruction, as docker build makes them (buildah squashes by default).
        run(Duration.ofMinutes(10), "buildah", "build", "--layers", "--isolation", "chroot", "--from", BASE,
                "-f", "src/main/docker/Dockerfile.jvm", "--build-arg", "VERSION=it-version",
                "--build-arg", "REVISION=it-revision", "--build-arg", "SOURCE=it-source", "-t", IMAGE, ".");
    }

    /**
     * Leaves only the cached base behind: on vfs every layer is a full copy of the root filesystem (~450 MB), so the
     * image, its intermediate layers and any left from earlier runs would otherwise fill the disk run after run.
     */
    @AfterAll
    static void removeContainerAndImage() throws Exception {
        if (!Files.isDirectory(WORK)) {
            return; // skipped before anything was built (a tool is missing): nothing to remove
        }
        if (container != null) {
            run(Duration.ofMinutes(1), false, "podman", "rm", "-f", container);
        }
        run(Duration.ofMinutes(2), false, "podman", "rmi", "-f", IMAGE);
        run(Duration.ofMinutes(5), false, "podman", "image", "prune", "-f");
    }

    @Test
    void runsAsTheDeploymentRunsItAndStopsCleanly() throws Exception {
        Container deployed = DeployedContainer.container();
        Path tls = Files.createDirectories(WORK.resolve("tls"));
        // What the kubelet mounts from the TLS Secret: readable by the container's user, never writable.
        Files.copy(Path.of("target/certificates/dev.crt"), tls.resolve("tls.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(Path.of("target/certificates/dev.key"), tls.resolve("tls.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (Path file : List.of(tls.resolve("tls.crt"), tls.resolve("tls.key"))) {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        }
        // Where the variants with a mounted Secret (deploy/overlays/script, cert-manager) put it: the directory
        // of webhook.tls.cert. The default install's pods make their own certificate from the API, which needs a cluster.
        String mountPath = certificateDirectory();
        String javaOpts = DeployedContainer.env().get("JAVA_OPTS") + " -Xshare:on"; // refuse to start without the archive
        var security = deployed.getSecurityContext();
        assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
        int https = PackagedWebhook.freePort();
        int management = PackagedWebhook.freePort();
        container = "dockerconfig-webhook-it-" + ProcessHandle.current().pid();

        long started = System.nanoTime();
        run(Duration.ofMinutes(2), "podman", "run", "-d", "--name", container, "--user", "185:185",
                "--read-only", "--tmpfs", "/tmp:size=64m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                "--memory", deployed.getResources().getLimits().get("memory").toString().replace("Mi", "m"),
                "-v", tls + ":" + mountPath + ":ro", "-p", "127.0.0.1:" + https + ":8443",
                "-p", "127.0.0.1:" + management + ":9000", "-e", "JAVA_OPTS=" + javaOpts,
                "-e", "MALLOC_ARENA_MAX=" + DeployedContainer.env().get("MALLOC_ARENA_MAX"),
                // No cluster here: with the caBundle keeper on, the pod would wait for an API server to confirm trust.
                "-e", "WEBHOOK_CA_BUNDLE_KEEP=false", IMAGE);
        HttpClient http = HttpClient.newBuilder().sslContext(TestTls.devTrust()).connectTimeout(Duration.ofSeconds(5)).build();
        awaitReady(http, management);
        System.out.printf("container ready %d ms after `podman run` (container creation included)%n",
                Duration.ofNanos(System.nanoTime() - started).toMillis());

        Expectation expected = Expectation.ALL.stream()
                .filter(e -> e.fixture().equals("update-kubectl-edit-password-only.json")).findFirst().orElseThrow();
        HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(URI.create("https://localhost:" + https + "/mutate"))
                .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(expected.fixture()))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, answer.statusCode());
        expected.assertAnswer(answer.body());

        String inside = run(Duration.ofMinutes(1), "podman", "exec", container, "sh", "-c",
                "tr '\\0' ' ' </proc/1/cmdline; echo; id -u; touch /deployments/x 2>/dev/null && echo root-writable;"
                        + " touch /tmp/x && echo tmp-writable").output();
        assertTrue(inside.startsWith("java "), "java is PID 1 (exec in the entrypoint): " + inside);
        assertTrue(inside.contains("-Xshare:on") && inside.contains("-XX:SharedArchiveFile=app-cds.jsa"), inside);
        assertTrue(inside.contains("\n185\n"), "runs as 185: " + inside);
        assertTrue(!inside.contains("root-writable") && inside.contains("tmp-writable"), "only /tmp is writable: " + inside);

        long stopping = System.nanoTime();
        run(Duration.ofMinutes(1), "podman", "stop", "-t", "30", container);
        long stoppedMillis = Duration.ofNanos(System.nanoTime() - stopping).toMillis();
        String exit = run(Duration.ofMinutes(1), "podman", "inspect", container, "--format", "{{.State.ExitCode}}").output().trim();
        assertEquals("143", exit, "exited on SIGTERM (128 + 15), not killed after the grace period");
        assertTrue(stoppedMillis < 25_000, "stopped within the shutdown timeout: " + stoppedMillis + " ms");
        String log = run(Duration.ofMinutes(1), "podman", "logs", container).output();
        assertTrue(log.contains("stopped in"), "Quarkus shut down gracefully");
        TestLog.assertNoCredential(log, "the container's log");
    }

    @Test
    void theArchiveCheckCanFailSoPassingItMeansTheArchiveIsUsed() throws Exception {
        Result broken = run(Duration.ofMinutes(1), false, "podman", "run", "--rm", "--read-only", "-e",
                "JAVA_OPTS=-Xshare:on -XX:SharedArchiveFile=/tmp/missing.jsa", IMAGE, "audit", "--help");
        assertNotEquals(0, broken.exit(), "with -Xshare:on an unusable archive stops the JVM: " + broken.output());
        Result help = run(Duration.ofMinutes(1), "podman", "run", "--rm", "--read-only", "--user", "185:185", IMAGE,
                "audit", "--help");
        assertTrue(help.output().contains("Usage: audit"), "audit --help through the entrypoint: " + help.output());
    }

    @Test
    void labelsAndNoPrivateKeyInAnyLayer() throws Exception {
        JsonNode labels = MAPPER.readTree(run(Duration.ofMinutes(1), "podman", "image", "inspect", IMAGE,
                "--format", "{{json .Labels}}").output());
        assertEquals("it-version", labels.path("org.opencontainers.image.version").asText());
        assertEquals("it-revision", labels.path("org.opencontainers.image.revision").asText());
        assertEquals("it-source", labels.path("org.opencontainers.image.source").asText());
        assertEquals("Apache-2.0", labels.path("org.opencontainers.image.licenses").asText());

        Path saved = WORK.resolve("image-oci");
        deleteRecursively(saved);
        // The base's own layers are not ours to judge (Debian's libgnutls embeds FIPS self-test keys): every layer the
        // Dockerfile adds is. Uncompressed, a layer's blob digest is its diff id.
        String baseLayers = run(Duration.ofMinutes(1), "podman", "image", "inspect", BASE,
                "--format", "{{json .RootFS.Layers}}").output();
        // Every layer, uncompressed, files deleted in later layers included: a key would be found in any of them.
        run(Duration.ofMinutes(5), "podman", "save", "--uncompressed", "--format", "oci-dir", "-o", saved.toString(), IMAGE);
        List<Path> blobs;
        try (Stream<Path> walk = Files.walk(saved.resolve("blobs"))) {
            blobs = walk.filter(Files::isRegularFile)
                    .filter(blob -> !baseLayers.contains("sha256:" + blob.getFileName())).toList();
        }
        // The image's manifest and config, and one layer per COPY and RUN.
        assertTrue(blobs.size() >= 2 + 5, "the added layers were saved: " + blobs.size());
        // A PEM private key: the marker line, then base64. (TLS libraries carry the marker alone as a constant.) One
        // kind is expected and public: a key that is a string constant of a class the application ships (Netty's
        // SslUtils probes cipher support with one), which the AppCDS archive stores as it stores every constant.
        // Anything else (a build machine's key, a key a build step made) fails the test.
        java.util.regex.Pattern pemKey = java.util.regex.Pattern.compile(
                "-----BEGIN ([A-Z]+ )?PRIVATE KEY-----\\r?\\n([A-Za-z0-9+/=]{40,})");
        String shippedClasses = shippedClassConstants();
        for (Path blob : blobs) {
            java.util.regex.Matcher key = pemKey.matcher(new String(Files.readAllBytes(blob), StandardCharsets.ISO_8859_1));
            while (key.find()) {
                assertTrue(shippedClasses.contains(key.group(2)),
                        "a private key in layer " + blob.getFileName() + " that no shipped class carries as a constant");
            }
        }
        System.out.printf("image size: %s bytes (Debian JRE base; the UBI base differs)%n",
                run(Duration.ofMinutes(1), "podman", "image", "inspect", IMAGE, "--format", "{{.Size}}").output().trim());
        deleteRecursively(saved);
    }

    // --- helpers

    /** Every class file of the packaged application, decompressed and concatenated, to look constants up in. */
    private static String shippedClassConstants() throws IOException {
        StringBuilder classes = new StringBuilder();
        List<Path> jars;
        try (Stream<Path> walk = Files.walk(Path.of("target/quarkus-app"))) {
            jars = walk.filter(path -> path.toString().endsWith(".jar")).toList();
        }
        for (Path jar : jars) {
            try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
                for (var entries = zip.entries(); entries.hasMoreElements(); ) {
                    var entry = entries.nextElement();
                    if (entry.getName().endsWith(".class")) {
                        try (var in = zip.getInputStream(entry)) {
                            classes.append(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
                        }
                    }
                }
            }
        }
        return classes.toString();
    }

    private static void awaitReady(HttpClient http, int management) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + management + "/q/health/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) return;
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("not ready in 90 s: " + run(Duration.ofMinutes(1), false, "podman", "logs", container).output());
            }
            Thread.sleep(200);
        }
    }

    /**
     * Storage on vfs and the runc runtime with cgroupfs and explicit ulimits: what works in unprivileged sandboxes
     * such as CI's (podman's defaults fail there: crun cannot raise RLIMIT_NOFILE, and hybrid cgroups are refused).
     */
    private static void writeContainerConfiguration() throws IOException {
        Path storage = CACHE.resolve("storage.conf");
        Files.writeString(storage, "[storage]\ndriver = \"vfs\"\ngraphroot = \"" + CACHE.resolve("containers/storage")
                + "\"\nrunroot = \"" + CACHE.resolve("containers/run") + "\"\n");
        Path engine = CACHE.resolve("containers.conf");
        Files.writeString(engine, "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n"
                + "[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n");
    }

    private record Result(int exit, String output) {
    }

    private static Result run(Duration timeout, String... command) throws Exception {
        return run(timeout, true, command);
    }

    private static Result run(Duration timeout, boolean mustSucceed, String... command) throws Exception {
        Path output = Files.createTempFile(WORK, "command", ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        builder.environment().put("CONTAINERS_STORAGE_CONF", CACHE.resolve("storage.conf").toString());
        builder.environment().put("CONTAINERS_CONF", CACHE.resolve("containers.conf").toString());
        Process process = builder.start();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command));
        }
        String text = Files.readString(output);
        Files.delete(output);
        if (mustSucceed && process.exitValue() != 0) {
            throw new AssertionError("exit " + process.exitValue() + ": " + String.join(" ", command) + "\n" + tail(text));
        }
        return new Result(process.exitValue(), text);
    }

    private static String tail(String text) {
        return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) return;
        List<Path> all = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(path)) {
            walk.forEach(all::add);
        }
        for (int i = all.size() - 1; i >= 0; i--) Files.delete(all.get(i));
    }

    private static String certificateDirectory() throws java.io.IOException {
        String directory = Path.of(dev.dockerconfigwebhook.testing.WebhookSettings.defaultOf("webhook.tls.cert")).getParent().toString();
        String script = Files.readString(Path.of("deploy/overlays/script/manifests.yaml"));
        assertTrue(script.contains("- name: tls\n              mountPath: " + directory + "\n"), "the variant mounts the Secret there");
        return directory;
    }
}
