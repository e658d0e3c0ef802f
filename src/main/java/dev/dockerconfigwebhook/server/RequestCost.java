package dev.dockerconfigwebhook.server;

import dev.dockerconfigwebhook.core.PullSecretFixer;

/**
 * The heap one review may hold at its peak, as a function of its body size; what {@link MemoryBudget} charges.
 *
 * <p>The body is held once, in an array of exactly its size. Deciding costs at most the decoded document (its base64
 * is read in place from the body, and a document over {@link PullSecretFixer#MAX_DOCUMENT_BYTES} is never decoded),
 * the new document and its edits (a fix never grows it past the same limit), and the answer (base64 of a JSON Patch
 * holding base64 of the document: 16/9 of it). {@link #PROCESSING_FACTOR} documents' worth covers those with room
 * to spare; BENCHMARKS.md ("Memory") has the measurements behind it.
 */
final class RequestCost {

    /** Decoded document + new document + edits + answer (~1.8) + transient copies, in documents. */
    static final int PROCESSING_FACTOR = 6;

    /** Parser state, the response head, warnings and per-request objects: a few KiB, rounded up. */
    static final long OVERHEAD = 32 * 1024;

    private RequestCost() {
    }

    static long of(long bodyBytes) {
        long largestDocument = Math.min(bodyBytes * 3 / 4, PullSecretFixer.MAX_DOCUMENT_BYTES);
        return bodyBytes + PROCESSING_FACTOR * largestDocument + OVERHEAD;
    }
}
