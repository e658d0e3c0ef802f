package dev.dockerconfigwebhook.endpoint;

import dev.dockerconfigwebhook.testing.Webhook;
import dev.dockerconfigwebhook.testing.Fixtures;
import dev.dockerconfigwebhook.testing.TestTls;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The webhook under sustained concurrent load, hostile bodies and slow clients. Bounded in time (about 30 s in all)
 * and only against this test's own server on loopback. Durations here are limits against hangs, not performance
 * assertions (performance is measured by bench/run.sh).
 */
@QuarkusTest
class ReliabilityTest {

    private static final Duration HANG_LIMIT = Duration.ofSeconds(10);

    URL mutate = Webhook.mutate();

    private final HttpClient http = HttpClient.newBuilder().sslContext(TestTls.devTrust())
            .version(HttpClient.Version.HTTP_1_1).connectTimeout(HANG_LIMIT).build();

    /** Every valid review under load gets the very answer it gets alone, with its own uid: no cross-talk. */
    @Test
    void concurrentMixedTrafficIsAnsweredCorrectlyWithoutHeapGrowth() throws Exception {
        Map<String, String> alone = new HashMap<>();
        for (String fixture : Fixtures.ALL) {
            String uid = "single-" + fixture;
            alone.put(fixture, post(Fixtures.withUid(fixture, uid)).body().replace(uid, "<uid>"));
        }
        AtomicInteger answered = new AtomicInteger();
        ConcurrentLinkedQueue<String> problems = new ConcurrentLinkedQueue<>();
        Runnable client = () -> {
            Random random = new Random(Thread.currentThread().getId());
            try {
                if (random.nextInt(5) == 0) {
                    HttpResponse<String> bad = post("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"".getBytes(StandardCharsets.UTF_8));
                    if (bad.statusCode() != 400) problems.add("bad request got " + bad.statusCode());
                    return;
                }
                String fixture = Fixtures.ALL.get(random.nextInt(Fixtures.ALL.size()));
                String uid = UUID.randomUUID().toString();
                HttpResponse<String> response = post(Fixtures.withUid(fixture, uid));
                if (response.statusCode() != 200) {
                    problems.add(fixture + " got " + response.statusCode());
                } else if (!response.body().replace(uid, "<uid>").equals(alone.get(fixture))) {
                    problems.add(fixture + " got another answer under load (uid " + uid + ")");
                }
                answered.incrementAndGet();
            } catch (Exception e) {
                problems.add("request failed: " + e.getClass().getSimpleName());
            }
        };

        load(client, 16, Duration.ofSeconds(3)); // warm-up
        long heapBefore = usedHeapAfterGc();
        load(client, 16, Duration.ofSeconds(12));
        long heapAfter = usedHeapAfterGc();

        assertTrue(problems.isEmpty(), problems.size() + " problems, first: " + problems.peek());
        assertTrue(answered.get() > 500, "load ran: " + answered.get());
        assertTrue(heapAfter - heapBefore < 16L * 1024 * 1024,
                "retained heap grew by " + (heapAfter - heapBefore) / 1024 + " KiB over sustained load");
    }

    /** Generated hostile bodies: always a 4xx or a correct answer, never a 5xx, never a hang. */
    @Test
    void fuzzedBodiesAreRejectedOrAnswered() throws Exception {
        Random random = new Random(20261127);
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            byte[] body = hostileBody(random);
            HttpResponse<String> response = post(body);
            int status = response.statusCode();
            if (status == 200) {
                if (!response.body().contains("\"response\":{\"uid\":")) problems.add(i + ": 200 without a response");
            } else if (status != 400 && status != 413) {
                problems.add(i + ": status " + status);
            }
        }
        assertTrue(problems.isEmpty(), problems.toString());
    }

    /** Connections that send half a request and stall do not hold up anybody else. */
    @Test
    void slowClientsDoNotBlockOthers() throws Exception {
        List<SSLSocket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 24; i++) {
                SSLSocket socket = (SSLSocket) TestTls.devTrust().getSocketFactory().createSocket(mutate.getHost(), mutate.getPort());
                socket.startHandshake();
                OutputStream out = socket.getOutputStream();
                out.write(("POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                        + "Content-Length: 100000\r\n\r\n{\"apiVersion\":").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                stalled.add(socket);
            }
            for (int i = 0; i < 50; i++) {
                String uid = "while-stalled-" + i;
                HttpResponse<String> response = post(Fixtures.withUid("update-kubectl-edit-password-only.json", uid));
                assertEquals(200, response.statusCode());
                assertTrue(response.body().contains(uid));
            }
        } finally {
            for (SSLSocket socket : stalled) {
                socket.close();
            }
        }
    }

    private HttpResponse<String> post(byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(mutate.toString())).timeout(HANG_LIMIT)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] hostileBody(Random random) {
        String fixture = Fixtures.ALL.get(random.nextInt(Fixtures.ALL.size()));
        byte[] base = Fixtures.bytes(fixture);
        String text = new String(base, StandardCharsets.UTF_8);
        switch (random.nextInt(8)) {
            case 0: return java.util.Arrays.copyOf(base, random.nextInt(base.length));
            case 1: {
                byte[] out = base.clone();
                for (int i = 0; i < 1 + random.nextInt(8); i++) out[random.nextInt(out.length)] = (byte) random.nextInt(256);
                return out;
            }
            case 2: return text.replaceFirst("\"" + pick(random, "uid", "operation", "object", "request", "data", "dryRun", "type", "kind")
                    + "\": ", "\"$0\": " + pick(random, "1, \"x\": ", "[], \"x\": ", "{}, \"x\": ", "null, \"x\": ", "true, \"x\": "))
                    .getBytes(StandardCharsets.UTF_8);
            case 3: {
                int depth = 1 + random.nextInt(3000);
                return text.replaceFirst("\\{", "{\"deep\":" + "[".repeat(depth) + "]".repeat(depth) + ",")
                        .getBytes(StandardCharsets.UTF_8);
            }
            case 4: return text.replaceFirst("\"data\": \\{", "\"data\": {\"x\": \"" + "A".repeat(random.nextInt(4 << 20)) + "\",")
                    .getBytes(StandardCharsets.UTF_8);
            case 5: return text.replaceAll("(\"\\.docker(config)?(json|cfg)\": \")", "$1%%not-base64%%").getBytes(StandardCharsets.UTF_8);
            case 6: {
                byte[] out = base.clone();
                out[random.nextInt(out.length)] = (byte) (0x80 | random.nextInt(64)); // a stray continuation byte
                return out;
            }
            default: {
                byte[] junk = new byte[random.nextInt(2048)];
                random.nextBytes(junk);
                return junk;
            }
        }
    }

    private static String pick(Random random, String... options) {
        return options[random.nextInt(options.length)];
    }

    private static void load(Runnable client, int threads, Duration duration) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long end = System.nanoTime() + duration.toNanos();
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(pool.submit(() -> {
                while (System.nanoTime() < end) client.run();
            }));
        }
        try {
            for (Future<?> worker : workers) worker.get(duration.toSeconds() + HANG_LIMIT.toSeconds() * 2, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
