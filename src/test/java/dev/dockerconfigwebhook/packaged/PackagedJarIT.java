package dev.dockerconfigwebhook.packaged;

import dev.dockerconfigwebhook.testing.TestLog;
import dev.dockerconfigwebhook.testing.Expectation;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.TestTls;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar started with nothing but the two TLS properties (default ports 8443 and 9000) answers every
 * AdmissionReview recorded from a real kube-apiserver as the in-process tests expect.
 */
class PackagedJarIT {

    private static final Path LOG = Path.of("target/it-logs/packaged-jar.log");
    private static Process webhook;

    @BeforeAll
    static void start() throws Exception {
        // Nothing but the two TLS properties and the keeper off (no cluster): default ports 8443 (HTTPS) and 9000
        // (management, plain HTTP).
        webhook = PackagedWebhook.start(LOG, 8443, Map.of());
    }

    @AfterAll
    static void stop() throws Exception {
        if (webhook != null) {
            webhook.destroy();
            webhook.waitFor();
        }
    }

    @Test
    void answersEveryRecordedReviewAndIsReady() throws Exception {
        HttpClient http = HttpClient.newBuilder().sslContext(TestTls.devTrust()).build();
        List<Expectation> expectations = Expectation.ALL;
        assertEquals(Fixtures.ALL.size(), expectations.size());
        for (Expectation expected : expectations) {
            HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(URI.create("https://localhost:8443/mutate"))
                    .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(expected.fixture()))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode(), expected.fixture());
            expected.assertAnswer(response.body());
        }
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://localhost:9000/q/health/ready"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, ready.statusCode(), ready.body());

        String log = Files.readString(LOG);
        assertTrue(log.contains("Listening on: https://0.0.0.0:8443."), "HTTPS on the default port, and nothing else");
        TestLog.assertNoCredential(log, "the packaged webhook's log");
    }

    /**
     * Quarkus's HTTPS server gets its key material from the reloading serving certificate, not from files Quarkus reads
     * at start: so with the files missing the process starts, stays up and not ready, refuses handshakes, and once the
     * files appear serves them and becomes ready, without a restart.
     */
    @Test
    void withoutCertificateFilesItStaysUpNotReadyUntilTheyAppear() throws Exception {
        Path log = Path.of("target/it-logs/packaged-jar-no-certificate.log");
        Path dir = Files.createDirectories(Path.of("target/it-no-certificate").toAbsolutePath());
        Files.deleteIfExists(dir.resolve("tls.crt"));
        Files.deleteIfExists(dir.resolve("tls.key"));
        int port = PackagedWebhook.freePort();
        int management = PackagedWebhook.freePort();
        Process webhook = PackagedWebhook.launch(log, Map.of("QUARKUS_HTTP_SSL_PORT", String.valueOf(port),
                "QUARKUS_MANAGEMENT_PORT", String.valueOf(management), "WEBHOOK_CA_BUNDLE_KEEP", "false",
                "WEBHOOK_TLS_CERT", dir.resolve("tls.crt").toString(), "WEBHOOK_TLS_KEY", dir.resolve("tls.key").toString(),
                "WEBHOOK_CERTIFICATES_CHECK_PERIOD", "1s"));
        try {
            HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpRequest ready = HttpRequest.newBuilder(URI.create("http://localhost:" + management + "/q/health/ready"))
                    .timeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> notReady = null;
            for (int i = 0; i < 300 && notReady == null; i++) {
                try {
                    notReady = plain.send(ready, HttpResponse.BodyHandlers.ofString());
                } catch (java.io.IOException starting) {
                    Thread.sleep(100);
                }
            }
            assertTrue(notReady != null && webhook.isAlive(), "the process is up; see " + log);
            assertEquals(503, notReady.statusCode(), notReady.body());
            assertTrue(notReady.body().contains("tls.crt: file not found"), notReady.body());
            assertThrows(java.io.IOException.class, () -> PackagedWebhook.connect(port), "no certificate, no handshake");

            Files.copy(Path.of("target/certificates/dev.key"), dir.resolve("tls.key"));
            Files.copy(Path.of("target/certificates/dev.crt"), dir.resolve("tls.crt"));
            int status = 0;
            for (int i = 0; i < 100 && status != 200; i++) {
                Thread.sleep(100);
                status = plain.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode();
            }
            assertEquals(200, status, "ready once the files are there");
            Expectation expected = Expectation.ALL.stream()
                    .filter(e -> e.fixture().equals("update-kubectl-edit-password-only.json")).findFirst().orElseThrow();
            HttpResponse<byte[]> response = HttpClient.newBuilder().sslContext(TestTls.devTrust()).build().send(
                    HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/mutate"))
                            .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(expected.fixture()))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, response.statusCode());
            expected.assertAnswer(response.body());
        } finally {
            webhook.destroy();
            webhook.waitFor();
        }
        List<String> warnings = Files.readAllLines(log).stream().filter(line -> line.contains(" WARN ")).toList();
        assertEquals(1, warnings.size(), "the missing file is said once, not every period: " + warnings);
    }
}
