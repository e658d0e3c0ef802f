package dev.dockerconfigwebhook.admission;

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
    BUSY;

    /** As logged and used as the metric label: {@code bad_request}. */
    public String label() {
        return name().toLowerCase();
    }
}
