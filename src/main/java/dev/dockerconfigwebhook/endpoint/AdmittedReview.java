package dev.dockerconfigwebhook.endpoint;

import io.vertx.ext.web.RoutingContext;

/**
 * What {@link AdmissionGate} hands {@link MutateResource} for a review it let through: when its headers arrived (for
 * the duration metric) and how long its body is (from the Content-Length the gate checked and charged).
 */
record AdmittedReview(long startedAtNanos, long bodyBytes) {

    /** Bodies up to this size take the small lane and are decided on the event loop (a pull secret is a few KiB). */
    static final long SMALL_BODY_BYTES = 64 * 1024;
    private static final String KEY = AdmittedReview.class.getName();

    boolean small() {
        return bodyBytes <= SMALL_BODY_BYTES;
    }

    void attachTo(RoutingContext route) {
        route.put(KEY, this);
    }

    /** The gate's record of this request; a request that did not pass the gate is a wiring error, said as one. */
    static AdmittedReview of(RoutingContext route) {
        AdmittedReview admitted = route.get(KEY);
        if (admitted == null) {
            throw new IllegalStateException("POST /mutate reached the resource without passing AdmissionGate");
        }
        return admitted;
    }
}
