package dev.dockerconfigwebhook.admission;

/** The request body is not a usable AdmissionReview: the client's mistake, answered with 400. */
public final class BadReviewException extends Exception {

    /** @param reason a fixed description that never quotes the request body */
    public BadReviewException(String reason) {
        super(reason, null, false, false);
    }

    /** The same, where a supplier cannot throw a checked exception (the resource's Uni). */
    public static final class Unchecked extends RuntimeException {
        public Unchecked(BadReviewException cause) {
            super(cause.getMessage(), cause, false, false);
        }
    }
}
