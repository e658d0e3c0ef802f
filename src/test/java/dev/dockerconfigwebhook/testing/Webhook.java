package dev.dockerconfigwebhook.testing;

import org.eclipse.microprofile.config.ConfigProvider;

import java.net.URL;

/** The HTTPS port of the application a {@code @QuarkusTest} started (the test profile picks a free port). */
public final class Webhook {

    private Webhook() {
    }

    public static URL mutate() {
        return url("/mutate");
    }

    public static URL url(String path) {
        // Quarkus publishes the port it bound as this property once the server listens.
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
        try {
            return new URL("https://localhost:" + port + path);
        } catch (java.net.MalformedURLException e) {
            throw new IllegalStateException(e);
        }
    }
}
