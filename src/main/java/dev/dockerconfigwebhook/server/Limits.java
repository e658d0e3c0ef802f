package dev.dockerconfigwebhook.server;

/**
 * The admission port's limits. Each is sized from what the API server does, so no legitimate call comes near one.
 */
final class Limits {

    private Limits() {
    }

    /**
     * The API server accepts requests up to 3 MiB and stores Secrets up to 1 MiB, so a review (object plus
     * oldObject plus metadata) stays well under this; larger bodies are refused with 413 before any is read.
     */
    static final long MAX_BODY_BYTES = 8L * 1024 * 1024;
    static final String MAX_BODY_DESCRIPTION = "8 MiB";

    /**
     * Reviews up to this size (ordinary pull secrets are a few KiB) draw on a budget of their own and are decided on
     * the event loop: a queue of large documents never delays them.
     */
    static final long SMALL_BODY_BYTES = 64 * 1024;

    /**
     * How long a request may wait for budget before it is answered 503: inside the API server's 5 s timeout with 2 s
     * left for the decision. Long enough for a burst of 16 reviews of 1 MiB secrets on a cold JVM to queue through
     * (2 s was not, under CI load).
     */
    static final long BUDGET_WAIT_MILLIS = 3_000;

    /**
     * A request's body must have arrived within this time of its headers, and a new connection must have sent a
     * complete request head within it: 30 s is the largest {@code timeoutSeconds} Kubernetes allows a webhook, so the
     * API server has given up by then anyway.
     */
    static final long REQUEST_DEADLINE_MILLIS = 30_000;

    /**
     * Idle keep-alive connections are closed after this. Longer than the API server's own 90 s idle timeout, so it is
     * always the client that closes an idle connection, and never races a request it is about to send on it.
     */
    static final int IDLE_TIMEOUT_SECONDS = 120;

    /**
     * HTTP/2 streams per connection. The API server's Go client opens another connection when a connection is full,
     * so this bounds the work one connection can start without ever blocking the API server.
     */
    static final int MAX_CONCURRENT_STREAMS = 8;

    /**
     * Where Netty's own stream limit is set instead (AdmissionServer#liftNettyStreamLimit): above what Go's client sends
     * before it knows the limit (100), so that the webhook, not Netty, refuses the streams over {@link
     * #MAX_CONCURRENT_STREAMS}; a backstop against clients that ignore the limit altogether.
     */
    static final int HTTP2_STREAMS_NETTY_REFUSES_OVER = 128;

    /**
     * HTTP/2 flow-control window of each stream: what a client may send before the webhook reads it. Vert.x copies a
     * stream's data as it arrives and returns the window only when the data is read, so a stream paused while it
     * waits for budget holds up to this much. The protocol's default: a smaller one (16 KiB) stalled the JDK's
     * HTTP/2 client on large bodies, and every client handles the default.
     */
    static final int HTTP2_STREAM_WINDOW_BYTES = 65_535;

    /**
     * The connection's window: twice every stream's window, and one more. Netty returns a connection's window to the
     * client only once half of it has been read, and the data of streams paused for budget is never read while they
     * wait: if they could hold half the window (they hold up to one stream window each), the streams being read could
     * never reach that half, and the whole connection stalled until the paused ones were refused. With the window at
     * 9 stream windows, sixteen 440 KB reviews sent at once by Go's HTTP/2 client (as the API server sends them) got
     * twelve 503s after 3 s, and the four admitted ones waited for those refusals.
     */
    static final int HTTP2_CONNECTION_WINDOW_BYTES = (2 * MAX_CONCURRENT_STREAMS + 1) * HTTP2_STREAM_WINDOW_BYTES;

    /**
     * What a connection can make the webhook hold that no request has been charged for yet (unread data, TLS and codec
     * state), charged to the connection budget while it is open: a flood of connections is refused before it can
     * fill the heap. HTTP/1 stops reading while a request waits. HTTP/2 holds at most one stream window per open
     * stream (data read into a review is charged to that review), whatever the connection's window: the webhook
     * refuses the streams over {@link #MAX_CONCURRENT_STREAMS} as they open, whenever the client sends them
     * (AdmissionServer#handle), so their data is never held.
     */
    static final long HTTP1_CONNECTION_COST = 48 * 1024;
    static final long HTTP2_CONNECTION_COST = (long) MAX_CONCURRENT_STREAMS * HTTP2_STREAM_WINDOW_BYTES + 32 * 1024;

    /** Request line and headers: an AdmissionReview call has a short path and a handful of headers. */
    static final int MAX_INITIAL_LINE_BYTES = 4096;
    static final int MAX_HEADER_BYTES = 16 * 1024;

    /** Share of the maximum heap that requests in flight may hold; the rest is the application's own and GC room. */
    static final double BUDGET_SHARE_OF_HEAP = 0.5;

    /** Of that budget, the share for open connections (see {@link #HTTP1_CONNECTION_COST}). */
    static final double CONNECTION_SHARE_OF_BUDGET = 0.3;

    /** Of that budget, the share reserved for small reviews. */
    static final double SMALL_SHARE_OF_BUDGET = 0.1;

    /**
     * How many bytes of large reviews' body arrays {@link BodyArrays} may keep between reviews, as a share of the large
     * lane: heap outside the budget, so bounded. A third holds the two 2.5 MiB arrays that 1 MiB secrets' UPDATE
     * reviews use at a time (at -Xmx64m; the lane admits two of them at once).
     */
    static final double KEPT_BODY_ARRAYS_SHARE_OF_LARGE = 1.0 / 3;
}
