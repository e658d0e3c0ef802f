package dev.dockerconfigwebhook.packaged;

import dev.dockerconfigwebhook.testing.TestLog;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dockerconfigwebhook.testing.Base64Text;
import dev.dockerconfigwebhook.testing.Expectation;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.JsonPatch;
import dev.dockerconfigwebhook.testing.Reviews;
import dev.dockerconfigwebhook.testing.TestTls;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar, started exactly as deploy/base/deployment.yaml runs it (its JAVA_OPTS, -Xmx and
 * ExitOnOutOfMemoryError included), under every attack that once took it down or filled its log. After each attack
 * the process must be alive and answer a normal review correctly. Outcomes and liveness are asserted, never timings;
 * every loop is bounded, and all traffic goes to this test's own process on loopback.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileInputIT {

    private static final Path LOG = Path.of("target/it-logs/hostile-input.log");
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Expectation NORMAL = Expectation.ALL.stream()
            .filter(e -> e.fixture().equals("update-kubectl-edit-password-only.json")).findFirst().orElseThrow();

    private static Process webhook;
    private static int port;
    private static HttpClient http;
    /**
     * Opened at the start and left stalled: the server must cut them, a stalled body at the 10 s review deadline, a
     * stalled head (no request yet) at the 30 s idle timeout.
     */
    private static final List<StalledConnection> stalled = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        port = PackagedWebhook.freePort();
        webhook = PackagedWebhook.startAsDeployed(LOG, port, Map.of("QUARKUS_HTTP_SSL_PORT", String.valueOf(port),
                "QUARKUS_MANAGEMENT_PORT", String.valueOf(PackagedWebhook.freePort())));
        http = HttpClient.newBuilder().sslContext(TestTls.devTrust()).version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        // A request head that never completes, and a body that stops halfway: both must be cut by the server.
        stalled.add(StalledConnection.open(port, "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: appl"));
        stalled.add(StalledConnection.open(port, "POST /mutate HTTP/1.1\r\nHost: localhost\r\n"
                + "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"apiVersion\":"));
        // The same stalled head, on a keep-alive connection that has already had a review answered.
        stalled.add(StalledConnection.openAfterOneReview(port, "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Ty"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (StalledConnection connection : stalled) connection.socket.close();
        if (webhook != null) {
            webhook.destroy();
            webhook.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @AfterEach
    void aliveAndCorrect() throws Exception {
        assertTrue(webhook.isAlive(), "the webhook process is alive; see " + LOG);
        HttpResponse<byte[]> answer = post(Fixtures.bytes(NORMAL.fixture()));
        assertEquals(200, answer.statusCode(), "a normal review is answered");
        NORMAL.assertAnswer(answer.body());
    }

    @Test
    @Order(1)
    void craftedDocumentTwiceAtOnceIsAnsweredWithAWarning() throws Exception {
        // 350,000 members: a 2.1 MB document, a 2.8 MB review, under the API server's 3 MiB request limit.
        byte[] crafted = Reviews.create("crafted", "crafted", Reviews.craftedDocument(350_000));
        assertTrue(crafted.length > 2_700_000 && crafted.length < 3 * 1024 * 1024, "size " + crafted.length);
        List<CompletableFuture<HttpResponse<String>>> answers = List.of(postAsync(crafted), postAsync(crafted));
        for (CompletableFuture<HttpResponse<String>> future : answers) {
            HttpResponse<String> answer = future.get(60, TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode response = MAPPER.readTree(answer.body()).path("response");
            assertTrue(response.path("allowed").asBoolean());
            assertFalse(response.has("patch"));
            assertEquals(".dockerconfigjson is larger than the 1 MiB a Secret can hold; left unchanged, not parsed",
                    response.path("warnings").path(0).asText());
        }
    }

    @Test
    @Order(2)
    void sixteenConcurrentOneMebibyteUpdatesAreAllAnsweredCorrectly() throws Exception {
        // Every document differs in every password and in size (2.5 down to 2.1 MB of review), so that an answer made
        // from another review's bytes, or from bytes of a longer one before it, fails the check of every entry below.
        // The largest is the size of bench/make-review.py's 10,000 registries; its fix stays under the 1 MiB a
        // Secret can hold (the longer new passwords make longer auths).
        List<String> documents = new ArrayList<>();
        List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            documents.add(Reviews.staleDocument(registries(i), "burst" + i + "-"));
            answers.add(postAsync(Reviews.update("big-" + i, documents.get(i))));
        }
        assertTrue(documents.get(0).length() > 900_000 && documents.get(0).length() < 1024 * 1024,
                "a ~1 MiB secret: " + documents.get(0).length());
        for (int i = 0; i < answers.size(); i++) {
            HttpResponse<String> answer = answers.get(i).get(60, TimeUnit.SECONDS);
            assertEquals(200, answer.statusCode(), "review " + i + ": " + answer.body());
            assertAllAuthsFixed(answer.body(), "big-" + i, documents.get(i), registries(i), "burst" + i + "-");
        }
    }

    @Test
    @Order(3)
    void sixteenConcurrentOneMebibyteUpdatesOverHttp2AreAllAnsweredCorrectly() throws Exception {
        // As the API server sends them: multiplexed over a few connections. Two rounds, each on new connections: in
        // the first this JVM's own HTTP/2 client is still cold and may upload slower than the 3 s budget wait allows
        // for the last ones; the second must answer every one.
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            List<String> documents = new ArrayList<>();
            List<byte[]> bodies = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                documents.add(Reviews.staleDocument(registries(i), "h2rev" + i + "-"));
                bodies.add(Reviews.update("h2-big-" + i, documents.get(i)));
            }
            for (int round = 0; round < 2; round++) {
                io.vertx.core.http.HttpClient h2 = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                        .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
                        .setTrustAll(true).setVerifyHost(false), new io.vertx.core.http.PoolOptions().setHttp2MaxSize(4));
                List<CompletableFuture<io.vertx.core.http.HttpClientResponse>> responses = new ArrayList<>();
                List<CompletableFuture<String>> answers = new ArrayList<>();
                for (byte[] body : bodies) {
                    CompletableFuture<io.vertx.core.http.HttpClientResponse> response = new CompletableFuture<>();
                    responses.add(response);
                    answers.add(h2.request(new io.vertx.core.http.RequestOptions()
                                    .setMethod(io.vertx.core.http.HttpMethod.POST).setHost("localhost").setPort(port)
                                    .setURI("/mutate").setTimeout(60_000).putHeader("Content-Type", "application/json"))
                            // body() inside send()'s callback, on the event loop: chained from this thread it can
                            // come after the answer's bytes and find none (measured: 5-8 of 30 rounds, an empty 200).
                            .compose(request -> request.send(io.vertx.core.buffer.Buffer.buffer(body)).compose(answer -> {
                                response.complete(answer);
                                return answer.body().map(io.vertx.core.buffer.Buffer::toString);
                            }))
                            .toCompletionStage().toCompletableFuture());
                }
                for (int i = 0; i < answers.size(); i++) {
                    String answer = answers.get(i).get(60, TimeUnit.SECONDS);
                    io.vertx.core.http.HttpClientResponse response = responses.get(i).get();
                    assertEquals(io.vertx.core.http.HttpVersion.HTTP_2, response.version());
                    if (round == 0 && response.statusCode() == 503) continue;
                    assertEquals(200, response.statusCode(), "round " + round + ", review " + i + ": " + answer);
                    assertAllAuthsFixed(answer, "h2-big-" + i, documents.get(i), registries(i), "h2rev" + i + "-");
                }
                h2.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    private static int registries(int review) {
        return 9_300 - 100 * review;
    }

    @Test
    @Order(4)
    void sixteenChunkedBodiesOverTheLimitAreRefused() throws Exception {
        List<Integer> statuses = inParallel(16, i -> {
            try (SSLSocket socket = PackagedWebhook.connect(port)) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] chunk = new byte[64 * 1024];
                java.util.Arrays.fill(chunk, (byte) ' ');
                try {
                    for (int sent = 0; sent < 9 * 1024 * 1024; sent += chunk.length) { // 9 MiB > the 8 MiB limit
                        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(chunk);
                        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                    }
                    out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                } catch (IOException refusedMidway) {
                    // the server answered and closed while we were still sending: read what it said
                }
                return RawResponse.read(socket.getInputStream()).status();
            }
        });
        for (int status : statuses) {
            // 411 before a byte of the body is read (the API server always sends Content-Length); -1 where the
            // server's answer and close came while the client was still sending and the socket lost the answer.
            assertTrue(status == 411 || status == -1, "refused: " + statuses);
        }
    }

    @Test
    @Order(5)
    void slowUploadsDoNotStarveNormalReviews() throws Exception {
        ExecutorService senders = Executors.newFixedThreadPool(16);
        List<SSLSocket> sockets = new ArrayList<>();
        AtomicLong sent = new AtomicLong();
        long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
        try {
            for (int i = 0; i < 16; i++) {
                SSLSocket socket = PackagedWebhook.connect(port);
                sockets.add(socket);
                senders.submit(() -> {
                    OutputStream out = socket.getOutputStream();
                    out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "Content-Length: " + 8 * 1024 * 1024 + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    byte[] slice = new byte[30 * 1024]; // 300 KB/s
                    java.util.Arrays.fill(slice, (byte) ' ');
                    while (System.nanoTime() < until) {
                        out.write(slice);
                        out.flush();
                        sent.addAndGet(slice.length);
                        Thread.sleep(100);
                    }
                    return null;
                });
            }
            Thread.sleep(2500); // every slow upload has been granted or refused its budget by now
            for (int i = 0; i < 5; i++) {
                aliveAndCorrect(); // normal reviews go through while the uploads crawl
            }
        } finally {
            senders.shutdownNow();
            senders.awaitTermination(10, TimeUnit.SECONDS);
            for (SSLSocket socket : sockets) socket.close();
        }
        assertTrue(sent.get() > 0, "the slow uploads sent data");
    }

    @Test
    @Order(6)
    void oneHttp2ConnectionWithManyLargeStreamsIsBounded() throws Exception {
        // Vert.x's client (Netty's HTTP/2 flow control, as robust as Go's): the JDK's client can stall its own uploads
        // when many streams share a connection window, which would test the client, not the server.
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            io.vertx.core.http.HttpClient h2 = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                    .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
                    .setTrustAll(true).setVerifyHost(false).setHttp2MultiplexingLimit(100),
                    new io.vertx.core.http.PoolOptions().setHttp2MaxSize(1)); // one connection for all 100 streams
            String document = Reviews.staleDocument(6_000);
            List<CompletableFuture<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                io.vertx.core.buffer.Buffer body = io.vertx.core.buffer.Buffer.buffer(Reviews.update("h2-" + i, document));
                answers.add(h2.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
                                .setHost("localhost").setPort(port).setURI("/mutate").setTimeout(60_000)
                                .putHeader("Content-Type", "application/json"))
                        .compose(request -> request.send(body).compose(response -> {
                            assertEquals(io.vertx.core.http.HttpVersion.HTTP_2, response.version());
                            return response.body().map(b -> response.statusCode());
                        }))
                        .toCompletionStage().toCompletableFuture());
            }
            int answered = 0;
            for (CompletableFuture<Integer> future : answers) {
                try {
                    int status = future.get(90, TimeUnit.SECONDS);
                    assertTrue(status == 200 || status == 503, "status " + status);
                    if (status == 200) answered++;
                } catch (java.util.concurrent.ExecutionException e) {
                    // refused or reset by the server; the server's liveness is what is under test
                }
            }
            assertTrue(answered > 0, "some of the streams were answered");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(7)
    void requestControlledValuesCannotForgeOrFloodLogLines() throws Exception {
        String forged = "x\n2026-01-01 00:00:00,000 INFO  [dev.dockerconfigwebhook] FORGED LINE";
        String uid = "u\r\u001b[31mred\u2028sep\u2029para\u202eevil";
        String hugeUid = "h".repeat(1024 * 1024);
        assertEquals(200, post(Reviews.create(uid, forged, Reviews.staleDocument(1))).statusCode());
        assertEquals(200, post(Reviews.create(hugeUid, "huge-uid", Reviews.staleDocument(1))).statusCode());
        String registry = "evil.io\n2026-01-01 00:00:00,000 INFO FORGED REGISTRY";
        String document = "{\"auths\":{" + Reviews.json(registry) + ":{\"username\":\"u\",\"password\":\"p\"}}}";
        assertEquals(200, post(Reviews.create("forged-registry", "forged-registry", document)).statusCode());
        waitForLog("name=huge-uid");

        List<String> lines = Files.readAllLines(LOG, StandardCharsets.UTF_8);
        for (String line : lines) {
            assertFalse(line.contains("FORGED") && !line.contains("review uid="), "a forged line: " + line);
            assertTrue(line.length() < 4096, "a log line of " + line.length() + " characters");
            for (char c : new char[] {'\r', '\u001b', '\u2028', '\u2029', '\u202e'}) {
                assertTrue(line.indexOf(c) < 0, "raw control character U+" + Integer.toHexString(c) + " in: " + line);
            }
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("name=\"x\\n2026-01-01")), "the name is escaped, not dropped");
    }

    @Test
    @Order(8)
    void clientsThatGiveUpOrSendGarbageCostOneQuietLine() throws Exception {
        // The API server gives up after timeoutSeconds: half a body, then the connection closes.
        for (int i = 0; i < 20; i++) {
            try (SSLSocket socket = PackagedWebhook.connect(port)) {
                socket.getOutputStream().write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                        + "application/json\r\nContent-Length: 100000\r\n\r\n" + " ".repeat(50_000))
                        .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
            }
        }
        // An HTTP/2 client whose connection preface is garbage.
        for (int i = 0; i < 5; i++) {
            try (SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory().createSocket("localhost", port)) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setApplicationProtocols(new String[] {"h2"});
                socket.setSSLParameters(parameters);
                socket.setSoTimeout(10_000);
                socket.startHandshake();
                assertEquals("h2", socket.getApplicationProtocol());
                socket.getOutputStream().write("GARBAGE / HTTP/9.9\r\n\r\nnot a preface at all".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                drain(socket.getInputStream());
            }
        }
        // Request line and headers over quarkus.http.limits: 414 and 431, and 400 for garbage, from Vert.x itself (no
        // body: Quarkus offers no hook for requests its codec cannot read, and the API server never sends them).
        assertEquals(414, raw("POST /mutate?" + "q".repeat(8000) + " HTTP/1.1\r\nHost: localhost\r\n\r\n").status());
        assertEquals(431, raw("POST /mutate HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "h".repeat(20_000) + "\r\n\r\n").status());
        assertEquals(400, raw("\u0001\u0002 garbage\r\n\r\n").status());
        // An HTTP version Vert.x does not know was answered as HTTP/1.1: now 505 with the one-line JSON body, and closed.
        RawResponse unknownVersion = raw("POST /mutate HTTP/9.9\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Content-Length: 2\r\n\r\n{}");
        assertEquals(505, unknownVersion.status(), unknownVersion.body());
        assertEquals("{\"error\":\"HTTP version not supported: use HTTP/1.1 or HTTP/2\"}", unknownVersion.body().strip());

        waitForLog("review abandoned");
        String log = Files.readString(LOG, StandardCharsets.UTF_8);
        assertTrue(log.contains("review abandoned:"), "a client abort is one INFO line");
    }

    @Test
    @Order(9)
    void clientsThatNeverReadTheirAnswersGiveTheBudgetBack() throws Exception {
        // Eight HTTP/2 streams whose client announces a zero window (the answer can never be sent) and eight HTTP/1.1
        // connections that send a 1 MiB review and never read: the large-review budget is held only until the review
        // deadline (10 s) cuts them, after which sixteen 1 MiB reviews are all answered.
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        List<SSLSocket> silent = new ArrayList<>();
        try {
            io.vertx.core.http.HttpClient h2 = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                    .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
                    .setTrustAll(true).setVerifyHost(false)
                    .setInitialSettings(new io.vertx.core.http.Http2Settings().setInitialWindowSize(0)));
            byte[] large = Reviews.update("never-read", Reviews.staleDocument(9_000));
            for (int i = 0; i < 8; i++) {
                h2.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
                        .setHost("localhost").setPort(port).setURI("/mutate").putHeader("Content-Type", "application/json"))
                        .compose(request -> request.send(io.vertx.core.buffer.Buffer.buffer(large)));
                SSLSocket socket = PackagedWebhook.connect(port);
                socket.getOutputStream().write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                        + "\r\nContent-Length: " + large.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(large);
                socket.getOutputStream().flush();
                silent.add(socket);
            }
            for (int i = 0; i < 3; i++) aliveAndCorrect(); // small reviews have a lane of their own meanwhile
            Thread.sleep(12_000); // past the review deadline
            List<String> documents = new ArrayList<>();
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                documents.add(Reviews.staleDocument(registries(i), "quiet" + i + "-"));
                answers.add(postAsync(Reviews.update("after-" + i, documents.get(i))));
            }
            for (int i = 0; i < answers.size(); i++) {
                HttpResponse<String> answer = answers.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(200, answer.statusCode(), "review " + i + ": " + answer.body());
                assertAllAuthsFixed(answer.body(), "after-" + i, documents.get(i), registries(i), "quiet" + i + "-");
            }
        } finally {
            for (SSLSocket socket : silent) socket.close();
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(10)
    void aFloodOfTlsHandshakesDoesNotStopReviews() throws Exception {
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        AtomicLong handshakes = new AtomicLong();
        ExecutorService flood = Executors.newFixedThreadPool(8);
        try {
            for (int t = 0; t < 8; t++) {
                flood.submit(() -> {
                    while (System.nanoTime() < until) {
                        try (SSLSocket socket = PackagedWebhook.connect(port)) {
                            handshakes.incrementAndGet();
                        }
                    }
                    return null;
                });
            }
            while (System.nanoTime() < until) {
                aliveAndCorrect(); // each on a new connection of its own handshake, and on the kept-alive one
                Thread.sleep(200);
            }
        } finally {
            flood.shutdownNow();
            flood.awaitTermination(10, TimeUnit.SECONDS);
        }
        assertTrue(handshakes.get() > 100, "the flood ran: " + handshakes.get() + " handshakes");
    }

    @Test
    @Order(11)
    void twoThousandIdleConnectionsDoNotKeepOutANewOne() throws Exception {
        List<SSLSocket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 2_000; i++) {
                idle.add(PackagedWebhook.connect(port)); // handshake done, then nothing
            }
            // A connection of its own, after all of them: accepted and answered.
            HttpClient fresh = HttpClient.newBuilder().sslContext(TestTls.devTrust()).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            HttpResponse<byte[]> answer = fresh.send(HttpRequest.newBuilder(mutate()).timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(Fixtures.bytes(NORMAL.fixture()))).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, answer.statusCode());
            NORMAL.assertAnswer(answer.body());
        } finally {
            for (SSLSocket socket : idle) socket.close();
        }
    }

    @Test
    @Order(12)
    void twoHundredPipelinedRequestsAreAnsweredInOrder() throws Exception {
        try (SSLSocket socket = PackagedWebhook.connect(port)) {
            java.io.ByteArrayOutputStream requests = new java.io.ByteArrayOutputStream();
            for (int i = 0; i < 200; i++) {
                byte[] body = Fixtures.withUid(NORMAL.fixture(), "pipelined-" + i);
                requests.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                requests.write(body);
            }
            socket.getOutputStream().write(requests.toByteArray()); // all of them before reading any answer
            socket.getOutputStream().flush();
            InputStream in = new java.io.BufferedInputStream(socket.getInputStream());
            for (int i = 0; i < 200; i++) {
                String head = readHead(in);
                assertTrue(head.startsWith("HTTP/1.1 200"), "answer " + i + ": " + head);
                int length = Integer.parseInt(head.replaceAll("(?is).*content-length:\\s*(\\d+).*", "$1"));
                String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
                assertTrue(body.contains("\"uid\":\"pipelined-" + i + "\"") && body.contains("\"patchType\":\"JSONPatch\""),
                        "answer " + i + " is its own request's");
            }
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) throw new IOException("closed after " + head);
            head.append((char) b);
        }
        return head.toString();
    }

    @Test
    @Order(13)
    void clientsThatNeverReadCannotStarveAnotherAddress() throws Exception {
        // Another address (127.0.0.2) keeps 1 MiB reviews coming over HTTP/2 with a zero window: their answers can
        // never be sent, so each holds its share of the large lane until it is taken back. Meanwhile this address, as
        // the API server would, sends 1 MiB reviews one after another and ordinary ones every 200 ms.
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        java.util.concurrent.atomic.AtomicBoolean attacking = new java.util.concurrent.atomic.AtomicBoolean(true);
        try {
            io.vertx.core.http.HttpClient attacker = vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
                    .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
                    .setTrustAll(true).setVerifyHost(false).setLocalAddress("127.0.0.2").setHttp2MultiplexingLimit(16)
                    .setInitialSettings(new io.vertx.core.http.Http2Settings().setInitialWindowSize(0)),
                    new io.vertx.core.http.PoolOptions().setHttp2MaxSize(4));
            io.vertx.core.buffer.Buffer large = io.vertx.core.buffer.Buffer.buffer(
                    Reviews.update("never-read", Reviews.staleDocument(9_000)));
            vertx.setPeriodic(50, timer -> {
                if (!attacking.get()) {
                    vertx.cancelTimer(timer);
                    return;
                }
                attacker.request(new io.vertx.core.http.RequestOptions().setMethod(io.vertx.core.http.HttpMethod.POST)
                        .setHost("localhost").setPort(port).setURI("/mutate").putHeader("Content-Type", "application/json"))
                        .compose(request -> request.send(large));
            });
            Thread.sleep(2_000); // the attacker's streams hold the large lane
            Latencies normal = Latencies.during(this::normalReview);
            long slowestLarge = 0;
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            try {
                for (int i = 0; i < 6; i++) {
                    String document = Reviews.staleDocument(registries(i), "other" + i + "-");
                    long start = System.nanoTime();
                    HttpResponse<String> answer = postAsync(Reviews.update("other-" + i, document)).get(30, TimeUnit.SECONDS);
                    slowestLarge = Math.max(slowestLarge, (System.nanoTime() - start) / 1_000_000);
                    assertEquals(200, answer.statusCode(), "1 MiB review " + i + " of this address: " + answer.body());
                    assertAllAuthsFixed(answer.body(), "other-" + i, document, registries(i), "other" + i + "-");
                }
                Thread.sleep(Math.max(0, (until - System.nanoTime()) / 1_000_000)); // ordinary reviews for 5 s at least
            } finally {
                normal.stop();
            }
            System.out.printf("1 MiB reviews of this address during the attack: 6, slowest %d ms%n", slowestLarge);
            normal.assertAllAnsweredWithin(Duration.ofSeconds(1));
        } finally {
            attacking.set(false);
            vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    @Order(14)
    void slowSmallUploadsFromOtherAddressesCannotStarveThisOne() throws Exception {
        // Small reviews (60 KB declared, each charged ~1.3 MiB of the ~3.9 MiB small lane from its headers on) sent at
        // 100 bytes a second: eight from one other address, then three from each of four.
        for (List<String> addresses : List.of(List.of("127.0.0.2"), List.of("127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"))) {
            int perAddress = addresses.size() == 1 ? 8 : 3;
            ExecutorService senders = Executors.newFixedThreadPool(addresses.size() * perAddress);
            java.util.concurrent.atomic.AtomicBoolean attacking = new java.util.concurrent.atomic.AtomicBoolean(true);
            AtomicLong sent = new AtomicLong();
            try {
                for (String address : addresses) {
                    for (int i = 0; i < perAddress; i++) {
                        senders.submit(() -> {
                            while (attacking.get()) { // reconnect whenever the server cuts the upload
                                try (SSLSocket socket = connectFrom(address)) {
                                    OutputStream out = socket.getOutputStream();
                                    out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                                            + "\r\nContent-Length: 60000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                                    while (attacking.get()) {
                                        out.write(" ".repeat(10).getBytes(StandardCharsets.US_ASCII)); // 100 bytes a second
                                        out.flush();
                                        sent.addAndGet(10);
                                        Thread.sleep(100);
                                    }
                                } catch (IOException cut) {
                                    // cut by the server: come back
                                }
                            }
                            return null;
                        });
                    }
                }
                Thread.sleep(1_500); // the slow uploads hold the small lane
                Latencies normal = Latencies.during(this::normalReview);
                Thread.sleep(5_000);
                normal.stop();
                normal.assertAllAnsweredWithin(Duration.ofSeconds(1));
            } finally {
                attacking.set(false);
                senders.shutdownNow();
                senders.awaitTermination(10, TimeUnit.SECONDS);
            }
            assertTrue(sent.get() > 0, "the slow uploads sent data");
        }
    }

    /** One ordinary review from this address, checked; returns its status. */
    private int normalReview() throws Exception {
        HttpResponse<byte[]> answer = post(Fixtures.bytes(NORMAL.fixture()));
        if (answer.statusCode() == 200) NORMAL.assertAnswer(answer.body());
        return answer.statusCode();
    }

    /** Ordinary reviews every 200 ms on a thread of their own, timed, until stopped. */
    private static final class Latencies {
        private final List<Long> millis = java.util.Collections.synchronizedList(new ArrayList<>());
        private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        private final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        private Thread thread;

        static Latencies during(java.util.concurrent.Callable<Integer> review) {
            Latencies latencies = new Latencies();
            latencies.thread = new Thread(() -> {
                while (latencies.running.get()) {
                    long start = System.nanoTime();
                    try {
                        int status = review.call();
                        latencies.millis.add((System.nanoTime() - start) / 1_000_000);
                        if (status != 200) latencies.failures.add("status " + status);
                    } catch (Exception | AssertionError e) {
                        latencies.failures.add(String.valueOf(e));
                    }
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "normal-reviews");
            latencies.thread.start();
            return latencies;
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(30_000);
        }

        void assertAllAnsweredWithin(Duration limit) {
            assertEquals(List.of(), failures, "every ordinary review answered correctly");
            assertTrue(millis.size() >= 10, "ordinary reviews were sent (one every 200 ms, for 5 s): " + millis.size());
            long slowest = millis.stream().mapToLong(Long::longValue).max().orElseThrow();
            System.out.printf("ordinary reviews during the attack: %d, slowest %d ms%n", millis.size(), slowest);
            assertTrue(slowest < limit.toMillis(), "slowest ordinary review " + slowest + " ms; all: " + millis);
        }
    }

    /** A TLS connection to the webhook from {@code localAddress} (loopback: 127.0.0.2 and up are other clients). */
    private static SSLSocket connectFrom(String localAddress) throws IOException {
        java.net.Socket plain = new java.net.Socket();
        plain.bind(new java.net.InetSocketAddress(localAddress, 0));
        plain.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5_000);
        SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory().createSocket(plain, "localhost", port, true);
        socket.setSoTimeout(15_000);
        socket.startHandshake();
        return socket;
    }

    @Test
    @Order(100)
    void stalledRequestHeadsAndBodiesAreCutAndNothingWentWrong() throws Exception {
        for (StalledConnection connection : stalled) {
            assertTrue(connection.closedByServer.await(60, TimeUnit.SECONDS),
                    "the server closed a stalled connection: " + connection.sent.lines().findFirst().orElse(""));
            // Cut by the 10 s review deadline (a stalled body) or the 30 s idle timeout (a stalled head), within 40 s.
            long seconds = TimeUnit.NANOSECONDS.toSeconds(connection.closedAt - connection.stalledAt);
            assertTrue(seconds < 40, "cut " + seconds + " s after it stalled: " + connection.sent.lines().findFirst().orElse(""));
        }
        String log = Files.readString(LOG, StandardCharsets.UTF_8);
        assertTrue(log.contains("review dropped: not answered within 10 s of its headers"), "the stalled body was dropped");
        for (String line : log.lines().toList()) {
            assertFalse(line.contains(" ERROR ") || line.contains("OutOfMemoryError") || line.startsWith("\tat ")
                    || line.contains("Exception:") && !line.contains("DEBUG"), "no error or stack trace: " + line);
        }
        TestLog.assertNoCredential(log, "the log");
    }

    // --- helpers

    /**
     * Every entry of the answer's patched document carries the auth of its username and new password,
     * {@code new-<rotation>i}.
     */
    private static void assertAllAuthsFixed(String answer, String uid, String document, int registries, String rotation)
            throws Exception {
        JsonNode response = MAPPER.readTree(answer).path("response");
        assertEquals(uid, response.path("uid").asText());
        assertTrue(response.has("patch"), uid + ": no patch; warnings " + response.path("warnings"));
        JsonNode patch = MAPPER.readTree(Base64.getDecoder().decode(response.path("patch").asText()));
        JsonNode object = MAPPER.readTree(Reviews.update(uid, document)).path("request").path("object");
        JsonNode patched = JsonPatch.apply(patch, object);
        JsonNode auths = MAPPER.readTree(Base64.getDecoder().decode(patched.path("data").path(".dockerconfigjson").asText()))
                .path("auths");
        assertEquals(registries, auths.size());
        for (int i = 0; i < registries; i++) {
            String expected = Base64Text.b64("u" + i + ":new-" + rotation + i);
            String actual = auths.path("r" + i + ".example.com").path("auth").asText();
            if (!expected.equals(actual)) {
                assertEquals(expected, actual, uid + ": entry " + i); // fails with the first wrong entry
            }
        }
    }

    private static URI mutate() {
        return URI.create("https://localhost:" + port + "/mutate");
    }

    private static HttpResponse<byte[]> post(byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(mutate()).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    private static CompletableFuture<HttpResponse<String>> postAsync(byte[] body) {
        // One client per request: HTTP/1.1, so each review has a connection of its own, as in a burst.
        HttpClient client = HttpClient.newBuilder().sslContext(TestTls.devTrust()).version(HttpClient.Version.HTTP_1_1).build();
        return client.sendAsync(HttpRequest.newBuilder(mutate()).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static RawResponse raw(String request) throws IOException {
        try (SSLSocket socket = PackagedWebhook.connect(port)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            return RawResponse.read(socket.getInputStream());
        }
    }

    private static void drain(InputStream in) {
        try {
            in.readAllBytes();
        } catch (IOException closed) {
            // closed by the server, as it should be
        }
    }

    private static void waitForLog(String text) throws Exception {
        for (int i = 0; i < 100 && !Files.readString(LOG, StandardCharsets.UTF_8).contains(text); i++) {
            Thread.sleep(100);
        }
    }

    private interface Client<T> {
        T run(int index) throws Exception;
    }

    private static <T> List<T> inParallel(int clients, Client<T> client) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int index = i;
                futures.add(pool.submit(() -> client.run(index)));
            }
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) results.add(future.get(60, TimeUnit.SECONDS));
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** A status and body read off a raw HTTP/1.1 connection; status -1 when the server closed without answering. */
    record RawResponse(int status, String body) {
        static RawResponse read(InputStream in) {
            try {
                byte[] all = in.readAllBytes(); // every response here ends with the connection closing
                String text = new String(all, StandardCharsets.UTF_8);
                // HTTP/1.0 where Netty could not read the request's version (a request line cut at the limit); Vert.x
                // echoes a version it does not know (HTTP/9.9) in its 505.
                if (!text.matches("(?s)HTTP/\\d\\.\\d \\d{3}.*")) return new RawResponse(-1, text);
                int split = text.indexOf("\r\n\r\n");
                return new RawResponse(Integer.parseInt(text.substring(9, 12)), split < 0 ? "" : text.substring(split + 4));
            } catch (IOException reset) {
                return new RawResponse(-1, "");
            }
        }
    }

    /** A connection that sent {@code sent} and then nothing; a thread waits for the server to close it. */
    private static final class StalledConnection {
        final SSLSocket socket;
        final String sent;
        final java.util.concurrent.CountDownLatch closedByServer = new java.util.concurrent.CountDownLatch(1);
        final long stalledAt = System.nanoTime();
        volatile long closedAt;

        private StalledConnection(SSLSocket socket, String sent) {
            this.socket = socket;
            this.sent = sent;
        }

        static StalledConnection open(int port, String sent) throws IOException {
            SSLSocket socket = PackagedWebhook.connect(port);
            return stall(socket, sent);
        }

        /** Sends one complete review and reads its whole answer (the connection stays open), then stalls. */
        static StalledConnection openAfterOneReview(int port, String sent) throws IOException {
            SSLSocket socket = PackagedWebhook.connect(port);
            byte[] body = Fixtures.bytes("update-kubectl-edit-password-only.json");
            socket.getOutputStream().write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(body);
            socket.getOutputStream().flush();
            var in = socket.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) throw new IOException("closed before the answer");
                head.append((char) b);
            }
            if (!head.toString().startsWith("HTTP/1.1 200")) throw new IOException("not answered: " + head);
            int length = Integer.parseInt(head.toString().replaceAll("(?is).*content-length:\\s*(\\d+).*", "$1"));
            in.readNBytes(length);
            return stall(socket, sent);
        }

        private static StalledConnection stall(SSLSocket socket, String sent) throws IOException {
            socket.setSoTimeout(0);
            socket.getOutputStream().write(sent.getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            StalledConnection connection = new StalledConnection(socket, sent);
            Thread reader = new Thread(() -> {
                try {
                    while (socket.getInputStream().read() >= 0) {
                        // a response, if any, then the close
                    }
                } catch (IOException reset) {
                    // closed either way
                }
                connection.closedAt = System.nanoTime();
                connection.closedByServer.countDown();
            }, "stalled-connection-reader");
            reader.setDaemon(true);
            reader.start();
            return connection;
        }
    }
}
