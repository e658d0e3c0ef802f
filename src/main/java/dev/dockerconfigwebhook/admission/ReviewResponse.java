package dev.dockerconfigwebhook.admission;

import java.util.List;

/**
 * The answer to one review, built with the named constructors below (as controller-runtime's {@code response.go}
 * does): allowed as is, allowed with a patch replacing one data key, or denied with a status.
 */
public record ReviewResponse(String uid, boolean allowed, Patch patch, Denial denial, List<String> warnings) {

    /** A JSON Patch that replaces {@code /data/<dataKey>} with the base64 of {@code document}. */
    public record Patch(String dataKey, byte[] document) {
    }

    /** {@code status} of a denial: 403 Forbidden, as controller-runtime's {@code admission.Denied} answers. */
    public record Denial(int code, String reason, String message) {
    }

    public static ReviewResponse allowed(String uid) {
        return new ReviewResponse(uid, true, null, null, List.of());
    }

    public static ReviewResponse patched(String uid, String dataKey, byte[] document) {
        return new ReviewResponse(uid, true, new Patch(dataKey, document), null, List.of());
    }

    public static ReviewResponse denied(String uid, String message) {
        return new ReviewResponse(uid, false, null, new Denial(403, "Forbidden", message), List.of());
    }

    public ReviewResponse withWarnings(List<String> warnings) {
        return new ReviewResponse(uid, allowed, patch, denial, List.copyOf(warnings));
    }
}
