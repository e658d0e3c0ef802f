package dev.dockerconfigwebhook.server;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready while the admission port listens, the start-up warm-up is done and the port does not drain: on SIGTERM the
 * pod leaves the endpoints at once.
 */
@Readiness
@ApplicationScoped
public class AdmissionServerCheck implements HealthCheck {

    private final AdmissionServer server;

    public AdmissionServerCheck(AdmissionServer server) {
        this.server = server;
    }

    @Override
    public HealthCheckResponse call() {
        return server.serving()
                ? HealthCheckResponse.named("admission-server").up().withData("port", server.port()).build()
                : HealthCheckResponse.named("admission-server").down().withData("reason", "not listening yet, warming up, or draining").build();
    }
}
