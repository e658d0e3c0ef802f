package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.core.PullSecretFixer;

/**
 * The heap one review may hold at its peak, as a function of its body size: what {@link MemoryBudget} charges.
 *
 * <p>The arrays a review holds at once, each bounded: the body (one array of its size, or for a large review of its
 * {@link BodyArrays#arrayLength size class}, at most 1/8 more); the decoded document D (its base64 is read in place
 * from the body, so D is at most 3/4 of it, and a document over {@link PullSecretFixer#MAX_DOCUMENT_BYTES} is never
 * decoded); the edits, the new document and the answer, all three bounded by the new document N, which a fix never
 * lets grow past the same 1 MiB. N is at most 5.4 D (an inserted
 * {@code auth} is 4/3 of the username and password it encodes plus a copy of the layout before it, both already in
 * D), the edits at most N, the answer 16/9 of N (base64 of a JSON Patch holding base64 of N): 3.8 N in all.
 * Per-entry temporaries die young and are not held across entries. BENCHMARKS.md ("Memory") has the measurements.
 */
public final class RequestCost {

    /** The new document, its edits and the answer, in multiples of the new document. */
    static final double RESULT_FACTOR = 3.8;

    /** How much larger than the decoded document a fixed document can grow (before the 1 MiB cap applies). */
    static final double GROWTH_FACTOR = 5.4;

    /** Parser state, the response head, warnings and per-request objects: a few KiB, rounded up. */
    static final long OVERHEAD = 32 * 1024;

    private RequestCost() {
    }

    /** What a review with a body of {@code bodyBytes} is charged (bench/HeapPerReview.java prints it too). */
    public static long of(long bodyBytes) {
        long document = Math.min(bodyBytes * 3 / 4, PullSecretFixer.MAX_DOCUMENT_BYTES);
        long result = (long) Math.min(GROWTH_FACTOR * document, PullSecretFixer.MAX_DOCUMENT_BYTES);
        long bodyArray = BodyArrays.holds(bodyBytes) ? BodyArrays.arrayLength(bodyBytes) : bodyBytes;
        return bodyArray + document + (long) (RESULT_FACTOR * result) + OVERHEAD;
    }
}
