package dev.dockerconfigwebhook.packaged;

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
        // Nothing but the two TLS properties: default ports 8443 (HTTPS) and 9000 (management, plain HTTP).
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
        assertTrue(log.contains("admission webhook listening on https://0.0.0.0:8443/mutate (HTTP/2 and HTTP/1.1, TLS by "
                + "BoringSSL)"), "HTTPS on the default port, TLS by BoringSSL");
        for (String credential : Fixtures.credentialValues()) {
            assertFalse(log.contains(credential), "no credential value in the packaged webhook's log");
        }
    }

    /**
     * Where BoringSSL cannot be unpacked (here: its directory is under a device file, as a read-only or missing /tmp
     * would leave it), the webhook serves with the JDK's engine, answers as before, and says why once.
     */
    @Test
    void withoutBoringSslItServesWithTheJdksEngineAndSaysWhy() throws Exception {
        Path log = Path.of("target/it-logs/packaged-jar-jdk-tls.log");
        int port = PackagedWebhook.freePort();
        Process fallback = PackagedWebhook.start(log, port, Map.of("WEBHOOK_PORT", String.valueOf(port),
                        "QUARKUS_MANAGEMENT_PORT", String.valueOf(PackagedWebhook.freePort()), "WEBHOOK_WARM_UP", "false",
                        "WEBHOOK_CA_BUNDLE_KEEP", "false"),
                "-Dio.netty.native.workdir=/dev/null/unpack");
        try {
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
            fallback.destroy();
            fallback.waitFor();
        }
        List<String> warnings = Files.readAllLines(log).stream().filter(line -> line.contains(" WARN ")).toList();
        assertEquals(1, warnings.size(), "one warning: " + warnings);
        assertTrue(warnings.get(0).contains("webhook.tls.engine=openssl, but BoringSSL cannot load here")
                && warnings.get(0).contains("/dev/null/unpack") && warnings.get(0).contains("Not a directory"),
                "the warning names the problem: " + warnings.get(0));
        assertTrue(Files.readString(log).contains("(HTTP/2 and HTTP/1.1, TLS by the JDK)"), "served by the JDK's engine");
    }
}
