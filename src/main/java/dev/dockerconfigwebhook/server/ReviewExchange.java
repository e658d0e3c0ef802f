package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.admission.AdmissionReviewReader;
import dev.dockerconfigwebhook.admission.AdmissionReviewWriter;
import dev.dockerconfigwebhook.admission.BadReviewException;
import dev.dockerconfigwebhook.admission.Outcome;
import dev.dockerconfigwebhook.admission.ReviewRequest;
import dev.dockerconfigwebhook.admission.SecretMutator;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import org.jboss.logging.Logger;

import java.util.Arrays;

/**
 * One {@code POST /mutate}, from its headers to its answer, on the event loop of its connection. In order:
 * reserve the request's whole heap cost from a {@link MemoryBudget} (waiting at most {@link Limits#BUDGET_WAIT_MILLIS}
 * while the request stays paused, unread), read the body into one array of its declared size (a reused one of its
 * {@link BodyArrays size class} when large), decide (inline when small, on the large-review worker pool when large,
 * so big documents never stall an event loop), write the answer, give the bytes back. A request not complete within
 * {@link Limits#REQUEST_DEADLINE_MILLIS} is dropped. Every way an exchange can end (answered, rejected, aborted by the
 * client, timed out) ends it exactly once.
 */
final class ReviewExchange {

    private static final Logger LOG = Logger.getLogger(ReviewExchange.class);

    private final AdmissionServer server;
    private final Vertx vertx;
    private final Context context;
    private final HttpServerRequest request;
    private final long declaredLength;
    private final long startNanos = System.nanoTime();
    private MemoryBudget.Reservation reservation;
    private long waitTimer = -1;
    private long deadlineTimer;
    private byte[] body;
    /** Whether {@link #body} comes from the server's {@link BodyArrays} (and goes back there when done with). */
    private final boolean reusable;
    private int received;
    private boolean ended;
    /** The start-up warm-up's own request (LoopbackWarmUp): no review line, no metrics. */
    private final boolean warmUp;

    ReviewExchange(AdmissionServer server, Vertx vertx, HttpServerRequest request, long declaredLength, boolean warmUp) {
        this.server = server;
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.request = request;
        this.declaredLength = declaredLength;
        this.reusable = BodyArrays.holds(declaredLength);
        this.warmUp = warmUp;
    }

    void start() {
        request.pause();
        request.exceptionHandler(failure -> abort("the client closed the connection or reset the stream"));
        request.response().closeHandler(closed -> abort("the connection closed before the answer was sent"));
        deadlineTimer = vertx.setTimer(Limits.REQUEST_DEADLINE_MILLIS, timer -> expire());
        long size = declaredLength >= 0 ? declaredLength : Limits.MAX_BODY_BYTES;
        MemoryBudget budget = declaredLength >= 0 && declaredLength <= Limits.SMALL_BODY_BYTES
                ? server.smallRequests() : server.largeRequests();
        if (budget == server.largeRequests()) {
            server.largeReviewStarting(); // before its bytes arrive: the heap gets room first
        }
        reservation = budget.reserve(RequestCost.of(size), granted -> context.runOnContext(v -> readBody()));
        if (!reservation.granted()) {
            waitTimer = vertx.setTimer(Limits.BUDGET_WAIT_MILLIS, timer -> {
                if (reservation.cancel()) {
                    server.overBudget(budget);
                    reject(503, Outcome.BUSY, "the webhook's memory budget for requests in flight is exhausted; retry");
                }
            });
        }
    }

    /** Budget granted: read the body, which was paused until now. */
    private void readBody() {
        if (ended) {
            return; // abandoned while it waited: whatever ended it gave the budget back
        }
        if (waitTimer >= 0) {
            vertx.cancelTimer(waitTimer);
        }
        // The declared size (a large one in a reusable array of its size class); without one, a small start that
        // append() grows up to the limit.
        body = reusable ? server.bodyArrays().take((int) declaredLength)
                : new byte[(int) (declaredLength >= 0 ? declaredLength : Limits.SMALL_BODY_BYTES)];
        request.handler(this::append);
        request.endHandler(v -> decide());
        if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
            // The client holds its body until told to send it: now, and not before the budget was granted.
            request.response().writeContinue();
        }
        request.resume();
    }

    private void append(Buffer chunk) {
        if (ended) {
            return;
        }
        int length = chunk.length();
        if (received + (long) length > (declaredLength >= 0 ? declaredLength : body.length)) {
            if (declaredLength >= 0) {
                reject(400, Outcome.BAD_REQUEST, "request body is longer than its Content-Length");
                return;
            }
            if (received + (long) length > Limits.MAX_BODY_BYTES) {
                reject(413, Outcome.BAD_REQUEST, "request body is larger than " + Limits.MAX_BODY_DESCRIPTION);
                return;
            }
            body = Arrays.copyOf(body, (int) Math.min(Limits.MAX_BODY_BYTES, Math.max(received + (long) length, body.length * 2L)));
        }
        chunk.getBytes(0, length, body, received);
        received += length;
    }

    private void decide() {
        if (ended) {
            return;
        }
        if (declaredLength >= 0 && received != declaredLength) {
            reject(400, Outcome.BAD_REQUEST, "request body is shorter than its Content-Length");
            return;
        }
        byte[] bytes = body;
        int length = received;
        // The decision owns the body from here (a large one gives its array back). Dropped before answering: an answer
        // can come back at once, inside this call (a listener added to a completed future runs immediately), and
        // end() must then find no body to give back a second time.
        body = null;
        if (length <= Limits.SMALL_BODY_BYTES) {
            answer(decide(bytes, length));
        } else {
            BodyArrays arrays = reusable ? server.bodyArrays() : null;
            server.largeDecisions().executeBlocking(() -> {
                try {
                    return decide(bytes, length);
                } finally {
                    if (arrays != null) arrays.give(bytes); // nothing the decision returns refers to the body
                }
            }, false).onComplete(done -> {
                if (done.succeeded()) {
                    answer(done.result());
                } else {
                    answer(internalError(done.cause()));
                }
            });
        }
    }

    /** What to send: the status and body bytes, plus what to count. */
    private record Answer(int status, byte[] body, Outcome outcome, int fixedRegistries, String error) {
    }

    private Answer decide(byte[] bytes, int length) {
        try {
            ReviewRequest review = AdmissionReviewReader.read(bytes, length);
            SecretMutator.Decision decision = warmUp
                    ? server.mutator().decideWithoutLog(review) : server.mutator().mutate(review);
            return new Answer(200, AdmissionReviewWriter.write(decision.response()), decision.outcome(),
                    decision.fixedRegistries(), null);
        } catch (BadReviewException e) {
            return new Answer(400, null, Outcome.BAD_REQUEST, 0, e.getMessage());
        } catch (RuntimeException e) {
            return internalError(e);
        }
    }

    private static Answer internalError(Throwable e) {
        // A fault of our own: the type is enough to find it, and a message could quote input.
        LOG.errorf("internal error deciding a review: %s", e.getClass().getName());
        return new Answer(500, null, null, 0, "internal error");
    }

    private void answer(Answer answer) {
        if (ended) {
            return;
        }
        if (answer.body() == null) {
            if (answer.outcome() == Outcome.BAD_REQUEST) {
                LOG.info("review rejected: " + answer.error());
            }
            reject(answer.status(), answer.outcome(), answer.error());
            return;
        }
        end();
        HttpServerResponse response = request.response();
        response.putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
        server.beforeAnswer(request);
        // Wrapped, not copied (Buffer.buffer(byte[]) copies): a large review's answer is 1.6 MB.
        response.end(Buffer.buffer(Unpooled.wrappedBuffer(answer.body()))).onComplete(written -> written());
        if (!warmUp) server.metrics().reviewed(answer.outcome(), answer.fixedRegistries(), startNanos);
    }

    /** Ends the exchange with an error answer; the unread rest of a body is never read (AdmissionServer#sendError). */
    void reject(int status, Outcome outcome, String message) {
        if (!end()) {
            return;
        }
        if (outcome != null && !warmUp) {
            server.metrics().rejected(outcome);
        }
        server.sendError(request, status, message).onComplete(done -> written());
    }

    /** The client went away: nothing to answer, one line to say so. */
    private void abort(String why) {
        if (!end()) {
            return;
        }
        LOG.info("review abandoned: " + why);
        written();
    }

    private void expire() {
        if (!end()) {
            return;
        }
        LOG.infof("review dropped: not complete within %d s of its headers (received %d bytes)",
                Limits.REQUEST_DEADLINE_MILLIS / 1000, received);
        if (!warmUp) server.metrics().rejected(Outcome.BAD_REQUEST);
        if (request.version() == HttpVersion.HTTP_2) {
            request.response().reset(0x8);
        } else {
            request.connection().close();
        }
        written();
    }

    /** Marks the exchange ended, once: returns false when something else already ended it. */
    private boolean end() {
        if (ended) {
            return false;
        }
        ended = true;
        if (body != null && reusable) {
            server.bodyArrays().give(body); // ended before the decision: nothing reads or writes it any more
        }
        body = null;
        if (waitTimer >= 0) vertx.cancelTimer(waitTimer);
        vertx.cancelTimer(deadlineTimer);
        return true;
    }

    /**
     * The answer is written (or there is none to write): the bytes go back to the budget and the exchange stops
     * counting as in flight, so a drain never closes the port under an answer still being sent.
     */
    private void written() {
        if (reservation != null) reservation.release();
        server.exchangeEnded(request);
    }
}
