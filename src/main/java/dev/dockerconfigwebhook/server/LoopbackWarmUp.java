package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.startup.ServingWarmUp;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The start-up warm-up's second stage: made-up reviews sent to this process's own admission port over loopback, so
 * that the code only a real connection runs (Netty's socket reads and writes and its TLS handler, the HTTP/1.1 and
 * HTTP/2 codecs, {@link ReviewExchange}, the large-review workers) is compiled before the pod is ready. Without it that
 * code was still being compiled through the first bursts of real traffic, and the first burst of 1 MiB secrets after
 * readiness held normal reviews for 92-139 ms, over 100 ms in 4 of 5 runs (BENCHMARKS.md).
 *
 * <p>Its requests carry a random token that the server honours only until it is ready: they are decided without a
 * review line and counted nowhere. The client trusts any certificate and checks no host name: it talks to its own
 * process over loopback and sends nothing but made-up data, and the serving certificate names the Service, not
 * 127.0.0.1.
 */
final class LoopbackWarmUp {

    /** Marks a warm-up request; its value is {@link AdmissionServer}'s random token. */
    static final String TOKEN_HEADER = "x-webhook-warm-up";
    /** New HTTP/1.1 connections, one review each: the server's side of as many TLS handshakes. */
    static final int NEW_CONNECTIONS = 32;
    /** Small reviews over kept-alive connections, half HTTP/1.1 and half HTTP/2, eight at a time. */
    static final int SMALL_REVIEWS = 800;
    /**
     * Large reviews (a 440 KB review of a 2,000-registry secret), half per protocol, eight at a time: a burst, queued by
     * the memory budget as real ones are. Reviews of a 640 KB secret (1.8 MB) instead left the idle RSS 20 MiB higher
     * (158-160 MiB, Netty's pooled buffers and the heap's touched pages).
     */
    static final int LARGE_REVIEWS = 32;
    private static final int CONCURRENCY = 8;

    /**
     * What went through the port, for the warm-up's log line and for tests: answers over each protocol, how many of the
     * HTTP/1.1 ones each came on a connection of its own, and whether it all ran before the deadline.
     */
    record Result(int http1Answers, int http2Answers, int onNewConnections, boolean complete) {
    }

    private LoopbackWarmUp() {
    }

    /**
     * Sends the warm-up's reviews to {@code host:port}; blocks until they are answered or {@code deadlineNanos}
     * passes. Throws when an answer is not the expected patch: then it did not exercise the path real reviews take.
     */
    static Result run(Vertx vertx, String host, int port, String token, long deadlineNanos) throws Exception {
        Buffer[] small = {Buffer.buffer(ServingWarmUp.review(1, false)), Buffer.buffer(ServingWarmUp.review(1, true))};
        Buffer[] large = {Buffer.buffer(ServingWarmUp.review(ServingWarmUp.LARGE_REGISTRIES, false)),
                Buffer.buffer(ServingWarmUp.review(ServingWarmUp.LARGE_REGISTRIES, true))};
        HttpClientOptions options = new HttpClientOptions()
                .setSsl(true).setTrustAll(true).setVerifyHost(false)
                .setDefaultHost(host).setDefaultPort(port)
                .setConnectTimeout(5_000);
        HttpClient handshakes = vertx.createHttpClient(new HttpClientOptions(options).setKeepAlive(false),
                new PoolOptions().setHttp1MaxSize(CONCURRENCY));
        HttpClient http1 = vertx.createHttpClient(new HttpClientOptions(options),
                new PoolOptions().setHttp1MaxSize(CONCURRENCY));
        HttpClient http2 = vertx.createHttpClient(new HttpClientOptions(options)
                .setProtocolVersion(HttpVersion.HTTP_2).setUseAlpn(true), new PoolOptions().setHttp2MaxSize(2));
        Batch batch = new Batch(token, deadlineNanos);
        int onNewConnections;
        try {
            batch.send(handshakes, small, NEW_CONNECTIONS);
            onNewConnections = batch.http1.get();
            for (int round = 0; round < 2; round++) {
                batch.send(http1, small, SMALL_REVIEWS / 4);
                batch.send(http2, small, SMALL_REVIEWS / 4);
                batch.send(http1, large, LARGE_REVIEWS / 4);
                batch.send(http2, large, LARGE_REVIEWS / 4);
            }
        } finally {
            for (HttpClient client : new HttpClient[] {handshakes, http1, http2}) client.close();
        }
        return new Result(batch.http1.get(), batch.http2.get(), onNewConnections, batch.complete);
    }

    /** Sends reviews with at most {@link #CONCURRENCY} in flight, and checks every answer. */
    private static final class Batch {
        private final String token;
        private final long deadlineNanos;
        private final Semaphore slots = new Semaphore(CONCURRENCY);
        final AtomicInteger http1 = new AtomicInteger();
        final AtomicInteger http2 = new AtomicInteger();
        private final AtomicReference<String> failure = new AtomicReference<>();
        boolean complete = true;

        Batch(String token, long deadlineNanos) {
            this.token = token;
            this.deadlineNanos = deadlineNanos;
        }

        void send(HttpClient client, Buffer[] bodies, int count) throws Exception {
            for (int i = 0; i < count && complete; i++) {
                if (!slots.tryAcquire(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                    complete = false;
                    break;
                }
                Buffer body = bodies[i % bodies.length];
                // body() is asked for inside send()'s own callback, on the connection's event loop, before the answer's
                // bytes can arrive. Chained after send() from this thread instead, it sometimes came after them and
                // found the body already gone: 200 with 0 bytes, in 5-8 of 30 rounds of the warm-up (either engine).
                client.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/mutate")
                                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").putHeader(TOKEN_HEADER, token))
                        .compose(request -> request.send(body).compose(response -> response.body().compose(answer ->
                                response.statusCode() == 200
                                        && answer.toString(StandardCharsets.UTF_8).contains("\"patchType\":\"JSONPatch\"")
                                        ? Future.succeededFuture(response.version())
                                        : Future.failedFuture("answered " + response.statusCode() + " with " + answer.length()
                                                + " bytes, not the expected patch"))))
                        .onComplete(done -> {
                            if (done.succeeded()) {
                                (done.result() == HttpVersion.HTTP_2 ? http2 : http1).incrementAndGet();
                            } else {
                                failure.compareAndSet(null, String.valueOf(done.cause().getMessage()));
                            }
                            slots.release();
                        });
                if (failure.get() != null) break;
            }
            // This batch's last answers, before the next batch starts on another connection.
            if (!slots.tryAcquire(CONCURRENCY, Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                complete = false;
            } else {
                slots.release(CONCURRENCY);
            }
            if (failure.get() != null) {
                throw new IllegalStateException("a warm-up review through the port failed: " + failure.get());
            }
        }
    }
}
