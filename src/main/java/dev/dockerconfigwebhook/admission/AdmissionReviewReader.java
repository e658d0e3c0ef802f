package dev.dockerconfigwebhook.admission;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads a request body as an {@code admission.k8s.io/v1} AdmissionReview with Jackson's streaming parser: only the
 * fields the decision needs are read (uid, operation, names, dryRun, and the object's kind, type and two pull-secret
 * data values); everything else, {@code oldObject}, metadata and its annotations included, is skipped without being
 * turned into text. Fields it reads must have the type the API server sends; anything else is a
 * {@link BadReviewException} whose message never quotes the body.
 *
 * <p>The data values are handed to the core as they are (base64 text): the core decodes them as Go does, which kubelet
 * parity needs. Nesting is capped where Go's decoder caps it (10,000 levels), not at Jackson's default; Jackson's
 * other limits are lifted, so a body the API server sends is never refused for a long name or number.
 */
public final class AdmissionReviewReader {

    static final String API_VERSION = "admission.k8s.io/v1";
    static final String KIND = "AdmissionReview";
    /** Go's encoding/json refuses documents nested deeper than this. */
    public static final int MAX_DEPTH = 10_000;

    /**
     * Only Go's nesting limit: whatever else the API server accepts must be read, so Jackson's other defaults (50,000
     * characters for a field name, which a managedFields key can exceed; 1,000 digits for a number; 20 MB for a
     * string) are lifted. The body itself is capped before it is read ({@code quarkus.http.limits.max-body-size}).
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH)
                    .maxStringLength(Integer.MAX_VALUE).maxNameLength(Integer.MAX_VALUE)
                    .maxNumberLength(Integer.MAX_VALUE).build())
            .build();

    private AdmissionReviewReader() {
    }

    /** Reads {@code body[0, length)}. */
    public static ReviewRequest read(byte[] body, int length) throws BadReviewException {
        return read(new ByteArrayInputStream(body, 0, length));
    }

    /** Reads the whole stream. */
    public static ReviewRequest read(InputStream body) throws BadReviewException {
        String apiVersion = null;
        String kind = null;
        ReviewRequest request = null;
        try (JsonParser parser = JSON.createParser(body)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new BadReviewException("request body is empty; expected an " + API_VERSION + " AdmissionReview");
            }
            expect(parser, JsonToken.START_OBJECT, "the request body", "an object");
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                switch (field) {
                    case "apiVersion" -> apiVersion = string(parser, "apiVersion");
                    case "kind" -> kind = string(parser, "kind");
                    case "request" -> request = readRequest(parser);
                    default -> parser.skipChildren();
                }
            }
            if (hasMore(parser)) {
                throw new BadReviewException("request body has data after the AdmissionReview");
            }
        } catch (StreamConstraintsException e) {
            // Nesting is the one limit kept (the others are lifted above); should Jackson add one, it is not called nesting.
            throw new BadReviewException(e.getMessage() != null && e.getMessage().contains("nesting depth")
                    ? "request body is nested deeper than " + MAX_DEPTH + " levels"
                    : "request body exceeds a limit of the JSON reader");
        } catch (JsonEOFException e) {
            throw new BadReviewException("request body is truncated JSON");
        } catch (JsonProcessingException e) {
            throw new BadReviewException("request body is not valid JSON (" + where(e.getLocation()) + ")");
        } catch (IOException e) {
            // The connection or stream failed while the body streamed in: nobody is left to answer.
            throw new UncheckedIOException(e);
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

    /** Whether anything but white space follows the AdmissionReview (valid JSON or not: Go refuses both). */
    private static boolean hasMore(JsonParser parser) throws IOException {
        try {
            return parser.nextToken() != null;
        } catch (JsonProcessingException e) {
            return true;
        }
    }

    private static ReviewRequest readRequest(JsonParser parser) throws IOException, BadReviewException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(parser, JsonToken.START_OBJECT, "request", "an object");
        String uid = null;
        String operation = null;
        String name = null;
        String namespace = null;
        boolean dryRun = false;
        ReviewRequest.SecretObject secret = null;
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "uid" -> uid = string(parser, "request.uid");
                case "operation" -> operation = string(parser, "request.operation");
                case "name" -> name = string(parser, "request.name");
                case "namespace" -> namespace = string(parser, "request.namespace");
                case "dryRun" -> dryRun = bool(parser, "request.dryRun");
                case "object" -> secret = readObject(parser);
                default -> parser.skipChildren(); // oldObject, kind, userInfo, options, ...: not needed, not read
            }
        }
        return new ReviewRequest(uid, operation, namespace, name, dryRun, secret);
    }

    /** A core/v1 Secret's type and pull-secret data; any other object is not needed. */
    private static ReviewRequest.SecretObject readObject(JsonParser parser) throws IOException, BadReviewException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(parser, JsonToken.START_OBJECT, "request.object", "an object");
        String apiVersion = null;
        String kind = null;
        String type = null;
        ByteBuffer[] data = new ByteBuffer[2];
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "apiVersion" -> apiVersion = string(parser, "request.object.apiVersion");
                case "kind" -> kind = string(parser, "request.object.kind");
                case "type" -> type = string(parser, "request.object.type");
                case "data" -> readData(parser, data);
                default -> parser.skipChildren(); // metadata (annotations hold plain-text copies), immutable, stringData
            }
        }
        return "Secret".equals(kind) && "v1".equals(apiVersion)
                ? new ReviewRequest.SecretObject(type, data[0], data[1]) : null;
    }

    private static void readData(JsonParser parser, ByteBuffer[] data) throws IOException, BadReviewException {
        data[0] = null;
        data[1] = null;
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return;
        }
        expect(parser, JsonToken.START_OBJECT, "request.object.data", "an object");
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            // The key is named in no error: a data key is the user's own text.
            String key = parser.currentName();
            JsonToken value = parser.nextToken();
            if (value == JsonToken.VALUE_NULL) {
                continue;
            }
            expect(parser, JsonToken.VALUE_STRING, "request.object.data", "an object of strings");
            int slot = key.equals(".dockerconfigjson") ? 0 : key.equals(".dockercfg") ? 1 : -1;
            if (slot >= 0) {
                data[slot] = ByteBuffer.wrap(parser.getText().getBytes(StandardCharsets.UTF_8));
            }
            // other values are never turned into text: the parser moves past them on the next token
        }
    }

    private static void expect(JsonParser parser, JsonToken token, String where, String expected)
            throws BadReviewException {
        if (parser.currentToken() != token) {
            throw new BadReviewException("request body is not an AdmissionReview: " + where + " must be " + expected
                    + " (" + where(parser.currentTokenLocation()) + ")");
        }
    }

    private static String string(JsonParser parser, String where) throws IOException, BadReviewException {
        if (parser.currentToken() == JsonToken.VALUE_NULL) {
            return null;
        }
        expect(parser, JsonToken.VALUE_STRING, where, "a string");
        return parser.getText();
    }

    private static boolean bool(JsonParser parser, String where) throws BadReviewException {
        JsonToken token = parser.currentToken();
        if (token == JsonToken.VALUE_NULL) {
            return false;
        }
        if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
            expect(parser, JsonToken.VALUE_TRUE, where, "a boolean");
        }
        return token == JsonToken.VALUE_TRUE;
    }

    /** Where in the body, as line and column (1-based): never what is there. */
    private static String where(JsonLocation location) {
        return location == null ? "unknown position"
                : "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }
}
