package dev.dockerconfigwebhook.admission;

import io.smallrye.common.annotation.NonBlocking;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** {@code POST /mutate}: the endpoint the MutatingWebhookConfiguration points at. */
@Path("/mutate")
public class MutateResource {

    private final AdmissionReviewReader reader;
    private final SecretMutator mutator;

    public MutateResource(AdmissionReviewReader reader, SecretMutator mutator) {
        this.reader = reader;
        this.mutator = mutator;
    }

    /** Small CPU-bound work on an already buffered body: it runs on the event loop, never blocks. */
    @POST
    @NonBlocking
    @Consumes(MediaType.APPLICATION_JSON)
    @Produces(MediaType.APPLICATION_JSON)
    public Response mutate(byte[] body) throws BadReviewException {
        return Response.ok(mutator.mutate(reader.read(body)).review()).build();
    }
}
