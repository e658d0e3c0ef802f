package dev.dockerconfigwebhook.packaged;

import dev.dockerconfigwebhook.testing.TestLog;
import dev.dockerconfigwebhook.testing.Fixtures;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar, started as in production (only the two TLS properties, -Xmx80m), receives SIGTERM while reviews
 * are half uploaded: they are still answered correctly, and the process then exits promptly.
 */
class GracefulShutdownIT {

    private static final Path LOG = Path.of("target/it-logs/graceful-shutdown.log");

    private Process webhook;

    @AfterEach
    void stop() {
        if (webhook != null) webhook.destroyForcibly();
    }

    @Test
    void inFlightReviewsCompleteAndTheProcessExitsPromptly() throws Exception {
        int port = PackagedWebhook.freePort();
        webhook = PackagedWebhook.start(LOG, port, Map.of("QUARKUS_HTTP_SSL_PORT", String.valueOf(port),
                "QUARKUS_MANAGEMENT_PORT", String.valueOf(PackagedWebhook.freePort())), "-Xmx80m");

        // Four reviews whose headers and first half have arrived when SIGTERM does.
        List<SSLSocket> inFlight = new ArrayList<>();
        List<byte[]> bodies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            byte[] body = Fixtures.withUid("update-kubectl-edit-password-only.json", "in-flight-" + i);
            SSLSocket socket = PackagedWebhook.connect(port);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, body.length / 2);
            out.flush();
            inFlight.add(socket);
            bodies.add(body);
        }
        Thread.sleep(500);
        long sigterm = System.nanoTime();
        webhook.destroy(); // SIGTERM
        Thread.sleep(500);

        for (int i = 0; i < inFlight.size(); i++) {
            SSLSocket socket = inFlight.get(i);
            byte[] body = bodies.get(i);
            socket.getOutputStream().write(body, body.length / 2, body.length - body.length / 2);
            socket.getOutputStream().flush();
            String response = readResponse(socket.getInputStream());
            assertTrue(response.startsWith("HTTP/1.1 200"), "in-flight review " + i + " was answered: " + firstLine(response));
            assertTrue(response.contains("\"uid\":\"in-flight-" + i + "\"") && response.contains("\"patchType\":\"JSONPatch\""),
                    "and answered correctly");
            socket.close();
        }

        assertTrue(webhook.waitFor(15, TimeUnit.SECONDS), "the process exits once in-flight reviews are done");
        long exitedAfter = Duration.ofNanos(System.nanoTime() - sigterm).toMillis();
        assertTrue(exitedAfter < 10_000, "exited " + exitedAfter + " ms after SIGTERM");

        String log = Files.readString(LOG);
        assertTrue(log.contains("review uid=in-flight-3"), "the log was captured");
        TestLog.assertNoCredential(log, "the packaged webhook's log");
    }

    /**
     * A stalled upload (half a body, then silence) does not hold SIGTERM hostage: the drain gives up after
     * quarkus.shutdown.timeout (3 s here, to keep the test short; 20 s as deployed) and the process exits.
     */
    @Test
    void aStalledUploadDoesNotHoldTheShutdownBeyondTheTimeout() throws Exception {
        int port = PackagedWebhook.freePort();
        webhook = PackagedWebhook.start(Path.of("target/it-logs/graceful-shutdown-stalled.log"), port,
                Map.of("QUARKUS_HTTP_SSL_PORT", String.valueOf(port), "QUARKUS_SHUTDOWN_TIMEOUT", "3s",
                        "QUARKUS_MANAGEMENT_PORT", String.valueOf(PackagedWebhook.freePort())), "-Xmx80m");
        byte[] body = Fixtures.bytes("update-kubectl-edit-password-only.json");
        try (SSLSocket stalled = PackagedWebhook.connect(port)) {
            stalled.getOutputStream().write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                    + "\r\nContent-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            stalled.getOutputStream().write(body, 0, body.length / 2);
            stalled.getOutputStream().flush();
            Thread.sleep(500);
            long sigterm = System.nanoTime();
            webhook.destroy(); // SIGTERM
            assertTrue(webhook.waitFor(15, TimeUnit.SECONDS), "the process exits although the upload never completes");
            long exitedAfter = Duration.ofNanos(System.nanoTime() - sigterm).toMillis();
            assertTrue(exitedAfter >= 2_500, "it did wait for the upload first: " + exitedAfter + " ms");
        }
        String log = Files.readString(Path.of("target/it-logs/graceful-shutdown-stalled.log"));
        assertTrue(log.contains("Timed out waiting for graceful shutdown, shutting down anyway"), "the drain gave up, and said so");
    }

    /** Reads one HTTP/1.1 response with a Content-Length body. */
    private static String readResponse(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) return head.toString();
            head.append((char) b);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    private static String firstLine(String response) {
        return response.isEmpty() ? "(connection closed)" : response.lines().findFirst().orElse("");
    }

}
