package dev.dockerconfigwebhook.endpoint;

import dev.dockerconfigwebhook.core.PullSecretFixer;

/**
 * The heap one review may hold at its peak, as a function of its body size B: what {@link MemoryBudget} charges.
 *
 * <p>Two moments bound it. While Quarkus REST reads the body it holds the chunks as they arrived and then copies them
 * into one array: 2 B. While the review is decided, that array B; the Secret's data value as Jackson reads it (its
 * characters while they are collected, twice a byte each, then the String and its UTF-8 bytes: 4 V, where V is at most
 * the base64 of the 1 MiB a document can be before it is refused unparsed); the decoded document D (at most 1 MiB);
 * and the edits, the new document and the answer, all bounded by the new document N, which a fix never lets grow
 * past the same 1 MiB: N is at most 5.4 D (an inserted {@code auth} is 4/3 of the username and password it encodes
 * plus a copy of the layout before it), the edits at most N, the answer 16/9 of N (base64 of a JSON Patch holding
 * base64 of N): 3.8 N in all.
 */
public final class RequestCost {

    static final double VALUE_FACTOR = 4;
    static final double RESULT_FACTOR = 3.8;
    static final double GROWTH_FACTOR = 5.4;
    /** Parser state, the response head, warnings and per-request objects: a few KiB, rounded up. */
    static final long OVERHEAD = 32 * 1024;
    /** The longest data value that is decoded: base64 of the largest document a Secret can hold. */
    static final long MAX_VALUE = (PullSecretFixer.MAX_DOCUMENT_BYTES + 2L) / 3 * 4;

    private RequestCost() {
    }

    /** What a review with a body of {@code bodyBytes} is charged. */
    public static long of(long bodyBytes) {
        long value = Math.min(bodyBytes, MAX_VALUE);
        long document = Math.min(bodyBytes * 3 / 4, PullSecretFixer.MAX_DOCUMENT_BYTES);
        long result = (long) Math.min(GROWTH_FACTOR * document, PullSecretFixer.MAX_DOCUMENT_BYTES);
        long reading = 2 * bodyBytes;
        long deciding = bodyBytes + (long) (VALUE_FACTOR * value) + document + (long) (RESULT_FACTOR * result);
        return Math.max(reading, deciding) + OVERHEAD;
    }
}
