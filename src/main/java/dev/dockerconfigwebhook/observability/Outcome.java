package dev.dockerconfigwebhook.observability;

/** How a review ended, as logged and counted in {@code webhook_reviews_total{outcome=...}}. */
public enum Outcome {
    /** allowed as submitted, nothing to say */
    UNCHANGED,
    /** allowed with a patch (possibly with warnings too) */
    PATCHED,
    /** allowed unchanged, with warnings (unfixable or broken entries) */
    WARNED,
    /** refused in strict mode */
    DENIED,
    /** not an AdmissionReview, or not a request the endpoint takes: answered 4xx */
    BAD_REQUEST,
    /** refused before reading because the memory budget stayed exhausted: answered 503 */
    BUSY,
    /** the client reset the stream or closed the connection before its answer was written */
    ABANDONED,
    /** not complete (body received, answer written) within the review deadline: the stream or connection was cut */
    DROPPED,
    /** a fault of the webhook's own: answered 500 */
    ERRORED;

    /** As logged and used as the metric label: {@code bad_request}. */
    public String label() {
        return name().toLowerCase();
    }
}
