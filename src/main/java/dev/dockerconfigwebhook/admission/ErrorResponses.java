package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.observability.ReviewMetrics;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every error is a one-line JSON object and never a stack trace: a client's mistake keeps its 4xx status,
 * and only a fault of our own is a 500 (logged by type, not by message, which could quote input).
 */
public class ErrorResponses {

    private static final Logger LOG = Logger.getLogger(ErrorResponses.class);

    private final ReviewMetrics metrics;

    public ErrorResponses(ReviewMetrics metrics) {
        this.metrics = metrics;
    }

    @ServerExceptionMapper
    public Response badReview(BadReviewException e) {
        LOG.infof("review rejected: %s", e.getMessage());
        metrics.badRequest();
        return error(400, e.getMessage());
    }

    @ServerExceptionMapper
    public Response webApplication(WebApplicationException e) {
        int status = e.getResponse().getStatus();
        if (status < 500) {
            metrics.badRequest();
        }
        return error(status, Response.Status.fromStatusCode(status) != null
                ? Response.Status.fromStatusCode(status).getReasonPhrase() : "request failed");
    }

    @ServerExceptionMapper
    public Response unexpected(Exception e) {
        LOG.errorf("internal error handling a review: %s", e.getClass().getName());
        return error(500, "internal error");
    }

    static Response error(int status, String message) {
        return Response.status(status).type(MediaType.APPLICATION_JSON).entity(json(message)).build();
    }

    static String json(String message) {
        StringBuilder out = new StringBuilder("{\"error\":\"");
        for (char c : message.toCharArray()) {
            if (c == '"' || c == '\\') out.append('\\').append(c);
            else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.append("\"}").toString();
    }
}
