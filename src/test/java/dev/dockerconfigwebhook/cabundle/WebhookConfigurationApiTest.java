package dev.dockerconfigwebhook.cabundle;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The keeper's two calls as a pod makes them: a bearer token (the service account's) and the cluster's CA, here a
 * local HTTPS server standing in for the API server, configured through fabric8's system properties exactly as
 * in-cluster configuration would set them. (Client-certificate authentication from a kubeconfig is exercised against a
 * real API server by CaBundleHealingIT.)
 */
class WebhookConfigurationApiTest {

    private static final String PATH = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/";

    private Vertx vertx;
    private HttpServer server;
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final Map<String, Object> stored = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, String> previous = new java.util.HashMap<>();

    @BeforeEach
    void apiServer() throws Exception {
        vertx = Vertx.vertx();
        stored.put("hook", new JsonObject().put("metadata", new JsonObject().put("name", "hook").put("resourceVersion", "7"))
                .put("webhooks", new io.vertx.core.json.JsonArray().add(new JsonObject().put("name", "w").put("clientConfig", new JsonObject()))));
        server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
                .setCertPath("target/certificates/dev.crt").setKeyPath("target/certificates/dev.key")))
                .requestHandler(request -> request.body().onSuccess(body -> {
                    seen.add(request.method() + " " + request.path() + " " + request.getHeader("Authorization"));
                    String name = request.path().substring(PATH.length());
                    JsonObject current = (JsonObject) stored.get(name);
                    if (current == null) {
                        request.response().setStatusCode(404).end("{}");
                    } else if (request.method().name().equals("GET")) {
                        request.response().end(current.encode());
                    } else {
                        JsonObject sent = body.toJsonObject();
                        String version = sent.getJsonObject("metadata").getString("resourceVersion");
                        if (!version.equals(current.getJsonObject("metadata").getString("resourceVersion"))) {
                            request.response().setStatusCode(409).end("{}");
                            return;
                        }
                        sent.getJsonObject("metadata").put("resourceVersion", String.valueOf(Integer.parseInt(version) + 1));
                        stored.put(name, sent);
                        request.response().end(sent.encode());
                    }
                }));
        server.listen(0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        set("kubernetes.master", "https://localhost:" + server.actualPort());
        set("kubernetes.auth.token", "service-account-token");
        set("kubernetes.certs.ca.file", "target/certificates/dev.crt");
        set("kubernetes.auth.tryKubeConfig", "false");
        set("kubernetes.auth.tryServiceAccount", "false");
    }

    private void set(String key, String value) {
        previous.put(key, System.getProperty(key));
        System.setProperty(key, value);
    }

    @AfterEach
    void stop() {
        previous.forEach((key, value) -> {
            if (value == null) System.clearProperty(key);
            else System.setProperty(key, value);
        });
        vertx.close();
    }

    @Test
    void readsAndReplacesOneConfigurationWithTheBearerToken() throws Exception {
        WebhookConfigurationApi api = new WebhookConfigurationApi(vertx);
        JsonObject config = api.get("hook").orElseThrow();
        assertEquals("7", config.getJsonObject("metadata").getString("resourceVersion"));
        config.getJsonArray("webhooks").getJsonObject(0).getJsonObject("clientConfig").put("caBundle", "Q0E=");
        api.update(config);
        assertEquals("Q0E=", ((JsonObject) stored.get("hook")).getJsonArray("webhooks").getJsonObject(0)
                .getJsonObject("clientConfig").getString("caBundle"));
        assertEquals(List.of("GET " + PATH + "hook Bearer service-account-token", "PUT " + PATH + "hook Bearer service-account-token"), seen);
    }

    @Test
    void aMissingConfigurationIsEmptyAndAStaleUpdateIsAConflict() throws Exception {
        WebhookConfigurationApi api = new WebhookConfigurationApi(vertx);
        assertEquals(Optional.empty(), api.get("absent"));
        JsonObject config = api.get("hook").orElseThrow();
        api.update(config.copy());
        WebhookConfigurationApi.ApiException conflict = assertThrows(WebhookConfigurationApi.ApiException.class,
                () -> api.update(config)); // still resourceVersion 7: someone else's update came first
        assertEquals(409, conflict.status);
    }

    @Test
    void anUnreachableServerIsStatusZeroNamingWhy() {
        System.setProperty("kubernetes.master", "https://localhost:1");
        WebhookConfigurationApi.ApiException e = assertThrows(WebhookConfigurationApi.ApiException.class,
                () -> new WebhookConfigurationApi(vertx).get("hook"));
        assertEquals(0, e.status);
        assertEquals("ConnectException", e.getMessage());
    }
}
