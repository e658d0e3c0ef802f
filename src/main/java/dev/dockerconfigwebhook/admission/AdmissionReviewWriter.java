package dev.dockerconfigwebhook.admission;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import jakarta.enterprise.context.ApplicationScoped;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes the answering AdmissionReview with a streaming generator: the members an admission response can carry,
 * in a fixed order, without per-request reflection over fabric8's model.
 */
@ApplicationScoped
public class AdmissionReviewWriter {

    private final JsonFactory factory = JsonFactory.builder().build();

    public byte[] write(AdmissionReview review) {
        AdmissionResponse response = review.getResponse();
        try (ByteArrayBuilder out = new ByteArrayBuilder(256 + sizeHint(response));
             JsonGenerator g = factory.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("apiVersion", review.getApiVersion());
            g.writeStringField("kind", review.getKind());
            g.writeObjectFieldStart("response");
            g.writeStringField("uid", response.getUid());
            g.writeBooleanField("allowed", Boolean.TRUE.equals(response.getAllowed()));
            if (response.getPatchType() != null) {
                g.writeStringField("patchType", response.getPatchType());
                g.writeStringField("patch", response.getPatch());
            }
            if (response.getWarnings() != null && !response.getWarnings().isEmpty()) {
                g.writeArrayFieldStart("warnings");
                for (String warning : response.getWarnings()) {
                    g.writeString(warning);
                }
                g.writeEndArray();
            }
            Status status = response.getStatus();
            if (status != null) {
                g.writeObjectFieldStart("status");
                if (status.getCode() != null) g.writeNumberField("code", status.getCode());
                if (status.getReason() != null) g.writeStringField("reason", status.getReason());
                if (status.getMessage() != null) g.writeStringField("message", status.getMessage());
                g.writeEndObject();
            }
            g.writeEndObject();
            g.writeEndObject();
            g.flush();
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // writing to memory does not fail
        }
    }

    private static int sizeHint(AdmissionResponse response) {
        return response.getPatch() == null ? 0 : response.getPatch().length();
    }
}
