package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.observability.ReviewMetrics;
import dev.dockerconfigwebhook.startup.ServingWarmUp;
import dev.dockerconfigwebhook.testing.TestTls;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import dev.dockerconfigwebhook.tls.TlsEngine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The start-up warm-up's second stage, through a real server without Quarkus: every review it sends is answered with
 * the expected patch over both protocols before the server reports ready; none of them is counted; and its token
 * stops counting for anything once the server is ready.
 */
class LoopbackWarmUpTest {

    private final Vertx vertx = Vertx.vertx();
    private final MeterRegistry registry = new SimpleMeterRegistry();
    private AdmissionServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(null);
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    @Test
    void reviewsGoThroughThePortBeforeReadinessAndAreNotCounted() throws Exception {
        server = new AdmissionServer(vertx, new ServingCertificate(vertx, "target/certificates/dev.crt",
                "target/certificates/dev.key", Duration.ofHours(1)), new ReviewMetrics(registry), false, "0.0.0.0", 0,
                Duration.ofSeconds(1), true, TlsEngine.OPENSSL);
        server.start(null);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!server.serving() && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(server.serving(), "ready after the warm-up");

        LoopbackWarmUp.Result result = server.loopbackWarmUp();
        assertNotNull(result, "the warm-up reached its second stage (the first logs why when it does not)");
        assertTrue(result.complete(), "ran to its end: " + result);
        int perProtocol = LoopbackWarmUp.SMALL_REVIEWS / 2 + LoopbackWarmUp.LARGE_REVIEWS / 2;
        assertEquals(LoopbackWarmUp.NEW_CONNECTIONS + perProtocol, result.http1Answers(), "HTTP/1.1 answers");
        assertEquals(LoopbackWarmUp.NEW_CONNECTIONS, result.onNewConnections(), "answers on connections of their own");
        assertEquals(perProtocol, result.http2Answers(), "HTTP/2 answers (listening on 0.0.0.0, reached on 127.0.0.1)");
        assertEquals(0, reviewsCounted(), "the warm-up's reviews are counted nowhere");
        assertEquals(0, registry.get("webhook.review.duration").timer().count());

        // Once ready, the token is just another header: the review is counted as any other.
        HttpClient client = HttpClient.newBuilder().sslContext(TestTls.devTrust()).build();
        HttpResponse<String> answer = client.send(HttpRequest.newBuilder(
                        URI.create("https://localhost:" + server.port() + "/mutate"))
                .header("Content-Type", "application/json").header(LoopbackWarmUp.TOKEN_HEADER, server.token())
                .POST(HttpRequest.BodyPublishers.ofByteArray(ServingWarmUp.review(1, false))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        // Counted just after the answer is handed to Netty, so possibly after this client has read it.
        long counted = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (reviewsCounted() < 1 && System.nanoTime() < counted) Thread.sleep(10);
        assertEquals(1, reviewsCounted());
    }

    private double reviewsCounted() {
        return registry.get("webhook.reviews").counters().stream().mapToDouble(Counter::count).sum();
    }
}
