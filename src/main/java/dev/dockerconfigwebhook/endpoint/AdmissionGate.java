package dev.dockerconfigwebhook.endpoint;

import dev.dockerconfigwebhook.config.WebhookConfig;
import dev.dockerconfigwebhook.observability.Outcome;
import dev.dockerconfigwebhook.observability.ReviewMetrics;
import dev.dockerconfigwebhook.observability.Throttled;
import io.quarkus.vertx.http.runtime.VertxHttpConfig;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What Quarkus has no property for, in front of the REST resource: a route on Quarkus's router, ordered before
 * Quarkus's own upload limit and before REST, that decides on a review's headers whether its body may be read at all.
 *
 * <ol>
 *   <li>A request line whose version is not HTTP/1.0 or HTTP/1.1 (HTTP/2 comes through ALPN) is refused with 505.</li>
 *   <li>A {@code Content-Length} over {@code quarkus.http.limits.max-body-size} is refused with 413 before a byte of the
 *       body is read (Quarkus's own check answers with an empty body and closes even an HTTP/2 connection, on which
 *       the API server multiplexes every review).</li>
 *   <li>A request without {@code Content-Length} is refused with 411 (the API server always sends one).</li>
 *   <li>The review's whole heap cost ({@link RequestCost}, from {@code Content-Length}) is
 *       reserved from a {@link MemoryBudget}, shared fairly between clients (remote addresses), while the request stays
 *       paused, unread; a reservation not granted within {@link #BUDGET_WAIT} is answered 503, and so is one refused a
 *       waiting place. While it waits, reviews of other clients that have held their charge for {@link #STALL_AFTER}
 *       waiting on their client (body still arriving, answer unread) are cut to make room.</li>
 *   <li>Granted, the request goes on to REST, which reads the body.</li>
 *   <li>A review not answered within {@code webhook.review.deadline} of its headers is cut (HTTP/2: its stream reset;
 *       HTTP/1: its connection closed): a client that stops sending, or stops reading its answer, gives its
 *       reservation back then. The reservation is held until the answer is out: for HTTP/2 until the stream closes
 *       (its data left the flow-control window), for HTTP/1 until the answer is handed to the connection, whose next
 *       request waits until the client has read it.</li>
 * </ol>
 */
@ApplicationScoped
public class AdmissionGate {

    private static final Logger LOG = Logger.getLogger(AdmissionGate.class);

    /** Inside the API server's 5 s timeout with 2 s left for the decision. */
    static final Duration BUDGET_WAIT = Duration.ofSeconds(3);
    /** Requests waiting for budget at once per lane; each may have a stream window (64 KiB) of unread data. */
    static final int MAX_WAITING = 64;
    /**
     * A request that has held its reservation this long while waiting on its client (its body still arriving, or its
     * answer written and unread) gives it back when another client's review waits: a review is decided in milliseconds,
     * the API server sends and reads at once.
     */
    static final Duration STALL_AFTER = Duration.ofMillis(500);
    /** How often a waiting review looks for stalled holders to take back. */
    static final Duration RECLAIM_EVERY = Duration.ofMillis(100);
    /** Share of the maximum heap that reviews in flight may hold; the rest is the application's own and GC room. */
    static final double BUDGET_SHARE_OF_HEAP = 0.5;
    static final double SMALL_SHARE_OF_BUDGET = 0.1;
    /** Before Quarkus's upload limit (order -2) and everything of REST. */
    static final int ROUTE_ORDER = -10;
    private static final long CANCEL = 0x8;

    private final Vertx vertx;
    private final ReviewMetrics metrics;
    private final long maxBodyBytes;
    private final long deadlineMillis;
    private final MemoryBudget small;
    private final MemoryBudget large;
    private final Throttled busyLog = new Throttled(LOG, Logger.Level.WARN, 10, TimeUnit.SECONDS);
    private final Throttled cutLog = new Throttled(LOG, Logger.Level.INFO, 10, TimeUnit.SECONDS);
    private final Throttled refusedLog = new Throttled(LOG, Logger.Level.INFO, 10, TimeUnit.SECONDS);

    public AdmissionGate(Vertx vertx, ReviewMetrics metrics, VertxHttpConfig http, WebhookConfig config) {
        this.vertx = vertx;
        this.metrics = metrics;
        this.maxBodyBytes = http.limits().maxBodySize().orElseThrow(() -> new IllegalStateException(
                "quarkus.http.limits.max-body-size must be set: the gate refuses larger reviews by it")).asLongValue();
        this.deadlineMillis = config.review().deadline().toMillis();
        long budget = (long) (Runtime.getRuntime().maxMemory() * BUDGET_SHARE_OF_HEAP);
        long smallShare = (long) (budget * SMALL_SHARE_OF_BUDGET);
        this.small = new MemoryBudget("small", smallShare, STALL_AFTER, MAX_WAITING, System::nanoTime);
        this.large = new MemoryBudget("large", budget - smallShare, STALL_AFTER, MAX_WAITING, System::nanoTime);
        for (MemoryBudget lane : new MemoryBudget[] {small, large}) {
            metrics.budget(lane.name(), lane::inUse, lane.capacity());
        }
    }

    void install(@Observes Router router) {
        router.route().order(ROUTE_ORDER - 1).handler(AdmissionGate::knownVersion);
        router.post("/mutate").order(ROUTE_ORDER).handler(this::admit);
        LOG.infof("memory budget for reviews in flight: %d KiB for reviews up to %d KiB, %d KiB for larger ones; "
                + "bodies up to %d KiB; review deadline %d s", small.capacity() / 1024,
                AdmittedReview.SMALL_BODY_BYTES / 1024, large.capacity() / 1024, maxBodyBytes / 1024, deadlineMillis / 1000);
    }

    /**
     * Netty's codec reads any {@code HTTP/x.y}; Vert.x names only 1.0, 1.1 and 2 ({@code version()} is null for the
     * rest) and would otherwise answer as if it were HTTP/1.1. So anything else is refused with 505, and the connection
     * closed: its framing is unknown.
     */
    static void knownVersion(RoutingContext ctx) {
        if (ctx.request().version() != null) {
            ctx.next();
            return;
        }
        HttpServerResponse response = ctx.response();
        response.setStatusCode(505).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader(HttpHeaders.CONNECTION, "close")
                .end(ErrorBody.of("HTTP version not supported: use HTTP/1.1 or HTTP/2"))
                .onComplete(done -> ctx.request().connection().close());
    }

    private void admit(RoutingContext ctx) {
        long startedAt = System.nanoTime();
        HttpServerRequest request = ctx.request();
        long declared;
        try {
            String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
            declared = length == null ? -1 : Long.parseLong(length.trim());
        } catch (NumberFormatException e) {
            declared = -2;
        }
        if (declared < -1) {
            refuse(ctx, 400, Outcome.BAD_REQUEST, "invalid Content-Length");
            return;
        }
        if (declared < 0) {
            // The API server always sends it; without it the cost of a review is unknown until it has been read.
            refuse(ctx, 411, Outcome.BAD_REQUEST, "Content-Length required");
            return;
        }
        if (declared > maxBodyBytes) {
            refuse(ctx, 413, Outcome.BAD_REQUEST, "request body is larger than " + describe(maxBodyBytes));
            return;
        }
        AdmittedReview admitted = new AdmittedReview(startedAt, declared);
        admitted.attachTo(ctx);
        request.pause();
        new Exchange(ctx, admitted).start();
    }

    /**
     * Who shares the budget fairly: the remote address (the API server is one client however many connections it
     * opens; every stream of an HTTP/2 connection is its connection's address).
     */
    private static Object client(HttpServerRequest request) {
        return request.remoteAddress() == null ? "unknown" : request.remoteAddress().hostAddress();
    }

    /** Answers a review refused before its body was read; the body is never read. */
    private void refuse(RoutingContext ctx, int status, Outcome outcome, String message) {
        metrics.rejected(outcome);
        if (outcome == Outcome.BUSY) {
            busyLog.log("review refused: " + message);
        } else {
            refusedLog.log("review refused: status=" + status + " " + message);
        }
        sendError(ctx, status, message);
    }

    /**
     * A one-line JSON error, as every error of the endpoint is. A body left unread is never read: the HTTP/1
     * connection closes after the answer, the HTTP/2 stream is reset (CANCEL) so that the client stops sending.
     */
    static void sendError(RoutingContext ctx, int status, String message) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) return;
        HttpServerRequest request = ctx.request();
        boolean unread = !request.isEnded();
        boolean http2 = request.version() == HttpVersion.HTTP_2;
        response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        if (status == 503) response.putHeader(HttpHeaders.RETRY_AFTER, "1");
        if (unread && !http2) response.putHeader(HttpHeaders.CONNECTION, "close");
        response.end(ErrorBody.of(message)).onComplete(done -> {
            if (unread && http2) response.reset(CANCEL);
        });
    }

    private static String describe(long bytes) {
        return bytes % (1024 * 1024) == 0 ? bytes / (1024 * 1024) + " MiB" : bytes / 1024 + " KiB";
    }

    /** One review from its headers until its answer is out; every path ends it once. Runs on its event loop. */
    private final class Exchange {
        private final RoutingContext ctx;
        private final HttpServerRequest request;
        private final long declared;
        private final MemoryBudget lane;
        private final boolean http2;
        private final Context context = vertx.getOrCreateContext();
        private final long deadlineTimer;
        private MemoryBudget.Reservation reservation;
        private long waitTimer = -1;
        private long reclaimTimer = -1;
        private boolean proceeded;
        private boolean finished;

        Exchange(RoutingContext ctx, AdmittedReview admitted) {
            this.ctx = ctx;
            this.request = ctx.request();
            this.declared = admitted.bodyBytes();
            this.lane = admitted.small() ? small : large;
            long startedAt = admitted.startedAtNanos();
            this.http2 = request.version() == HttpVersion.HTTP_2;
            long remaining = deadlineMillis - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt);
            this.deadlineTimer = vertx.setTimer(Math.max(1, remaining), timer -> atDeadline());
        }

        void start() {
            ctx.addEndHandler(ended -> {
                HttpServerResponse response = ctx.response();
                if (!ended.succeeded()) {
                    abandoned();
                } else if (!http2 || response.closed()) {
                    finish();
                } else {
                    // HTTP/2: the stream closes once its answer has left the flow-control window. The route's own close
                    // handler has done its work (it ended the route with this call): this one takes its place.
                    response.closeHandler(closed -> finish());
                    if (response.closed()) finish();
                }
            });
            reservation = lane.reserve(client(request), RequestCost.of(declared), this::waitingOnClient,
                    granted -> context.runOnContext(v -> granted()),
                    evicted -> context.runOnContext(v -> evicted()));
            if (reservation.refused()) {
                busy();
                return;
            }
            if (!reservation.granted()) {
                waitTimer = vertx.setTimer(BUDGET_WAIT.toMillis(), timer -> {
                    if (reservation.cancel()) busy();
                });
                reclaimTimer = vertx.setPeriodic(RECLAIM_EVERY.toMillis(), timer -> lane.reclaim());
            }
        }

        /**
         * Whether this review now waits on its client: its body has not all arrived, or its answer is written and
         * not yet read (HTTP/2: the stream is still open). Read from another thread by the budget: fields of the
         * request and response, no callbacks.
         */
        private boolean waitingOnClient() {
            HttpServerResponse response = ctx.response();
            return !request.isEnded() || response.ended() && !response.closed();
        }

        /** The budget took the reservation back: refused while waiting, cut when its client stalled. */
        private void evicted() {
            if (finished) return;
            if (!proceeded) {
                busy();
                return;
            }
            finish();
            metrics.rejected(Outcome.DROPPED);
            cutLog.log("review dropped: its client sent or read it too slowly while another client's review waited "
                    + "for memory (received " + request.bytesRead() + " of its " + declared + " bytes)");
            cutNow();
        }

        private void busy() {
            finish();
            refuse(ctx, 503, Outcome.BUSY, "the webhook's memory budget for reviews in flight is exhausted ("
                    + lane.name() + " reviews, " + lane.waiting() + " waiting); retry");
        }

        /**
         * Budget granted: on to REST, which reads the body (paused until now). An HTTP/1 connection first waits until
         * its client has read the earlier answers queued on it.
         */
        private void granted() {
            if (finished) return;
            if (waitTimer >= 0) vertx.cancelTimer(waitTimer);
            if (reclaimTimer >= 0) vertx.cancelTimer(reclaimTimer);
            HttpServerResponse response = ctx.response();
            if (!http2 && response.writeQueueFull()) {
                response.drainHandler(drained -> proceed());
                return;
            }
            proceed();
        }

        private void proceed() {
            if (finished) return;
            proceeded = true;
            ctx.next();
        }

        /**
         * The deadline, if the end handler above has not ended the exchange: done if the answer is out after all
         * (another handler of the response can displace the route's end handlers), abandoned if the connection or
         * stream closed first, otherwise cut.
         */
        private void atDeadline() {
            if (finished) return;
            HttpServerResponse response = ctx.response();
            if (response.ended() && (!http2 || response.closed())) {
                finish();
            } else if (response.closed()) {
                abandoned();
            } else {
                cut();
            }
        }

        private void abandoned() {
            if (finished) return;
            finish();
            metrics.rejected(Outcome.ABANDONED);
            cutLog.log("review abandoned: the client reset the stream or closed the connection before its answer");
        }

        /** The deadline passed before the answer was out: cut the stream (HTTP/2) or the connection (HTTP/1). */
        private void cut() {
            finish();
            metrics.rejected(Outcome.DROPPED);
            cutLog.log("review dropped: not answered within " + deadlineMillis / 1000 + " s of its headers (received "
                    + request.bytesRead() + " of its " + declared + " bytes)");
            cutNow();
        }

        private void cutNow() {
            if (http2) {
                ctx.response().reset(CANCEL);
            } else {
                request.connection().close();
            }
        }

        /** Ends the exchange once: timers off, the bytes back to the budget. */
        private void finish() {
            if (finished) return;
            finished = true;
            if (waitTimer >= 0) vertx.cancelTimer(waitTimer);
            if (reclaimTimer >= 0) vertx.cancelTimer(reclaimTimer);
            vertx.cancelTimer(deadlineTimer);
            if (reservation != null) reservation.release();
        }
    }
}
