package dev.dockerconfigwebhook.packaged;

import dev.dockerconfigwebhook.testing.TestTls;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The packaged jar (target/quarkus-app) as its own process, serving the build's dev certificate. */
final class PackagedWebhook {

    private PackagedWebhook() {
    }

    /**
     * Starts {@code java [jvmOptions] -jar quarkus-run.jar} with no QUARKUS_ or WEBHOOK_ variables but the two TLS
     * properties and {@code env}, and returns once {@code port} accepts a TLS handshake.
     */
    static Process start(Path log, int port, Map<String, String> env, String... jvmOptions) throws Exception {
        Files.createDirectories(log.getParent());
        List<String> command = new java.util.ArrayList<>(List.of("java"));
        command.addAll(List.of(jvmOptions));
        command.addAll(List.of("-jar", "target/quarkus-app/quarkus-run.jar"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().keySet().removeIf(name -> name.startsWith("QUARKUS_") || name.startsWith("WEBHOOK_"));
        builder.environment().put("WEBHOOK_TLS_CERT", "target/certificates/dev.crt");
        builder.environment().put("WEBHOOK_TLS_KEY", "target/certificates/dev.key");
        builder.environment().putAll(env);
        Process process = builder.start();
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

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
