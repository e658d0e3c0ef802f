package dev.dockerconfigwebhook.endpoint;

import dev.dockerconfigwebhook.admission.BadReviewException;
import dev.dockerconfigwebhook.observability.Outcome;
import dev.dockerconfigwebhook.observability.ReviewMetrics;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;

import java.io.UncheckedIOException;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error of the endpoint as the same one-line JSON body, {@code {"error":"…"}}: a message the API server logs
 * as the reason, never a stack trace and never a quote of the request.
 */
public class ErrorResponses {

    private static final Logger LOG = Logger.getLogger(ErrorResponses.class);

    private final ReviewMetrics metrics;

    public ErrorResponses(ReviewMetrics metrics) {
        this.metrics = metrics;
    }

    /** Not a usable AdmissionReview: the client's mistake. */
    @ServerExceptionMapper
    public Response badReview(BadReviewException.Unchecked e) {
        metrics.rejected(Outcome.BAD_REQUEST);
        LOG.info("review rejected: " + e.getMessage());
        return error(400, e.getMessage());
    }

    /** What Quarkus REST refuses itself: another method, another content type. */
    @ServerExceptionMapper
    public Response refused(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        metrics.rejected(Outcome.BAD_REQUEST);
        String message = switch (status) {
            case 404 -> "not found: the webhook serves POST /mutate";
            case 405 -> "method not allowed: send POST /mutate";
            case 406 -> "not acceptable: the webhook answers application/json";
            case 415 -> "unsupported content type: send application/json";
            default -> "request refused (HTTP " + status + ")";
        };
        LOG.info("request refused: status=" + status + " " + message);
        Response.ResponseBuilder response = Response.status(status).type(MediaType.APPLICATION_JSON)
                .entity(ErrorBody.of(message));
        if (status == 405) response.header(HttpHeaders.ALLOW, "POST");
        return response.build();
    }

    /**
     * The body stopped arriving: the client reset the stream or closed the connection, or the gate cut it at its
     * deadline. The gate has counted and logged it; the answer goes nowhere.
     */
    @ServerExceptionMapper
    public Response unreadable(UncheckedIOException e) {
        LOG.debugf("review body could not be read: %s", e.getCause().getClass().getSimpleName());
        return error(400, "request body could not be read");
    }

    /** A fault of our own: the type is enough to find it, and a message could quote input. */
    @ServerExceptionMapper
    public Response internal(RuntimeException e) {
        metrics.rejected(Outcome.ERRORED);
        LOG.errorf("internal error deciding a review: %s", e.getClass().getName());
        return error(500, "internal error");
    }

    private static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(ErrorBody.of(message)).build();
    }
}
