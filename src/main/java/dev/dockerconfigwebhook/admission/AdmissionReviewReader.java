package dev.dockerconfigwebhook.admission;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.util.stream.Collectors;

/**
 * Turns a request body into an {@code admission.k8s.io/v1} AdmissionReview or a {@link BadReviewException}
 * whose message says what is wrong without ever quoting the body (it carries registry credentials).
 */
@ApplicationScoped
public class AdmissionReviewReader {

    static final String API_VERSION = "admission.k8s.io/v1";
    static final String KIND = "AdmissionReview";

    private final ObjectReader reader;

    public AdmissionReviewReader(ObjectMapper mapper) {
        // FAIL_ON_TRAILING_TOKENS would also apply inside fabric8's KubernetesDeserializer and break it:
        // trailing data is checked in read() instead.
        ObjectMapper strict = mapper.copy().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        // A number or boolean where the API server always sends a string is not an AdmissionReview.
        strict.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        strict.coercionConfigFor(LogicalType.Boolean)
                .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        this.reader = strict.readerFor(AdmissionReview.class);
    }

    public AdmissionReview read(byte[] body) throws BadReviewException {
        if (body == null || body.length == 0) {
            throw new BadReviewException("request body is empty; expected an " + API_VERSION + " AdmissionReview");
        }
        AdmissionReview review;
        try (JsonParser parser = reader.createParser(body)) {
            review = reader.readValue(parser);
            if (parser.nextToken() != null) {
                throw new BadReviewException("request body has data after the AdmissionReview");
            }
        } catch (JsonEOFException e) {
            throw new BadReviewException("request body is truncated JSON");
        } catch (StreamConstraintsException e) {
            throw new BadReviewException("request body exceeds JSON nesting or length limits");
        } catch (JsonMappingException e) {
            throw new BadReviewException("request body is not an AdmissionReview: " + describe(e));
        } catch (JsonProcessingException e) {
            throw new BadReviewException("request body is not valid JSON" + at(e.getLocation()));
        } catch (IOException | RuntimeException e) {
            throw new BadReviewException("request body could not be read as an AdmissionReview");
        }
        if (review == null) {
            throw new BadReviewException("request body is JSON null; expected an AdmissionReview");
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

    /** Names the JSON path (at most three levels: deeper names may be keys of a Secret's data) and position. */
    private static String describe(JsonMappingException e) {
        String path = e.getPath().stream().limit(3)
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining("."));
        return (path.isEmpty() ? "unexpected JSON structure" : "wrong type or shape at " + path)
                + at(e.getLocation());
    }

    private static String at(JsonLocation location) {
        return location == null ? "" : " (line " + location.getLineNr() + ", column " + location.getColumnNr() + ")";
    }
}
