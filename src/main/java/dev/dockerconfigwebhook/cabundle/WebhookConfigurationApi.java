package dev.dockerconfigwebhook.cabundle;

import io.fabric8.kubernetes.client.Config;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;

import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;

/**
 * The two calls the caBundle keeper makes: GET and PUT of one MutatingWebhookConfiguration, as JSON, with the JDK's
 * HTTP client. Where to connect and how to authenticate come from fabric8's {@link Config#autoConfigure} (the pod's
 * service account in a cluster, KUBECONFIG outside), read afresh for each call so that a rotated token is used.
 *
 * <p>Why not the fabric8 client itself: it cost the webhook 13-23 MiB of RSS (its DSL, model classes and serializers,
 * BENCHMARKS.md) for two requests every 10 s; this costs {@code Config}, the JDK client and Vert.x's JsonObject.
 */
final class WebhookConfigurationApi {

    /** An answer that is not a success: the HTTP status, or 0 when no answer came (with why). */
    static final class ApiException extends Exception {
        final int status;

        ApiException(int status, String why) {
            super(why, null, false, false);
            this.status = status;
        }
    }

    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final Vertx vertx;
    private HttpClient client;
    private String clientFor;

    WebhookConfigurationApi(Vertx vertx) {
        this.vertx = vertx;
    }

    /** The configuration named {@code name}, or empty when it does not exist. */
    Optional<JsonObject> get(String name) throws ApiException {
        Connection c = connection();
        HttpResponse<byte[]> response = send(c, HttpRequest.newBuilder(c.uri(name)).GET());
        if (response.statusCode() == 404) return Optional.empty();
        if (response.statusCode() != 200) throw new ApiException(response.statusCode(), "HTTP " + response.statusCode());
        return Optional.of(new JsonObject(Buffer.buffer(response.body())));
    }

    /** Replaces the configuration; its metadata.resourceVersion makes a concurrent change fail with 409. */
    void update(JsonObject configuration) throws ApiException {
        Connection c = connection();
        String name = configuration.getJsonObject("metadata").getString("name");
        HttpResponse<byte[]> response = send(c, HttpRequest.newBuilder(c.uri(name))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofByteArray(configuration.toBuffer().getBytes())));
        if (response.statusCode() != 200) throw new ApiException(response.statusCode(), "HTTP " + response.statusCode());
    }

    private HttpResponse<byte[]> send(Connection c, HttpRequest.Builder request) throws ApiException {
        if (c.token() != null) request.header("Authorization", "Bearer " + c.token());
        request.header("Accept", "application/json").timeout(TIMEOUT);
        try {
            return c.client().send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new ApiException(0, e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(0, "interrupted");
        }
    }

    private record Connection(String master, HttpClient client, String token) {
        URI uri(String name) {
            return URI.create(master.replaceAll("/+$", "")
                    + "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/" + name);
        }
    }

    /** The API server and credentials as kubectl would find them; the TLS client is rebuilt only when they change. */
    private synchronized Connection connection() throws ApiException {
        Config config;
        try {
            config = Config.autoConfigure(null);
        } catch (RuntimeException e) {
            throw new ApiException(0, "no API server configuration (" + e.getClass().getSimpleName() + ")");
        }
        try {
            byte[] ca = material(config.getCaCertData(), config.getCaCertFile());
            byte[] cert = material(config.getClientCertData(), config.getClientCertFile());
            byte[] key = material(config.getClientKeyData(), config.getClientKeyFile());
            String identity = config.getMasterUrl() + "|" + digest(ca) + "|" + digest(cert) + "|" + digest(key);
            if (client == null || !identity.equals(clientFor)) {
                client = HttpClient.newBuilder().sslContext(sslContext(ca, cert, key)).connectTimeout(TIMEOUT).build();
                clientFor = identity;
            }
            String token = config.getAutoOAuthToken() != null ? config.getAutoOAuthToken() : config.getOauthToken();
            return new Connection(config.getMasterUrl(), client, token);
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new ApiException(0, "unusable API server credentials (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** Base64 PEM data from a kubeconfig, or the file it names; null when neither is set. */
    private static byte[] material(String data, String file) throws IOException {
        if (data != null && !data.isEmpty()) return Base64.getDecoder().decode(data.trim());
        if (file != null && !file.isEmpty()) return Files.readAllBytes(Path.of(file));
        return null;
    }

    private static String digest(byte[] bytes) {
        return bytes == null ? "-" : Integer.toHexString(java.util.Arrays.hashCode(bytes));
    }

    private SSLContext sslContext(byte[] caPem, byte[] certPem, byte[] keyPem) throws GeneralSecurityException, IOException {
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        if (caPem == null) {
            trust.init((KeyStore) null); // the JDK's own roots (a managed API server with a public certificate)
        } else {
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate ca : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(caPem))) {
                store.setCertificateEntry("ca-" + i++, ca);
            }
            trust.init(store);
        }
        KeyManager[] keys = null;
        if (certPem != null && keyPem != null) {
            try {
                keys = new PemKeyCertOptions().setCertValue(Buffer.buffer(certPem)).setKeyValue(Buffer.buffer(keyPem))
                        .getKeyManagerFactory(vertx).getKeyManagers();
            } catch (Exception e) {
                throw new GeneralSecurityException("client certificate: " + e.getClass().getSimpleName());
            }
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust.getTrustManagers(), null);
        return context;
    }
}
