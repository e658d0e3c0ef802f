package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.core.json.JsonCursor;
import dev.dockerconfigwebhook.core.json.JsonCursor.Kind;

import java.nio.ByteBuffer;

/**
 * Reads a request body as an {@code admission.k8s.io/v1} AdmissionReview with {@link JsonCursor}: only the fields the
 * decision needs are read (uid, operation, names, dryRun, and the object's kind, type and two pull-secret data
 * values, which stay views of the body); everything else, {@code oldObject}, metadata and its annotations included,
 * is validated and skipped without being copied. Fields it reads must have the type the API server sends; anything
 * else is a {@link BadReviewException} whose message never quotes the body.
 */
public final class AdmissionReviewReader {

    static final String API_VERSION = "admission.k8s.io/v1";
    static final String KIND = "AdmissionReview";

    private AdmissionReviewReader() {
    }

    /** Reads {@code body[0, length)}. */
    public static ReviewRequest read(byte[] body, int length) throws BadReviewException {
        if (length == 0) {
            throw new BadReviewException("request body is empty; expected an " + API_VERSION + " AdmissionReview");
        }
        JsonCursor cursor = new JsonCursor(body, 0, length);
        String apiVersion = null;
        String kind = null;
        ReviewRequest request = null;
        try {
            expect(cursor, Kind.OBJECT, "the request body", "an object");
            cursor.beginObject();
            while (cursor.nextMember()) {
                if (cursor.memberKeyIs("apiVersion")) {
                    apiVersion = string(cursor, "apiVersion");
                } else if (cursor.memberKeyIs("kind")) {
                    kind = string(cursor, "kind");
                } else if (cursor.memberKeyIs("request")) {
                    request = readRequest(cursor);
                } else {
                    cursor.skipValue();
                }
            }
            cursor.finish();
        } catch (JsonCursor.MalformedJsonException e) {
            throw malformed(e, body);
        }
        if (!API_VERSION.equals(apiVersion) || !KIND.equals(kind)) {
            throw new BadReviewException("expected apiVersion " + API_VERSION + " and kind " + KIND
                    + " (register the webhook with admissionReviewVersions: [v1])");
        }
        if (request == null) {
            throw new BadReviewException("AdmissionReview has no request");
        }
        if (request.uid() == null || request.uid().isEmpty()) {
            throw new BadReviewException("AdmissionReview request has no uid");
        }
        return request;
    }

    private static ReviewRequest readRequest(JsonCursor cursor) throws JsonCursor.MalformedJsonException,
            BadReviewException {
        if (cursor.peek() == Kind.NULL) {
            cursor.skipValue();
            return null;
        }
        expect(cursor, Kind.OBJECT, "request", "an object");
        String uid = null;
        String operation = null;
        String name = null;
        String namespace = null;
        boolean dryRun = false;
        ReviewRequest.SecretObject secret = null;
        cursor.beginObject();
        while (cursor.nextMember()) {
            if (cursor.memberKeyIs("uid")) {
                uid = string(cursor, "request.uid");
            } else if (cursor.memberKeyIs("operation")) {
                operation = string(cursor, "request.operation");
            } else if (cursor.memberKeyIs("name")) {
                name = string(cursor, "request.name");
            } else if (cursor.memberKeyIs("namespace")) {
                namespace = string(cursor, "request.namespace");
            } else if (cursor.memberKeyIs("dryRun")) {
                dryRun = bool(cursor, "request.dryRun");
            } else if (cursor.memberKeyIs("object")) {
                secret = readObject(cursor);
            } else {
                cursor.skipValue(); // oldObject, kind, userInfo, options, ...: not needed, not read
            }
        }
        return new ReviewRequest(uid, operation, namespace, name, dryRun, secret);
    }

    /** A core/v1 Secret's type and pull-secret data; any other object is not needed. */
    private static ReviewRequest.SecretObject readObject(JsonCursor cursor) throws JsonCursor.MalformedJsonException,
            BadReviewException {
        if (cursor.peek() == Kind.NULL) {
            cursor.skipValue();
            return null;
        }
        expect(cursor, Kind.OBJECT, "request.object", "an object");
        String apiVersion = null;
        String kind = null;
        String type = null;
        ByteBuffer[] data = new ByteBuffer[2];
        cursor.beginObject();
        while (cursor.nextMember()) {
            if (cursor.memberKeyIs("apiVersion")) {
                apiVersion = string(cursor, "request.object.apiVersion");
            } else if (cursor.memberKeyIs("kind")) {
                kind = string(cursor, "request.object.kind");
            } else if (cursor.memberKeyIs("type")) {
                type = string(cursor, "request.object.type");
            } else if (cursor.memberKeyIs("data")) {
                readData(cursor, data);
            } else {
                cursor.skipValue(); // metadata (annotations hold plain-text copies), immutable, stringData
            }
        }
        return "Secret".equals(kind) && "v1".equals(apiVersion)
                ? new ReviewRequest.SecretObject(type, data[0], data[1]) : null;
    }

    private static void readData(JsonCursor cursor, ByteBuffer[] data) throws JsonCursor.MalformedJsonException,
            BadReviewException {
        if (cursor.peek() == Kind.NULL) {
            cursor.skipValue();
            data[0] = null;
            data[1] = null;
            return;
        }
        expect(cursor, Kind.OBJECT, "request.object.data", "an object");
        data[0] = null;
        data[1] = null;
        cursor.beginObject();
        while (cursor.nextMember()) {
            // The key is named in no error: a data key is the user's own text.
            Kind value = cursor.peek();
            if (value == Kind.NULL) {
                cursor.skipValue();
                continue;
            }
            expect(cursor, Kind.STRING, "request.object.data", "an object of strings");
            int slot = cursor.memberKeyIs(".dockerconfigjson") ? 0 : cursor.memberKeyIs(".dockercfg") ? 1 : -1;
            if (slot < 0) {
                cursor.skipValue();
            } else {
                data[slot] = cursor.readStringBytes();
            }
        }
    }

    private static void expect(JsonCursor cursor, Kind kind, String where, String expected)
            throws JsonCursor.MalformedJsonException, BadReviewException {
        if (cursor.peek() != kind) {
            throw new BadReviewException("request body is not an AdmissionReview: " + where + " must be " + expected
                    + " (" + JsonCursor.lineAndColumn(cursor.document(), cursor.position()) + ")");
        }
    }

    private static String string(JsonCursor cursor, String where) throws JsonCursor.MalformedJsonException,
            BadReviewException {
        if (cursor.peek() == Kind.NULL) {
            cursor.skipValue();
            return null;
        }
        expect(cursor, Kind.STRING, where, "a string");
        return cursor.readString().string();
    }

    private static boolean bool(JsonCursor cursor, String where) throws JsonCursor.MalformedJsonException,
            BadReviewException {
        Kind kind = cursor.peek();
        if (kind == Kind.NULL) {
            cursor.skipValue();
            return false;
        }
        if (kind != Kind.TRUE && kind != Kind.FALSE) {
            expect(cursor, Kind.TRUE, where, "a boolean");
        }
        return cursor.readBoolean();
    }

    private static BadReviewException malformed(JsonCursor.MalformedJsonException e, byte[] body) {
        String reason = e.getMessage();
        if (reason.startsWith("unexpected end of input") || reason.startsWith("unterminated")) {
            return new BadReviewException("request body is truncated JSON");
        }
        if (reason.startsWith("nested deeper")) {
            return new BadReviewException("request body is nested deeper than " + JsonCursor.MAX_DEPTH + " levels");
        }
        if (reason.startsWith("unexpected data after")) {
            return new BadReviewException("request body has data after the AdmissionReview");
        }
        return new BadReviewException("request body is not valid JSON ("
                + JsonCursor.lineAndColumn(body, e.offset()) + ")");
    }
}
