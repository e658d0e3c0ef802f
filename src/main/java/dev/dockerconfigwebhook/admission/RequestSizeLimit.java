package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.observability.ReviewMetrics;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Refuses a declared body over {@value #MAX_BODY_BYTES} bytes with a 400 before any of it is read. A Secret is
 * at most 1 MiB and an AdmissionReview carries two copies plus metadata, so nothing legitimate comes close.
 * A chunked body without Content-Length is cut at the same size by {@code quarkus.http.limits.max-body-size} (413).
 */
@ApplicationScoped
public class RequestSizeLimit {

    static final long MAX_BODY_BYTES = 8L * 1024 * 1024;

    private final ReviewMetrics metrics;

    public RequestSizeLimit(ReviewMetrics metrics) {
        this.metrics = metrics;
    }

    void install(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            String declared = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
            long length;
            try {
                length = declared == null ? -1 : Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                length = Long.MAX_VALUE;
            }
            if (length > MAX_BODY_BYTES) {
                metrics.badRequest();
                ctx.response().setStatusCode(400)
                        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                        .putHeader(HttpHeaders.CONNECTION, "close") // the unread body must not be taken as a next request
                        .end(ErrorResponses.json("request body is larger than 8 MiB"));
                return;
            }
            ctx.next();
        });
    }
}
