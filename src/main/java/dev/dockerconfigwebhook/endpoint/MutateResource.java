package dev.dockerconfigwebhook.endpoint;

import dev.dockerconfigwebhook.admission.AdmissionReviewReader;
import dev.dockerconfigwebhook.admission.AdmissionReviewWriter;
import dev.dockerconfigwebhook.admission.BadReviewException;
import dev.dockerconfigwebhook.admission.SecretMutator;
import dev.dockerconfigwebhook.config.WebhookConfig;
import dev.dockerconfigwebhook.observability.ReviewMetrics;
import io.netty.buffer.Unpooled;
import io.smallrye.common.annotation.NonBlocking;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;

import java.io.InputStream;

/**
 * {@code POST /mutate}: an AdmissionReview in, the answering AdmissionReview out. The body has passed
 * {@link AdmissionGate} before this runs, and Quarkus REST has read it whole ({@code quarkus.rest.input-buffer-size} is
 * the body limit). A small review (an ordinary pull secret is a few KiB) is decided right here on its event loop, in a
 * fraction of a millisecond; a large one on a worker thread, so that a 1 MiB document never holds up the event loop's
 * other connections. Errors are answered by {@link ErrorResponses}.
 */
@Path("/mutate")
public class MutateResource {

    private final SecretMutator mutator;
    private final ReviewMetrics metrics;

    public MutateResource(ReviewMetrics metrics, WebhookConfig config) {
        this.mutator = new SecretMutator(config.strict());
        this.metrics = metrics;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    @NonBlocking
    public Uni<Buffer> mutate(InputStream body, RoutingContext route) {
        AdmittedReview admitted = AdmittedReview.of(route);
        Uni<Buffer> answer = Uni.createFrom().item(() -> decide(body, admitted.startedAtNanos()));
        return admitted.small() ? answer : answer.runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    private Buffer decide(InputStream body, long started) {
        SecretMutator.Decision decision;
        try {
            decision = mutator.mutate(AdmissionReviewReader.read(body));
        } catch (BadReviewException e) {
            throw new BadReviewException.Unchecked(e);
        }
        byte[] answer = AdmissionReviewWriter.write(decision.response());
        metrics.reviewed(decision.outcome(), decision.fixedRegistries(), started);
        return Buffer.buffer(Unpooled.wrappedBuffer(answer)); // wrapped, not copied: a large answer is 1.8 MB
    }
}
