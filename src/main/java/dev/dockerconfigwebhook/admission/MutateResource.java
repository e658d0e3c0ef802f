package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.observability.ReviewMetrics;
import io.smallrye.common.annotation.NonBlocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

/** {@code POST /mutate}: the endpoint the MutatingWebhookConfiguration points at. */
@Path("/mutate")
public class MutateResource {

    private final AdmissionReviewReader reader;
    private final SecretMutator mutator;
    private final AdmissionReviewWriter writer;
    private final ReviewMetrics metrics;

    public MutateResource(AdmissionReviewReader reader, SecretMutator mutator, AdmissionReviewWriter writer,
            ReviewMetrics metrics) {
        this.reader = reader;
        this.mutator = mutator;
        this.writer = writer;
        this.metrics = metrics;
    }

    /** Small CPU-bound work on an already buffered body: it runs on the event loop, never blocks. */
    @POST
    @NonBlocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public byte[] mutate(byte[] body) throws BadReviewException {
        long start = System.nanoTime();
        SecretMutator.Decision decision = mutator.mutate(reader.read(body));
        byte[] answer = writer.write(decision.review());
        metrics.reviewed(decision.outcome(), decision.fixedRegistries(), start);
        return answer;
    }
}
