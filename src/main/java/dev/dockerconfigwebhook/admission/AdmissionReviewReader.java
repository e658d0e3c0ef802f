package dev.dockerconfigwebhook.admission;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads a request body into fabric8's {@code admission.k8s.io/v1} AdmissionReview, streaming: only the fields the
 * decision needs are materialized (uid, operation, names, dryRun, and the object's kind, type and data); everything
 * else, {@code oldObject}, metadata and its annotations included, is skipped unread. Fields it reads must have the
 * type the API server sends; anything else is a {@link BadReviewException} whose message never quotes the body.
 */
@ApplicationScoped
public class AdmissionReviewReader {

    static final String API_VERSION = "admission.k8s.io/v1";
    static final String KIND = "AdmissionReview";

    private final JsonFactory factory = JsonFactory.builder().build();

    public AdmissionReview read(byte[] body) throws BadReviewException {
        if (body == null || body.length == 0) {
            throw new BadReviewException("request body is empty; expected an " + API_VERSION + " AdmissionReview");
        }
        AdmissionReview review;
        try (JsonParser parser = factory.createParser(body)) {
            review = readReview(parser);
            if (parser.nextToken() != null) {
                throw new BadReviewException("request body has data after the AdmissionReview");
            }
        } catch (JsonEOFException e) {
            throw new BadReviewException("request body is truncated JSON");
        } catch (StreamConstraintsException e) {
            throw new BadReviewException("request body exceeds JSON nesting or length limits");
        } catch (JsonProcessingException e) {
            throw new BadReviewException("request body is not valid JSON" + at(e.getLocation()));
        } catch (IOException e) {
            throw new BadReviewException("request body could not be read");
        }
        if (!API_VERSION.equals(review.getApiVersion()) || !KIND.equals(review.getKind())) {
            throw new BadReviewException("expected apiVersion " + API_VERSION + " and kind " + KIND
                    + " (register the webhook with admissionReviewVersions: [v1])");
        }
        AdmissionRequest request = review.getRequest();
        if (request == null) {
            throw new BadReviewException("AdmissionReview has no request");
        }
        if (request.getUid() == null || request.getUid().isEmpty()) {
            throw new BadReviewException("AdmissionReview request has no uid");
        }
        return review;
    }

    private static AdmissionReview readReview(JsonParser p) throws IOException, BadReviewException {
        AdmissionReview review = new AdmissionReview();
        readFields(p, p.nextToken(), "the request body", (field, value) -> {
            switch (field) {
                case "apiVersion": review.setApiVersion(string(p, value, field)); break;
                case "kind": review.setKind(string(p, value, field)); break;
                case "request": review.setRequest(readRequest(p, value)); break;
                default: p.skipChildren();
            }
        });
        return review;
    }

    private static AdmissionRequest readRequest(JsonParser p, JsonToken start) throws IOException, BadReviewException {
        if (start == JsonToken.VALUE_NULL) {
            return null;
        }
        AdmissionRequest request = new AdmissionRequest();
        readFields(p, start, "request", (field, value) -> {
            switch (field) {
                case "uid": request.setUid(string(p, value, "request.uid")); break;
                case "operation": request.setOperation(string(p, value, "request.operation")); break;
                case "name": request.setName(string(p, value, "request.name")); break;
                case "namespace": request.setNamespace(string(p, value, "request.namespace")); break;
                case "dryRun": request.setDryRun(bool(p, value, "request.dryRun")); break;
                case "object": request.setObject(readObject(p, value)); break;
                default: p.skipChildren(); // oldObject, kind, userInfo, options, ...: not needed, not read
            }
        });
        return request;
    }

    /** A core/v1 Secret becomes a fabric8 {@link Secret} with its type and data; any other object is not needed. */
    private static Secret readObject(JsonParser p, JsonToken start) throws IOException, BadReviewException {
        if (start == JsonToken.VALUE_NULL) {
            return null;
        }
        Secret secret = new Secret();
        readFields(p, start, "request.object", (field, value) -> {
            switch (field) {
                case "apiVersion": secret.setApiVersion(string(p, value, "request.object.apiVersion")); break;
                case "kind": secret.setKind(string(p, value, "request.object.kind")); break;
                case "type": secret.setType(string(p, value, "request.object.type")); break;
                case "data": secret.setData(readData(p, value)); break;
                default: p.skipChildren(); // metadata (annotations hold plain-text copies), immutable, stringData
            }
        });
        return "Secret".equals(secret.getKind()) && "v1".equals(secret.getApiVersion()) ? secret : null;
    }

    private static Map<String, String> readData(JsonParser p, JsonToken start) throws IOException, BadReviewException {
        if (start == JsonToken.VALUE_NULL) {
            return null;
        }
        Map<String, String> data = new LinkedHashMap<>();
        // The key is named in no error: a data key is the user's own text.
        readFields(p, start, "request.object.data", (key, value) -> data.put(key, string(p, value, "request.object.data")));
        return data;
    }

    /** One member of a JSON object: its name and the token that starts its value. */
    @FunctionalInterface
    private interface FieldReader {
        void read(String field, JsonToken value) throws IOException, BadReviewException;
    }

    /** Requires an object at {@code start} and hands each member to {@code fields}, which must consume its value. */
    private static void readFields(JsonParser p, JsonToken start, String where, FieldReader fields)
            throws IOException, BadReviewException {
        expectObject(p, start, where);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            fields.read(field, p.nextToken());
        }
    }

    private static void expectObject(JsonParser p, JsonToken token, String where) throws BadReviewException {
        if (token != JsonToken.START_OBJECT) {
            throw wrongType(p, where, "an object");
        }
    }

    private static String string(JsonParser p, JsonToken token, String where) throws IOException, BadReviewException {
        if (token == JsonToken.VALUE_STRING) return p.getText();
        if (token == JsonToken.VALUE_NULL) return null;
        throw wrongType(p, where, "a string");
    }

    private static Boolean bool(JsonParser p, JsonToken token, String where) throws BadReviewException {
        if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) return token == JsonToken.VALUE_TRUE;
        if (token == JsonToken.VALUE_NULL) return null;
        throw wrongType(p, where, "a boolean");
    }

    private static BadReviewException wrongType(JsonParser p, String where, String expected) {
        return new BadReviewException("request body is not an AdmissionReview: " + where + " must be " + expected
                + at(p.currentTokenLocation()));
    }

    private static String at(JsonLocation location) {
        return location == null ? "" : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }
}
