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
        assertTrue(log.contains("admission webhook listening on https://0.0.0.0:8443/mutate"), "HTTPS on the default port");
        for (String credential : Fixtures.credentialValues()) {
            assertFalse(log.contains(credential), "no credential value in the packaged webhook's log");
        }
    }
}
