package dev.dockerconfigwebhook.tls;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import jakarta.enterprise.context.ApplicationScoped;

/** Serves HTTPS from {@link ServingCertificate}'s reloading key manager instead of a fixed key store. */
@ApplicationScoped
public class ServingCertificateCustomizer implements HttpServerOptionsCustomizer {

    private final ServingCertificate certificate;

    public ServingCertificateCustomizer(ServingCertificate certificate) {
        this.certificate = certificate;
    }

    @Override
    public void customizeHttpsServer(HttpServerOptions options) {
        options.setKeyCertOptions(KeyCertOptions.wrap(certificate.keyManager()));
    }
}
