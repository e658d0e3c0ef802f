package dev.dockerconfigwebhook.startup;

import dev.dockerconfigwebhook.admission.AdmissionReviewReader;
import dev.dockerconfigwebhook.admission.AdmissionReviewWriter;
import dev.dockerconfigwebhook.admission.BadReviewException;
import dev.dockerconfigwebhook.admission.Outcome;
import dev.dockerconfigwebhook.admission.SecretMutator;
import dev.dockerconfigwebhook.observability.LogText;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.TimeUnit;

/**
 * Runs, before the pod reports ready, the code a burst of large reviews runs: reading, deciding and writing a review of
 * a 2,000-registry pull secret. Without it, the first burst of 1 MiB secrets after a start ran that code interpreted
 * while the JIT compiled it, and the compilers took the CPU that normal reviews needed (BENCHMARKS.md). Netty's and
 * Vert.x's code needs a real connection: the second stage ({@link ThroughThePort}, {@code server.LoopbackWarmUp})
 * sends made-up reviews through the server's own port. TLS needs no warming of its own: the port's engine is native
 * ({@code tls.TlsEngine}).
 *
 * <p>It decides through {@link SecretMutator#decideWithoutLog}: no review line is logged and nothing is counted. Its
 * own data is made up here (fake registries and credentials); nothing of it depends on input. It stops early, and the
 * pod becomes ready anyway, when {@code deadlineNanos} passes (a throttled CPU), and any failure only means a slower
 * first burst.
 */
public final class ServingWarmUp {

    /** Registries in the large review: a 160 KB document in a 440 KB review, long loops as in a 1 MiB secret. */
    public static final int LARGE_REGISTRIES = 2_000;
    /** Reviews decided: with these, the reader's and the repair's hot methods reach C2 (checked with
     * {@code -XX:+PrintCompilation}). */
    static final int LARGE_REVIEWS = 12;
    static final int SMALL_REVIEWS = 2_400;

    /**
     * Readiness waits at most this long for both stages of the warm-up (3-5 s on two cores): on a starved CPU the pod
     * becomes ready without it rather than not at all.
     */
    static final long DEADLINE_MILLIS = 20_000;

    private static final Logger LOG = Logger.getLogger(ServingWarmUp.class);

    /** What the warm-up did, for its one log line and for tests. */
    public record Result(int reviewsDecided, boolean complete, String failure) {
    }

    private ServingWarmUp() {
    }

    /**
     * The warm-up's second stage, which needs the listening server ({@code server.LoopbackWarmUp}): it runs after the
     * in-memory one, within the same deadline, and returns what it did, for the log line.
     */
    @FunctionalInterface
    public interface ThroughThePort {
        String run(long deadlineNanos) throws Exception;
    }

    /**
     * Runs the warm-up on a background thread (in memory, then {@code throughThePort}), then one full collection (its
     * garbage filled the heap beyond the resting size; no review waits on it yet, and {@code -XX:-ShrinkHeapInSteps}
     * gives it all back at once), logs one line, and calls {@code done}: always, whatever happened, so a warm-up never
     * keeps the pod from becoming ready.
     */
    public static void startInBackground(SecretMutator mutator, ThroughThePort throughThePort, Runnable done) {
        Thread thread = new Thread(() -> {
            try {
                long start = System.nanoTime();
                long deadline = start + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MILLIS);
                Result result = run(mutator, deadline);
                String failure = result.failure();
                String port = null;
                if (failure == null && result.complete()) {
                    try {
                        port = throughThePort.run(deadline);
                    } catch (Exception e) {
                        failure = LogText.safe(e.getClass().getName() + ": " + e.getMessage(), 200);
                    }
                }
                System.gc();
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                if (failure != null) {
                    LOG.warnf("warm-up failed after %d ms (%s); serving anyway, the first large reviews will be slower",
                            millis, failure);
                } else {
                    LOG.infof("warmed up in %d ms: %d made-up reviews decided%s", millis, result.reviewsDecided(),
                            port == null ? " (stopped at its deadline)" : "; " + port);
                }
            } finally {
                done.run();
            }
        }, "serving-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    public static Result run(SecretMutator mutator, long deadlineNanos) {
        int reviews = 0;
        try {
            // Compact, as the API server sends reviews, and indented, as documents from `docker login` and
            // hand-made reviews come: JsonCursor's whitespace branches were the first thing real reviews deoptimised.
            byte[][] large = {review(LARGE_REGISTRIES, false), review(LARGE_REGISTRIES, true)};
            byte[][] small = {review(1, false), review(1, true)};
            for (int i = 0; i < LARGE_REVIEWS; i++) {
                if (System.nanoTime() - deadlineNanos > 0) return new Result(reviews, false, null);
                decide(mutator, large[i % 2], LARGE_REGISTRIES);
                reviews++;
                for (int j = 0; j < SMALL_REVIEWS / LARGE_REVIEWS; j++) { // interleaved: one profile for both sizes
                    decide(mutator, small[j % 2], 1);
                    reviews++;
                }
            }
            return new Result(reviews, true, null);
        } catch (Exception | AssertionError e) {
            return new Result(reviews, false, e.getClass().getName());
        }
    }

    private static void decide(SecretMutator mutator, byte[] body, int registries) throws BadReviewException {
        SecretMutator.Decision decision = mutator.decideWithoutLog(AdmissionReviewReader.read(body, body.length));
        if (decision.outcome() != Outcome.PATCHED || decision.fixedRegistries() != fixable(registries)) {
            // The warm-up must run the path real reviews run: a different decision means it exercised something else.
            throw new AssertionError("warm-up review was not patched as expected");
        }
        AdmissionReviewWriter.write(decision.response());
    }

    /** Registries of {@link #review} whose auth the webhook writes: all but every fourth (an auth alone). */
    static int fixable(int registries) {
        return registries - registries / 4;
    }

    /**
     * An UPDATE of a pull secret as the API server sends it after {@code kubectl apply} and {@code kubectl edit}: field
     * order, userInfo, options, managedFields, the last-applied annotation with its escaped JSON, object and oldObject.
     * Real reviews take the same branches of the reader and the repair, so the code compiled here is not thrown away
     * by the first real one. Its registries cycle through a stale auth, escapes and an email, a missing auth, and an
     * auth alone (already consistent). {@code indented}: the review and the document with line breaks and indents.
     */
    public static byte[] review(int registries, boolean indented) {
        StringBuilder document = new StringBuilder(registries * 140).append("{\"auths\":{");
        Base64.Encoder base64 = Base64.getEncoder();
        for (int i = 0; i < registries; i++) {
            if (i > 0) document.append(',');
            document.append("\"r").append(i).append(".example.com").append(i % 3 == 1 ? ":5000" : "").append("\":{");
            String staleAuth = base64.encodeToString(("u" + i + ":old-" + i).getBytes(StandardCharsets.US_ASCII));
            switch (i % 4) {
                case 0 -> document.append("\"username\":\"u").append(i).append("\",\"password\":\"new-").append(i)
                        .append("\",\"auth\":\"").append(staleAuth).append('"');
                case 1 -> document.append("\"username\":\"u").append(i).append("\",\"password\":\"p\\\"w\\\\").append(i)
                        .append("\\u00e9\",\"email\":\"u").append(i).append("@example.com\",\"auth\":\"").append(staleAuth)
                        .append('"');
                case 2 -> document.append("\"username\":\"u").append(i).append("\",\"password\":\"new-").append(i).append('"');
                default -> document.append("\"auth\":\"").append(base64.encodeToString(
                        ("u" + i + ":p" + i).getBytes(StandardCharsets.US_ASCII))).append('"');
            }
            document.append('}');
        }
        document.append("}}");
        String secret = "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"warm-up\","
                + "\"namespace\":\"default\",\"uid\":\"00000000-0000-0000-0000-00000000a001\",\"resourceVersion\":\"1001\","
                + "\"creationTimestamp\":\"2026-01-01T00:00:00Z\",\"labels\":{\"app.kubernetes.io/name\":\"warm-up\"},"
                + "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"apiVersion\\\":\\\"v1\\\","
                + "\\\"kind\\\":\\\"Secret\\\",\\\"metadata\\\":{\\\"annotations\\\":{},\\\"name\\\":\\\"warm-up\\\"},"
                + "\\\"type\\\":\\\"kubernetes.io/dockerconfigjson\\\"}\\n\"},"
                + "\"managedFields\":[{\"manager\":\"kubectl-client-side-apply\",\"operation\":\"Update\",\"apiVersion\":\"v1\","
                + "\"time\":\"2026-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{\".\":{},"
                + "\"f:.dockerconfigjson\":{}},\"f:metadata\":{\"f:annotations\":{\".\":{},"
                + "\"f:kubectl.kubernetes.io/last-applied-configuration\":{}}},\"f:type\":{}}},"
                + "{\"manager\":\"kubectl-edit\",\"operation\":\"Update\",\"apiVersion\":\"v1\",\"time\":\"2026-01-02T00:00:00Z\","
                + "\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{\"f:data\":{\"f:.dockerconfigjson\":{}}}}]},"
                + "\"data\":{\".dockerconfigjson\":\"" + base64.encodeToString(
                        (indented ? indent(document) : document).toString().getBytes(StandardCharsets.US_ASCII))
                + "\"},\"type\":\"kubernetes.io/dockerconfigjson\"}";
        String kind = "{\"group\":\"\",\"version\":\"v1\",\"kind\":\"Secret\"}";
        String resource = "{\"group\":\"\",\"version\":\"v1\",\"resource\":\"secrets\"}";
        StringBuilder review = new StringBuilder("{\"kind\":\"AdmissionReview\",\"apiVersion\":\"admission.k8s.io/v1\",\"request\":{"
                + "\"uid\":\"00000000-0000-0000-0000-00000000a002\",\"kind\":" + kind + ",\"resource\":" + resource
                + ",\"requestKind\":" + kind + ",\"requestResource\":" + resource + ",\"name\":\"warm-up\","
                + "\"namespace\":\"default\",\"operation\":\"UPDATE\",\"userInfo\":{\"username\":\"warm-up\",\"uid\":\"0\","
                + "\"groups\":[\"system:masters\",\"system:authenticated\"]},\"object\":" + secret + ",\"oldObject\":" + secret
                + ",\"dryRun\":false,\"options\":{\"kind\":\"UpdateOptions\",\"apiVersion\":\"meta.k8s.io/v1\","
                + "\"fieldManager\":\"kubectl-edit\"}}}");
        return (indented ? indent(review) : review).toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Compact JSON re-written with a line break and two spaces per level, and a space after each colon. */
    static StringBuilder indent(CharSequence json) {
        StringBuilder out = new StringBuilder(json.length() * 2);
        int depth = 0;
        boolean inString = false;
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            if (inString) {
                out.append(c);
                if (c == '\\') out.append(json.charAt(++i));
                else if (c == '"') inString = false;
                continue;
            }
            switch (c) {
                case '"' -> { inString = true; out.append(c); }
                case '{', '[' -> { out.append(c); depth++; newline(out, depth); }
                case '}', ']' -> { depth--; newline(out, depth); out.append(c); }
                case ',' -> { out.append(c); newline(out, depth); }
                case ':' -> out.append(": ");
                default -> out.append(c);
            }
        }
        return out;
    }

    private static void newline(StringBuilder out, int depth) {
        out.append('\n');
        for (int i = 0; i < depth; i++) out.append("  ");
    }
}
