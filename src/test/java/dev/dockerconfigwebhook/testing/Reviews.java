package dev.dockerconfigwebhook.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;

/** Generated AdmissionReviews for size and hostile-input tests (same shapes as bench/make-review.py). */
public final class Reviews {

    private Reviews() {
    }

    /** A pull-secret document with {@code registries} entries, each with a stale auth (password changed). */
    public static String staleDocument(int registries) {
        return staleDocument(registries, "");
    }

    /**
     * As {@link #staleDocument(int)}, with entry i's new password {@code new-<rotation>i}: documents that differ in
     * every entry, so that an answer computed from another request's bytes cannot pass for the right one.
     */
    public static String staleDocument(int registries, String rotation) {
        StringBuilder document = new StringBuilder("{\"auths\":{");
        for (int i = 0; i < registries; i++) {
            if (i > 0) document.append(',');
            document.append("\"r").append(i).append(".example.com\":{\"username\":\"u").append(i)
                    .append("\",\"password\":\"new-").append(rotation).append(i).append("\",\"auth\":\"")
                    .append(b64("u" + i + ":old-" + i)).append("\"}");
        }
        return document.append("}}").toString();
    }

    /** An UPDATE review carrying {@code document} in both object and oldObject, as the API server sends it. */
    public static byte[] update(String uid, String document) {
        String secret = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kubernetes.io/dockerconfigjson\","
                + "\"metadata\":{\"name\":\"big\",\"namespace\":\"default\"},"
                + "\"data\":{\".dockerconfigjson\":\"" + b64(document) + "\"}}";
        return ("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"" + uid
                + "\",\"operation\":\"UPDATE\",\"name\":\"big\",\"namespace\":\"default\",\"object\":" + secret
                + ",\"oldObject\":" + secret + ",\"dryRun\":false}}").getBytes(StandardCharsets.UTF_8);
    }

    /** A CREATE review of a pull secret named {@code name} whose document is {@code document}. */
    public static byte[] create(String uid, String name, String document) {
        return ("{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{\"uid\":"
                + json(uid) + ",\"operation\":\"CREATE\",\"name\":" + json(name) + ",\"namespace\":\"default\","
                + "\"object\":{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kubernetes.io/dockerconfigjson\","
                + "\"data\":{\".dockerconfigjson\":\"" + b64(document) + "\"}}}}").getBytes(StandardCharsets.UTF_8);
    }

    /** {@code {"auths":{"a":0,"a":0,...}}}: tiny members, as many as fit, to make a tree-building parser explode. */
    public static String craftedDocument(int members) {
        StringBuilder document = new StringBuilder(members * 6 + 16).append("{\"auths\":{");
        for (int i = 0; i < members; i++) {
            document.append(i == 0 ? "" : ",").append("\"a\":0");
        }
        return document.append("}}").toString();
    }


    /** A JSON string literal (quotes, backslashes and control characters escaped). */
    public static String json(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append('"').toString();
    }
}
