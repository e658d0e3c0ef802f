package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.admission.AdmissionReviewReader;
import dev.dockerconfigwebhook.admission.AdmissionReviewWriter;
import dev.dockerconfigwebhook.admission.SecretMutator;
import dev.dockerconfigwebhook.startup.ServingWarmUp;
import dev.dockerconfigwebhook.testing.TestTls;
import io.quarkus.arc.Arc;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Large reviews of different secrets, many at once, over HTTP/1.1 and HTTP/2: every answer is byte for byte the one
 * the pure core gives for that review. Their bodies are of one {@link BodyArrays} size class, so their arrays are
 * reused between them: an array handed to two reviews at once (as when ReviewExchange gave one back twice) splices
 * two uploads, and some review gets another's patch, or none.
 */
@QuarkusTest
class ConcurrentLargeReviewsTest {

    private static final int[] REGISTRIES = {1_950, 1_975, 2_000, 2_025};
    private static final int REVIEWS = 320;
    /** Per client: the JDK's HTTP/2 client fails a stream over the webhook's limit instead of opening a connection. */
    private static final int AT_ONCE = Limits.MAX_CONCURRENT_STREAMS;

    @Test
    void everyConcurrentLargeReviewGetsItsOwnAnswer() throws Exception {
        AdmissionServer server = Arc.container().instance(AdmissionServer.class).get();
        List<byte[]> bodies = new ArrayList<>();
        List<byte[]> answers = new ArrayList<>();
        for (int registries : REGISTRIES) {
            for (boolean indented : new boolean[] {false, true}) {
                byte[] body = ServingWarmUp.review(registries, indented);
                bodies.add(body);
                answers.add(AdmissionReviewWriter.write(
                        new SecretMutator(false).mutate(AdmissionReviewReader.read(body, body.length)).response()));
            }
        }
        long classes = bodies.stream().mapToLong(body -> BodyArrays.arrayLength(body.length)).distinct().count();
        assertTrue(classes < bodies.size(), "some bodies of different reviews share a size class: " + classes);

        long reusedBefore = server.bodyArrays().reused();
        URI uri = URI.create("https://localhost:" + server.port() + "/mutate");
        HttpClient[] clients = {
                HttpClient.newBuilder().sslContext(TestTls.devTrust()).version(HttpClient.Version.HTTP_1_1).build(),
                HttpClient.newBuilder().sslContext(TestTls.devTrust()).version(HttpClient.Version.HTTP_2).build()};
        Semaphore[] slots = {new Semaphore(AT_ONCE), new Semaphore(AT_ONCE)};
        List<CompletableFuture<String>> checks = new ArrayList<>();
        for (int i = 0; i < REVIEWS; i++) {
            Semaphore slot = slots[i % 2];
            slot.acquire();
            int which = (i * 5) % bodies.size();
            HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(which))).build();
            checks.add(clients[i % 2].sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
                    .handle((response, failure) -> {
                        slot.release();
                        if (failure != null) return "review " + which + ": " + failure;
                        if (response.statusCode() != 200) return "review " + which + ": status " + response.statusCode();
                        return Arrays.equals(answers.get(which), response.body()) ? null
                                : "review " + which + " over " + response.version() + ": another answer ("
                                + response.body().length + " bytes, expected " + answers.get(which).length + ")";
                    }));
        }
        List<String> wrong = new ArrayList<>();
        for (CompletableFuture<String> check : checks) {
            String problem = check.get(60, TimeUnit.SECONDS);
            if (problem != null) wrong.add(problem);
        }
        assertEquals(List.of(), wrong.subList(0, Math.min(5, wrong.size())), wrong.size() + " of " + REVIEWS + " wrong");
        assertTrue(server.bodyArrays().reused() - reusedBefore > REVIEWS / 2,
                "the arrays were reused between reviews: " + (server.bodyArrays().reused() - reusedBefore));
    }
}
