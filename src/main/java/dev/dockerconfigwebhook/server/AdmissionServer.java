package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.admission.Outcome;
import dev.dockerconfigwebhook.admission.SecretMutator;
import dev.dockerconfigwebhook.observability.LogText;
import dev.dockerconfigwebhook.observability.ReviewMetrics;
import dev.dockerconfigwebhook.startup.ServingWarmUp;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import dev.dockerconfigwebhook.tls.TlsEngine;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.Http2Settings;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.impl.ConnectionBase;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The HTTPS admission port ({@code POST /mutate}): a Vert.x server of its own rather than Quarkus's HTTP server,
 * because a webhook in the API server's write path must control what Quarkus does not expose: how connections are
 * accepted and timed out, what a malformed request is answered, how memory is charged before a body is read, and how
 * in-flight reviews drain on shutdown. Health and metrics stay on Quarkus's management port.
 *
 * <p>The thin transport around the framework-free decision ({@link SecretMutator}); the policies are in
 * {@link Limits}, {@link MemoryBudget} and {@link ReviewExchange}.
 */
@ApplicationScoped
public class AdmissionServer {

    private static final Logger LOG = Logger.getLogger(AdmissionServer.class);

    private final Vertx vertx;
    private final ServingCertificate certificate;
    private final ReviewMetrics metrics;
    private final SecretMutator mutator;
    private final String host;
    private final int configuredPort;
    private final Duration drainTimeout;
    private final MemoryBudget connectionBudget;
    private final MemoryBudget smallRequests;
    private final MemoryBudget largeRequests;
    private final BodyArrays bodyArrays;
    private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
    private WorkerExecutor largeDecisions;
    private final Map<HttpConnection, ConnectionState> connections = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLong lastBudgetWarning = new AtomicLong(System.nanoTime() - TimeUnit.MINUTES.toNanos(1));
    private final AtomicInteger budgetRefusalsSinceWarning = new AtomicInteger();
    private volatile int port = -1;
    private volatile boolean draining;
    /** The start-up warm-up is done (or off): readiness waits for it. */
    private volatile boolean warm;
    /** Marks the warm-up's own requests through the port (LoopbackWarmUp); honoured only until {@link #warm}. */
    private final String warmUpToken = newToken();
    /** What the warm-up sent through the port (tests); null until it has. */
    private volatile LoopbackWarmUp.Result loopbackWarmUp;
    private final HeapRoom heapRoom;
    private final TlsEngine.Choice tls;
    private long heapRoomTimer = -1;

    public AdmissionServer(Vertx vertx, ServingCertificate certificate, ReviewMetrics metrics,
            @ConfigProperty(name = "webhook.strict", defaultValue = "false") boolean strict,
            @ConfigProperty(name = "webhook.host", defaultValue = "0.0.0.0") String host,
            @ConfigProperty(name = "webhook.port", defaultValue = "8443") int port,
            @ConfigProperty(name = "quarkus.shutdown.timeout", defaultValue = "20s") Duration drainTimeout,
            @ConfigProperty(name = "webhook.warm-up", defaultValue = "true") boolean warmUp,
            @ConfigProperty(name = "webhook.tls.engine", defaultValue = "openssl") TlsEngine tlsEngine) {
        this.vertx = vertx;
        this.certificate = certificate;
        this.metrics = metrics;
        this.mutator = new SecretMutator(strict);
        this.host = host;
        this.configuredPort = port;
        this.drainTimeout = drainTimeout;
        this.warm = !warmUp;
        this.tls = TlsEngine.choose(tlsEngine);
        long budget = (long) (Runtime.getRuntime().maxMemory() * Limits.BUDGET_SHARE_OF_HEAP);
        long forConnections = (long) (budget * Limits.CONNECTION_SHARE_OF_BUDGET);
        long small = (long) (budget * Limits.SMALL_SHARE_OF_BUDGET);
        this.connectionBudget = new MemoryBudget("connections", forConnections);
        this.smallRequests = new MemoryBudget("small", small);
        this.largeRequests = new MemoryBudget("large", budget - forConnections - small);
        this.bodyArrays = new BodyArrays((long) (largeRequests.capacity() * Limits.KEPT_BODY_ARRAYS_SHARE_OF_LARGE));
        HeapRoom.Flags heapFlags = HeapRoom.onJvm();
        this.heapRoom = heapFlags == null ? null : new HeapRoom(heapFlags);
        for (MemoryBudget lane : List.of(connectionBudget, smallRequests, largeRequests)) {
            metrics.budget(lane.name(), lane::inUse, lane.capacity());
        }
    }

    void start(@Observes StartupEvent event) throws Exception {
        if (tls.fallbackReason() != null) {
            LOG.warnf("webhook.tls.engine=openssl, but BoringSSL cannot load here (%s): serving TLS with the JDK's engine, "
                    + "which costs bursts of large reviews more CPU", tls.fallbackReason());
        }
        HttpServerOptions options = new HttpServerOptions()
                .setHost(host)
                .setSsl(true)
                .setKeyCertOptions(certificate.keyCertOptions())
                .setSslEngineOptions(tls.options())
                .setUseAlpn(true)
                .setAlpnVersions(List.of(HttpVersion.HTTP_2, HttpVersion.HTTP_1_1))
                .setInitialSettings(new Http2Settings()
                        .setMaxConcurrentStreams(Limits.MAX_CONCURRENT_STREAMS)
                        .setMaxHeaderListSize(Limits.MAX_HEADER_BYTES))
                .setHttp2ConnectionWindowSize(Limits.HTTP2_CONNECTION_WINDOW_BYTES)
                .setIdleTimeout(Limits.IDLE_TIMEOUT_SECONDS)
                .setIdleTimeoutUnit(TimeUnit.SECONDS)
                .setMaxInitialLineLength(Limits.MAX_INITIAL_LINE_BYTES)
                .setMaxHeaderSize(Limits.MAX_HEADER_BYTES)
                .setCompressionSupported(false)
                .setDecompressionSupported(false);
        // Large documents are decided off the event loops, on a pool of one thread per core: the memory budget already
        // bounds how many are in flight (two 1 MiB secrets at -Xmx64m). A single thread left a core free for small
        // reviews, but serialised bursts past the budget wait (503s under CI load).
        largeDecisions = vertx.createSharedWorkerExecutor("large-reviews", Runtime.getRuntime().availableProcessors());
        // One server per core, all on one port, each on an event loop of its own: Vert.x hands every new connection to
        // the next of them. A verticle instance per server, because servers created from one non-Vert.x thread would
        // all share that thread's one context (Vert.x 4 reuses it), and so one event loop for every connection.
        int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
        // A configured 0 (tests) means one random port that every instance shares: Vert.x spells that -1.
        int listenPort = configuredPort == 0 ? -1 : configuredPort;
        vertx.deployVerticle(() -> new AbstractVerticle() {
            @Override
            public void start(Promise<Void> listening) {
                HttpServer server = vertx.createHttpServer(new HttpServerOptions(options).setPort(listenPort))
                        .connectionHandler(AdmissionServer.this::connected)
                        .exceptionHandler(failure -> LOG.debugf("connection failed before HTTP: %s",
                                failure.getClass().getName()))
                        .invalidRequestHandler(AdmissionServer.this::invalidRequest)
                        .requestHandler(AdmissionServer.this::handle);
                servers.add(server);
                server.listen().<Void>mapEmpty().onComplete(listening);
            }
        }, new DeploymentOptions().setInstances(instances)).toCompletionStage().toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        port = servers.get(0).actualPort();
        LOG.infof("admission webhook listening on https://%s:%d/mutate (HTTP/2 and HTTP/1.1, TLS by %s); memory budget "
                + "%d KiB: %d for connections, %d for reviews up to %d KiB, %d for larger ones (and up to %d KiB of their "
                + "body arrays kept for reuse)", host, port, tls.description(),
                (connectionBudget.capacity() + smallRequests.capacity() + largeRequests.capacity()) / 1024,
                connectionBudget.capacity() / 1024, smallRequests.capacity() / 1024, Limits.SMALL_BODY_BYTES / 1024,
                largeRequests.capacity() / 1024, bodyArrays.idleCapacity() / 1024);
        if (!warm) {
            // The port already answers; readiness waits for the warm-up, so the API server's first burst meets
            // compiled code.
            ServingWarmUp.startInBackground(mutator, deadline -> {
                LoopbackWarmUp.Result result = LoopbackWarmUp.run(vertx, loopbackHost(), port, warmUpToken, deadline);
                loopbackWarmUp = result;
                // The warm-up's closing collection gives the heap back: without its body arrays, and with the start-up
                // ratios already in place (no give-back collection is left pending for the first real burst).
                bodyArrays.clear();
                if (heapRoom != null) heapRoom.settle();
                return String.format("%d reviews through the admission port over HTTP/1.1 (%d on new connections) and %d "
                        + "over HTTP/2%s", result.http1Answers(), result.onNewConnections(), result.http2Answers(),
                        result.complete() ? "" : " (stopped at its deadline)");
            }, () -> warm = true);
        }
        if (heapRoom != null) {
            heapRoomTimer = vertx.setPeriodic(1_000, timer -> {
                if (heapRoom.tick(largeRequests.inUse() > 0, System.nanoTime())) {
                    bodyArrays.clear(); // the collection below frees them with the rest
                    vertx.executeBlocking(() -> {
                        long before = Runtime.getRuntime().totalMemory();
                        heapRoom.collect();
                        LOG.debugf("large reviews over: heap given back, %d -> %d KiB committed", before / 1024,
                                Runtime.getRuntime().totalMemory() / 1024);
                        return null;
                    }, false);
                }
            });
        }
    }

    /** Where this process reaches its own port: loopback when it listens on every address. */
    private String loopbackHost() {
        return switch (host) {
            case "0.0.0.0" -> "127.0.0.1";
            case "::", "[::]" -> "::1";
            default -> host;
        };
    }

    /** The TLS engine the port serves with (tests). */
    TlsEngine tlsEngine() {
        return tls.engine();
    }

    LoopbackWarmUp.Result loopbackWarmUp() {
        return loopbackWarmUp;
    }

    /** The warm-up's token (tests). */
    String token() {
        return warmUpToken;
    }

    private static String newToken() {
        byte[] random = new byte[16];
        new SecureRandom().nextBytes(random);
        return HexFormat.of().formatHex(random);
    }

    /** The warm-up's own request: decided without a review line, counted nowhere. Never once the pod is ready. */
    private boolean fromWarmUp(HttpServerRequest request) {
        if (warm) return false;
        String presented = request.getHeader(LoopbackWarmUp.TOKEN_HEADER);
        return presented != null && MessageDigest.isEqual(warmUpToken.getBytes(StandardCharsets.US_ASCII),
                presented.getBytes(StandardCharsets.US_ASCII));
    }

    /** A review over the small-body limit was admitted to the large lane (ReviewExchange). */
    void largeReviewStarting() {
        if (heapRoom != null) {
            heapRoom.largeReviewStarting(System.nanoTime());
        }
    }

    /** The port the admission server listens on, or -1 before it does. */
    public int port() {
        return port;
    }

    /** Listening, warmed up and not draining: what readiness reports. */
    public boolean serving() {
        return port > 0 && warm && !draining;
    }

    SecretMutator mutator() {
        return mutator;
    }

    ReviewMetrics metrics() {
        return metrics;
    }

    MemoryBudget smallRequests() {
        return smallRequests;
    }

    MemoryBudget largeRequests() {
        return largeRequests;
    }

    BodyArrays bodyArrays() {
        return bodyArrays;
    }

    WorkerExecutor largeDecisions() {
        return largeDecisions;
    }

    /** What one connection has done so far; touched on its event loop, read by the drain. */
    private static final class ConnectionState {
        volatile boolean sawRequest;
        final AtomicInteger active = new AtomicInteger();
        long headDeadline;
        MemoryBudget.Reservation reservation;
        /** HTTP/1: the last answer is written and no next request head has completed yet. Event loop only. */
        boolean betweenRequests;
        /** HTTP/1: the timer started by the first byte after an answer; -1 when none runs. Event loop only. */
        long nextHeadDeadline = -1;
    }

    /**
     * HTTP/1 keep-alive: the first byte that arrives after an answer starts the next request head's 30 s deadline, as a
     * new connection's first byte does; a connection that stays silent is left to the idle timeout (longer than the API
     * server's own). So a head trickled on a reused connection is cut like one on a new connection. It sits first in
     * the pipeline and only looks at whether bytes arrive, never at them.
     */
    private final class NextHeadDeadline extends ChannelInboundHandlerAdapter {
        private final HttpConnection connection;
        private final ConnectionState state;

        NextHeadDeadline(HttpConnection connection, ConnectionState state) {
            this.connection = connection;
            this.state = state;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (state.betweenRequests && state.nextHeadDeadline < 0) {
                state.nextHeadDeadline = vertx.setTimer(Limits.REQUEST_DEADLINE_MILLIS, timer -> {
                    state.nextHeadDeadline = -1;
                    if (state.betweenRequests) {
                        LOG.debugf("connection closed: the next request head did not complete within %d s",
                                Limits.REQUEST_DEADLINE_MILLIS / 1000);
                        connection.close();
                    }
                });
            }
            ctx.fireChannelRead(msg);
        }
    }

    private void connected(HttpConnection connection) {
        boolean http2 = isHttp2(connection);
        // Charged now or never: a connection is not kept waiting. It is closed before it can hold anything.
        MemoryBudget.Reservation reservation = connectionBudget.reserve(http2
                ? Limits.HTTP2_CONNECTION_COST : Limits.HTTP1_CONNECTION_COST, granted -> { });
        if (!reservation.granted()) {
            reservation.cancel();
            overBudget(connectionBudget);
            connection.close();
            return;
        }
        ConnectionState state = new ConnectionState();
        state.reservation = reservation;
        connections.put(connection, state);
        // A client error on an established connection (a reset, a malformed HTTP/2 frame) is the client's business.
        // Only the type: some messages quote what the client sent (an HTTP/2 preface error hex-dumps its bytes).
        connection.exceptionHandler(failure -> LOG.debugf("connection error: %s", failure.getClass().getName()));
        connection.closeHandler(v -> {
            connections.remove(connection);
            vertx.cancelTimer(state.headDeadline);
            if (state.nextHeadDeadline >= 0) vertx.cancelTimer(state.nextHeadDeadline);
            state.reservation.release();
        });
        // A connection that never completes a request head (a stalled or trickled header send) is cut; after its
        // first request, the idle timeout bounds the wait for the next one.
        state.headDeadline = vertx.setTimer(Limits.REQUEST_DEADLINE_MILLIS, timer -> {
            if (!state.sawRequest) {
                LOG.debugf("connection closed: no complete request head within %d s", Limits.REQUEST_DEADLINE_MILLIS / 1000);
                connection.close();
            }
        });
        if (!http2 && connection instanceof ConnectionBase base) {
            base.channel().pipeline().addFirst("next-head-deadline", new NextHeadDeadline(connection, state));
        }
        if (http2 && connection instanceof ConnectionBase base) {
            liftNettyStreamLimit(base);
        }
        if (draining) {
            goAway(connection);
        }
    }

    /**
     * Once the client acknowledges the settings, Netty refuses streams over {@code MAX_CONCURRENT_STREAMS} itself, but
     * without recording them, so the client's next DATA frame for such a stream is a connection error (netty/netty#12065):
     * a GOAWAY that failed every review on the connection when Go's client raced its acknowledgement with new streams.
     * The webhook refuses those streams itself ({@link #handle}), after Netty has recorded them; so Netty's own limit is
     * set above what any client sends before it knows the limit (Go assumes 100), now (Vert.x calls this on the
     * client's first SETTINGS, before any stream) and again right after each acknowledgement has applied the advertised
     * one, before the next frame is read.
     */
    private static void liftNettyStreamLimit(ConnectionBase base) {
        Http2ConnectionHandler codec = base.channel().pipeline().get(Http2ConnectionHandler.class);
        if (codec == null) return;
        Runnable lift = () -> codec.connection().remote().maxActiveStreams(Limits.HTTP2_STREAMS_NETTY_REFUSES_OVER);
        lift.run();
        codec.decoder().frameListener(new Http2FrameListenerDecorator(codec.decoder().frameListener()) {
            @Override
            public void onSettingsAckRead(ChannelHandlerContext ctx) throws Http2Exception {
                lift.run(); // Netty has just applied the advertised limit to itself
                super.onSettingsAckRead(ctx);
            }
        });
    }

    private static boolean isHttp2(HttpConnection connection) {
        try {
            connection.remoteSettings();
            return true;
        } catch (UnsupportedOperationException http1) {
            return false;
        }
    }

    private void handle(HttpServerRequest request) {
        ConnectionState state = connections.get(request.connection());
        if (state == null) {
            request.connection().close(); // refused for budget in connected(); nothing of it is read
            return;
        }
        if (!state.sawRequest) {
            state.sawRequest = true;
            vertx.cancelTimer(state.headDeadline);
        }
        if (request.version() == HttpVersion.HTTP_2 && state.active.get() >= Limits.MAX_CONCURRENT_STREAMS) {
            // Over the advertised limit: a client's first requests on a new connection come before it knows the limit
            // (Go's client assumes 100 streams until then), and Netty's own check is lifted (liftNettyStreamLimit).
            // REFUSED_STREAM tells the client that nothing was processed; Go's client (the API server's) sends such a
            // request again. Accepted, they would wait for budget holding the connection's window, and the rest with them.
            LOG.debugf("HTTP/2 stream refused: %d reviews already in flight on its connection", state.active.get());
            request.response().reset(0x7);
            return;
        }
        state.betweenRequests = false;
        if (state.nextHeadDeadline >= 0) {
            vertx.cancelTimer(state.nextHeadDeadline);
            state.nextHeadDeadline = -1;
        }
        if (request.version() != HttpVersion.HTTP_2) {
            request.response().endHandler(written -> state.betweenRequests = true);
        }
        if (!"/mutate".equals(request.path())) {
            refuse(request, 404, "not found: the webhook serves POST /mutate");
            return;
        }
        if (request.method() != HttpMethod.POST) {
            refuse(request, 405, "method not allowed: send POST /mutate");
            return;
        }
        if (!isJson(request.getHeader(HttpHeaders.CONTENT_TYPE))) {
            refuse(request, 415, "unsupported content type: send application/json");
            return;
        }
        long declared;
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        try {
            declared = length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            refuse(request, 400, "invalid Content-Length");
            return;
        }
        if (declared < -1 || declared > Limits.MAX_BODY_BYTES) {
            refuse(request, declared < -1 ? 400 : 413, declared < -1 ? "invalid Content-Length"
                    : "request body is larger than " + Limits.MAX_BODY_DESCRIPTION);
            return;
        }
        inFlight.incrementAndGet();
        state.active.incrementAndGet();
        new ReviewExchange(this, vertx, request, declared, fromWarmUp(request)).start();
    }

    private static boolean isJson(String contentType) {
        if (contentType == null) return false;
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim()
                .equalsIgnoreCase("application/json");
    }

    /** Answers before any exchange began: the body, if any, is never read. */
    private void refuse(HttpServerRequest request, int status, String message) {
        metrics.rejected(Outcome.BAD_REQUEST);
        LOG.infof("request refused: status=%d %s %s: %s", status, request.method().name(),
                LogText.safe(request.path(), 64), message);
        sendError(request, status, message);
    }

    /** Requests Netty could not decode (HTTP/1 only): request line or headers too long, or garbage. */
    private void invalidRequest(HttpServerRequest request) {
        Throwable cause = request.decoderResult().cause();
        int status = 400;
        String message = "malformed HTTP request";
        if (cause instanceof TooLongFrameException) {
            boolean line = cause.getMessage() != null && cause.getMessage().startsWith("An HTTP line is larger than");
            status = line ? 414 : 431;
            message = line ? "request line is longer than " + Limits.MAX_INITIAL_LINE_BYTES + " bytes"
                    : "request headers are larger than " + Limits.MAX_HEADER_BYTES + " bytes";
        }
        metrics.rejected(Outcome.BAD_REQUEST);
        LOG.infof("request refused: status=%d %s", status, message);
        HttpServerResponse response = request.response();
        response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.CONNECTION, "close").end(ErrorBody.of(message));
    }

    /**
     * A one-line JSON error. A body left unread is never read: HTTP/1 connections close after the answer, HTTP/2
     * streams are reset (CANCEL) so the client stops sending. HTTP/1 connections also close while the pod drains.
     */
    Future<Void> sendError(HttpServerRequest request, int status, String message) {
        HttpServerResponse response = request.response();
        if (response.ended() || response.closed()) {
            return Future.succeededFuture();
        }
        boolean unread = !request.isEnded();
        response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (status == 405) response.putHeader(HttpHeaders.ALLOW, "POST");
        if (status == 503) response.putHeader(HttpHeaders.RETRY_AFTER, "1");
        if (unread) closeAfter(request);
        beforeAnswer(request);
        return response.end(ErrorBody.of(message)).onComplete(done -> {
            if (unread && request.version() == HttpVersion.HTTP_2) response.reset(0x8);
        });
    }

    /** While draining, every HTTP/1 answer closes its connection (HTTP/2 connections got a GOAWAY). */
    void beforeAnswer(HttpServerRequest request) {
        if (draining) closeAfter(request);
    }

    private static void closeAfter(HttpServerRequest request) {
        if (request.version() != HttpVersion.HTTP_2) {
            request.response().putHeader(HttpHeaders.CONNECTION, "close");
        }
    }

    void exchangeEnded(HttpServerRequest request) {
        inFlight.decrementAndGet();
        ConnectionState state = connections.get(request.connection());
        if (state != null) state.active.decrementAndGet();
    }

    /** A request or connection was refused for budget: a WARN at most every 10 s, with how many were refused meanwhile. */
    void overBudget(MemoryBudget budget) {
        int refused = budgetRefusalsSinceWarning.incrementAndGet();
        long last = lastBudgetWarning.get();
        long now = System.nanoTime();
        if (now - last > TimeUnit.SECONDS.toNanos(10) && lastBudgetWarning.compareAndSet(last, now)) {
            budgetRefusalsSinceWarning.addAndGet(-refused);
            LOG.warnf("memory budget lane \"%s\" exhausted (%d of %d KiB held, %d waiting): %d request(s) or connection(s) "
                    + "refused since the last warning", budget.name(), budget.inUse() / 1024, budget.capacity() / 1024,
                    budget.waiting(), refused);
        }
    }

    /**
     * On SIGTERM: readiness goes down, HTTP/2 clients get a GOAWAY, idle HTTP/1 connections close and busy ones close
     * after their answer; reviews in flight finish, for at most {@code quarkus.shutdown.timeout}. Then the port
     * closes, dropping whatever is still incomplete (a stalled upload never holds the shutdown longer).
     */
    void stop(@Observes ShutdownEvent event) {
        draining = true;
        if (heapRoomTimer >= 0) vertx.cancelTimer(heapRoomTimer);
        for (Map.Entry<HttpConnection, ConnectionState> entry : connections.entrySet()) {
            HttpConnection connection = entry.getKey();
            if (!goAway(connection) && entry.getValue().active.get() == 0) {
                connection.close();
            }
        }
        long end = System.nanoTime() + drainTimeout.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        if (inFlight.get() > 0) {
            LOG.warnf("shutdown: %d review(s) still incomplete after %d s; closing", inFlight.get(),
                    drainTimeout.toSeconds());
        }
        for (HttpServer server : servers) {
            server.close();
        }
        servers.clear();
        if (largeDecisions != null) largeDecisions.close();
        port = -1;
    }

    /**
     * HTTP/2: sends GOAWAY (no new streams; the connection closes when its streams are done, or after the drain
     * timeout) and returns true. HTTP/1 has no such frame: Vert.x refuses, and this returns false.
     */
    private boolean goAway(HttpConnection connection) {
        try {
            connection.shutdown(drainTimeout.toMillis());
            return true;
        } catch (UnsupportedOperationException http1) {
            return false;
        }
    }

}
