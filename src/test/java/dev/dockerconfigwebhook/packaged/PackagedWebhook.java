package dev.dockerconfigwebhook.packaged;

import dev.dockerconfigwebhook.testing.TestTls;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The packaged jar (target/quarkus-app) as its own process, serving the build's dev certificate. */
public final class PackagedWebhook {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PackagedWebhook() {
    }

    /**
     * Starts {@code java [jvmOptions] -jar quarkus-run.jar} with no QUARKUS_ or WEBHOOK_ variables but the two TLS
     * properties, the caBundle keeper off (there is no cluster; with it on the pod is ready only once an API server
     * confirms that caBundle trusts it) and {@code env}, and returns once {@code port} accepts a TLS handshake and the pod would be ready
     * (as Kubernetes routes reviews only to ready pods).
     */
    static Process start(Path log, int port, Map<String, String> env, String... jvmOptions) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("java"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-jar", "target/quarkus-app/quarkus-run.jar"));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.putIfAbsent("WEBHOOK_TLS_CERT", "target/certificates/dev.crt");
        all.putIfAbsent("WEBHOOK_TLS_KEY", "target/certificates/dev.key");
        all.putIfAbsent("WEBHOOK_CA_BUNDLE_KEEP", "false"); // no cluster: nobody to confirm caBundle's trust
        return start(log, port, all, Path.of("."), command);
    }

    /**
     * Starts the jar the way deploy/base/deployment.yaml runs it: its JAVA_OPTS and MALLOC_ARENA_MAX (read from that
     * file, so they cannot drift), from the application folder (the AppCDS path in JAVA_OPTS is relative to it), with
     * only the certificate paths, the caBundle keeper off (no cluster) and {@code env} set.
     */
    public static Process startAsDeployed(Path log, int port, Map<String, String> env) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("WEBHOOK_TLS_CERT", Path.of("target/certificates/dev.crt").toAbsolutePath().toString());
        all.put("WEBHOOK_TLS_KEY", Path.of("target/certificates/dev.key").toAbsolutePath().toString());
        all.putIfAbsent("WEBHOOK_CA_BUNDLE_KEEP", "false"); // no cluster: nobody to confirm caBundle's trust
        Process process = awaitHandshake(launchAsDeployed(log, all), port, log);
        return awaitReady(process, Integer.parseInt(all.getOrDefault("QUARKUS_MANAGEMENT_PORT", "9000")), log);
    }

    /**
     * Launches the jar the way deploy/base/deployment.yaml runs it (its JAVA_OPTS and MALLOC_ARENA_MAX), with only
     * {@code env} set (no certificate files: for self-managed certificates), and returns at once; see
     * {@link #awaitReady}.
     */
    public static Process launchAsDeployed(Path log, Map<String, String> env) throws Exception {
        Map<String, String> deployed = DeployedContainer.env();
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("MALLOC_ARENA_MAX", deployed.get("MALLOC_ARENA_MAX"));
        List<String> command = new java.util.ArrayList<>(List.of("java"));
        command.addAll(List.of(deployed.get("JAVA_OPTS").trim().split("\\s+")));
        command.addAll(List.of("-jar", "quarkus-run.jar"));
        return launch(log, all, Path.of("target/quarkus-app"), command);
    }

    private static Process start(Path log, int port, Map<String, String> env, Path directory, List<String> command)
            throws Exception {
        Process process = awaitHandshake(launch(log, env, directory, command), port, log);
        return awaitReady(process, Integer.parseInt(env.getOrDefault("QUARKUS_MANAGEMENT_PORT", "9000")), log);
    }

    /** Starts the jar with only {@code env} set and returns at once, without waiting for anything. */
    static Process launch(Path log, Map<String, String> env) throws Exception {
        return launch(log, env, Path.of("."), List.of("java", "-jar", "target/quarkus-app/quarkus-run.jar"));
    }

    private static Process launch(Path log, Map<String, String> env, Path directory, List<String> command)
            throws Exception {
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toAbsolutePath().toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("QUARKUS_") || name.startsWith("WEBHOOK_"));
        builder.environment().putAll(env);
        return builder.start();
    }

    /** Returns once the process reports ready on its management port; fails after 60 s or when it exits. */
    public static Process awaitReady(Process process, int managementPort, Path log) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            if (readiness(managementPort).map(r -> r.statusCode() == 200).orElse(false)) {
                return process;
            }
            if (System.nanoTime() > end || !process.isAlive()) {
                process.destroyForcibly();
                throw new AssertionError("the packaged webhook did not become ready; see " + log);
            }
            Thread.sleep(100);
        }
    }

    /** The readiness body once it contains {@code text}; fails after 60 s. */
    public static String awaitReadiness(int managementPort, String text, Path log) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        String body = "";
        while (System.nanoTime() < end) {
            body = readiness(managementPort).map(HttpResponse::body).orElse(body);
            if (body.contains(text)) return body;
            Thread.sleep(100);
        }
        throw new AssertionError("readiness never said \"" + text + "\" (last: " + body + "); see " + log);
    }

    /** One look at /q/health/ready; empty while the management port is not up yet. */
    private static java.util.Optional<HttpResponse<String>> readiness(int managementPort) throws InterruptedException {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://localhost:" + managementPort + "/q/health/ready"))
                .timeout(Duration.ofSeconds(5)).build();
        try {
            return java.util.Optional.of(HTTP.send(ready, HttpResponse.BodyHandlers.ofString()));
        } catch (IOException notYet) {
            return java.util.Optional.empty();
        }
    }

    private static Process awaitHandshake(Process process, int port, Path log) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try (SSLSocket socket = connect(port)) {
                return process;
            } catch (IOException notYet) {
                if (System.nanoTime() > end || !process.isAlive()) {
                    process.destroyForcibly();
                    throw new AssertionError("the packaged webhook did not start on " + port + "; see " + log);
                }
                Thread.sleep(50);
            }
        }
    }

    static SSLSocket connect(int port) throws IOException {
        SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory().createSocket("localhost", port);
        socket.setSoTimeout(15_000);
        socket.startHandshake();
        return socket;
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
