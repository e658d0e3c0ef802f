package dev.dockerconfigwebhook.tls;

import io.quarkus.vertx.http.HttpServerOptionsCustomizer;
import io.vertx.core.http.HttpServerOptions;
import jakarta.enterprise.context.ApplicationScoped;

/**
 * Quarkus's HTTPS server serves the certificate of {@link ServingCertificate}: its reloading key manager, asked for the
 * current pair on every handshake. Quarkus starts the HTTPS server when a customizer gives it key material, so no
 * {@code quarkus.http.ssl.*} file is configured: a missing or bad file then keeps the pod up and not ready instead of
 * failing the start, and a rotation never rebuilds the server's SSL context (no handshake can fail during one).
 */
@ApplicationScoped
public class ServingCertificateOnHttps implements HttpServerOptionsCustomizer {

    private final ServingCertificate certificate;

    public ServingCertificateOnHttps(ServingCertificate certificate) {
        this.certificate = certificate;
    }

    @Override
    public void customizeHttpsServer(HttpServerOptions options) {
        options.setKeyCertOptions(certificate.keyCertOptions());
    }
}
