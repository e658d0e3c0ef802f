package dev.dockerconfigwebhook.testing;

import dev.dockerconfigwebhook.server.AdmissionServer;
import io.quarkus.arc.Arc;

import java.net.URL;

/** The admission port of the application a {@code @QuarkusTest} started (the test profile picks a free port). */
public final class Webhook {

    private Webhook() {
    }

    public static URL mutate() {
        return url("/mutate");
    }

    public static URL url(String path) {
        int port = Arc.container().instance(AdmissionServer.class).get().port();
        try {
            return new URL("https://localhost:" + port + path);
        } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }
}
