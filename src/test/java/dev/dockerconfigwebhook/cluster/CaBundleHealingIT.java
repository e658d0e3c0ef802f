package dev.dockerconfigwebhook.cluster;

import dev.dockerconfigwebhook.packaged.PackagedWebhook;
import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged jar, started as deployed with a mounted certificate, keeps its webhook configuration's caBundle on a real
 * API server: after the configuration is created without one, deleted and re-applied, or holds another CA, caBundle is
 * exactly the mounted ca.crt again within a few check periods, and a pull secret written through it comes back fixed.
 * The pod is ready only while the live caBundle trusts it.
 */
@RequiresRealApiServer
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CaBundleHealingIT {

    private static final String CONFIG = "heal-it-hook";
    private static final String NAMESPACE = "heal-it";
    private static final Path DEV_CERT = Path.of("target/certificates/dev.crt").toAbsolutePath();

    private static RealApiServer api;
    private static KubernetesClient client;
    private static Process webhook;
    private static int port;
    private static int management;
    private static final Path LOG = Path.of("target/it-logs/ca-bundle-healing.log");

    @BeforeAll
    static void start() throws Exception {
        api = RealApiServer.shared();
        client = api.client();
        port = PackagedWebhook.freePort();
        management = PackagedWebhook.freePort();
        webhook = PackagedWebhook.launchAsDeployed(LOG, Map.of(
                "QUARKUS_HTTP_SSL_PORT", String.valueOf(port), "QUARKUS_MANAGEMENT_PORT", String.valueOf(management),
                "KUBECONFIG", api.kubeconfig().toString(), "WEBHOOK_TLS_CERT", DEV_CERT.toString(),
                "WEBHOOK_TLS_KEY", Path.of("target/certificates/dev.key").toAbsolutePath().toString(),
                "WEBHOOK_TLS_CA", DEV_CERT.toString(), // the dev certificate is self-signed: it is its own CA
                "WEBHOOK_CA_BUNDLE_CONFIGURATION", CONFIG, "WEBHOOK_CERTIFICATES_CHECK_PERIOD", "1s"));
        api.namespace(NAMESPACE);
    }

    @AfterAll
    static void stop() {
        api.kubectl("delete", "mutatingwebhookconfiguration", CONFIG, "--ignore-not-found");
        if (webhook != null) webhook.destroy();
        client.close();
    }

    @Test
    @Order(1)
    void notReadyWithoutTheConfigurationThenItHealsAndWritesAreFixedThroughIt() throws Exception {
        String readiness = PackagedWebhook.awaitReadiness(management, "not found", LOG);
        assertTrue(readiness.contains("DOWN"), readiness);
        assertTrue(readiness.contains("MutatingWebhookConfiguration " + CONFIG + " not found"), readiness);
        applyConfiguration(null);
        awaitHealed();
        PackagedWebhook.awaitReady(webhook, management, LOG);
        assertEquals(certificates(Files.readString(DEV_CERT)), certificates(caBundle()), "exactly the mounted ca.crt");
        assertPullSecretFixed("first");

        // Troubleshooting's "delete the configuration and re-apply deploy/": no script needs to run afterwards.
        assertEquals(0, api.kubectl("delete", "mutatingwebhookconfiguration", CONFIG).exit());
        applyConfiguration(null);
        awaitHealed();
        assertPullSecretFixed("after-reapply");

        String log = Files.readString(LOG);
        assertTrue(log.contains("caBundle of MutatingWebhookConfiguration " + CONFIG + " set to the 1 CA(s) of ca.crt"), log);
        assertFalse(log.contains("Exception"), "no stack trace: " + log);
    }

    @Test
    @Order(2)
    void anotherCaInTheBundleIsRemoved() throws Exception {
        Path other = Files.createTempDirectory("other-ca");
        Process p = new ProcessBuilder("bash", "certs/generate.sh", "--out", other.toString()).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        String otherCa = Files.readString(other.resolve("ca.crt"));
        applyConfiguration(otherCa + Files.readString(DEV_CERT));
        awaitHealed();
        assertEquals(certificates(Files.readString(DEV_CERT)), certificates(caBundle()),
                "caBundle holds exactly the CAs of the mounted ca.crt: a CA nobody uses is no longer trusted");
        assertPullSecretFixed("other-removed");
    }

    private static void applyConfiguration(String caBundle) {
        api.kubectl("delete", "mutatingwebhookconfiguration", CONFIG, "--ignore-not-found");
        String bundle = caBundle == null ? ""
                : "      caBundle: " + Base64.getEncoder().encodeToString(caBundle.getBytes(StandardCharsets.US_ASCII)) + "\n";
        RealApiServer.Run created = api.createWebhookConfiguration(CONFIG, """
                    failurePolicy: Fail
                    timeoutSeconds: 5
                    namespaceSelector:
                      matchLabels: {kubernetes.io/metadata.name: %s}
                    rules:
                      - apiGroups: [""]
                        apiVersions: ["v1"]
                        resources: ["secrets"]
                        operations: ["CREATE", "UPDATE"]
                    clientConfig:
                      url: https://localhost:%d/mutate
                %s""".formatted(NAMESPACE, port, bundle));
        assertEquals(0, created.exit(), created.output());
    }

    private static String caBundle() {
        var config = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(CONFIG).get();
        String bundle = config == null ? null : config.getWebhooks().get(0).getClientConfig().getCaBundle();
        return bundle == null ? "" : new String(Base64.getDecoder().decode(bundle), StandardCharsets.US_ASCII);
    }

    private static void awaitHealed() throws Exception {
        var devCa = certificates(Files.readString(DEV_CERT)).get(0);
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!certificates(caBundle()).equals(java.util.List.of(devCa))) {
            if (System.nanoTime() > end) throw new AssertionError("caBundle not healed within 30 s; see " + LOG);
            if (!webhook.isAlive()) throw new AssertionError("the webhook exited; see " + LOG);
            Thread.sleep(200);
        }
    }

    /** The certificates of a PEM text, compared by content (line wrapping differs between encoders). */
    private static java.util.List<java.security.cert.Certificate> certificates(String pem) throws Exception {
        if (pem.isBlank()) return java.util.List.of();
        return java.util.List.copyOf(java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
    }

    /** Writes a secret whose auth is stale; the API server calls the webhook (failurePolicy Fail), so it must pass. */
    private static void assertPullSecretFixed(String name) {
        String stale = Base64.getEncoder().encodeToString("alice:old".getBytes(StandardCharsets.UTF_8));
        String document = "{\"auths\":{\"r.example\":{\"username\":\"alice\",\"password\":\"new\",\"auth\":\"" + stale + "\"}}}";
        Secret secret = new SecretBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withData(Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(document.getBytes(StandardCharsets.UTF_8))))
                .build();
        Secret stored = client.secrets().inNamespace(NAMESPACE).resource(secret).create();
        String fixed = new String(Base64.getDecoder().decode(stored.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
        String expected = Base64.getEncoder().encodeToString("alice:new".getBytes(StandardCharsets.UTF_8));
        assertTrue(fixed.contains("\"auth\":\"" + expected + "\""), fixed);
    }
}
