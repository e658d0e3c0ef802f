package dev.dockerconfigwebhook.cluster;

import com.marcnuri.helm.Helm;
import dev.dockerconfigwebhook.packaged.PackagedWebhook;
import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Helm chart's objects on a real API server, with the packaged jar standing in for the pods: rendered by helm-java
 * for release "helm-it" in namespace "helm-it-ns" and applied as far as 1.20 supports them (no PDB, no preStop sleep,
 * matchConditions dropped by the server). The configuration's service reference becomes a URL to the jar, which
 * runs with the Deployment's own WEBHOOK_CA_BUNDLE_CONFIGURATION under the chart's RBAC names; its caBundle keeper
 * fills caBundle, and a pull secret written through the API server comes back fixed.
 */
@RequiresRealApiServer
class HelmChartOnRealApiServerIT {

    private static final String NAMESPACE = "helm-it-ns";
    private static final String SECRETS = "helm-it-secrets";
    private static final Path DEV_CERT = Path.of("target/certificates/dev.crt").toAbsolutePath();
    private static final Path LOG = Path.of("target/it-logs/helm-chart.log");
    private static final KubernetesSerialization YAML = new KubernetesSerialization();

    private static RealApiServer api;
    private static Process webhook;
    private static String configuration;

    @AfterAll
    static void cleanUp() {
        if (configuration != null) api.kubectl("delete", "mutatingwebhookconfiguration", configuration, "--ignore-not-found");
        if (webhook != null) webhook.destroy();
    }

    @Test
    void theChartsObjectsFixAPullSecretWrite() throws Exception {
        api = RealApiServer.shared();
        String rendered = new Helm(Path.of("deploy/helm/dockerconfig-webhook")).template().withName("helm-it")
                .withNamespace(NAMESPACE).set("podDisruptionBudget.enabled", false).call();
        int port = PackagedWebhook.freePort();
        List<HasMetadata> objects = new ArrayList<>();
        String keeperConfiguration = null;
        for (String document : rendered.split("(?m)^---\\s*$")) {
            if (document.lines().noneMatch(l -> l.startsWith("kind:"))) continue;
            HasMetadata object = YAML.unmarshal(document, HasMetadata.class);
            if (object instanceof Deployment deployment) {
                var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
                container.setLifecycle(null); // 1.20 has no preStop sleep; no pod runs here anyway
                keeperConfiguration = container.getEnv().stream()
                        .filter(e -> e.getName().equals("WEBHOOK_CA_BUNDLE_CONFIGURATION")).findFirst().orElseThrow().getValue();
            }
            if (object instanceof MutatingWebhookConfiguration config) {
                configuration = config.getMetadata().getName();
                var clientConfig = config.getWebhooks().get(0).getClientConfig();
                clientConfig.setService(null);
                clientConfig.setUrl("https://localhost:" + port + "/mutate"); // the jar instead of the Service's pods
                config.getWebhooks().get(0).setMatchConditions(null); // 1.20 would drop them anyway
            }
            objects.add(object);
        }
        assertEquals(configuration, keeperConfiguration, "the Deployment keeps this release's configuration");

        assertEquals(0, api.kubectl("create", "namespace", NAMESPACE).exit());
        assertEquals(0, api.kubectl("create", "namespace", SECRETS).exit());
        StringBuilder manifests = new StringBuilder();
        objects.forEach(o -> manifests.append("---\n").append(YAML.asYaml(o)));
        RealApiServer.Run apply = api.kubectlWithInput(manifests.toString(), "apply", "--validate=false", "-f", "-");
        assertEquals(0, apply.exit(), apply.output());
        RealApiServer.Run canUpdate = api.kubectl("auth", "can-i", "update",
                "mutatingwebhookconfigurations.admissionregistration.k8s.io/" + configuration,
                "--as=system:serviceaccount:" + NAMESPACE + ":" + configuration);
        assertEquals("yes", canUpdate.output().strip().lines().reduce((a, b) -> b).orElse(""),
                "the chart's RBAC lets its pods keep their caBundle: " + canUpdate.output());

        webhook = PackagedWebhook.startAsDeployed(LOG, port, Map.of(
                "QUARKUS_HTTP_SSL_PORT", String.valueOf(port), "QUARKUS_MANAGEMENT_PORT", String.valueOf(PackagedWebhook.freePort()),
                "KUBECONFIG", api.kubeconfig().toString(), "WEBHOOK_TLS_CA", DEV_CERT.toString(),
                "WEBHOOK_CA_BUNDLE_CONFIGURATION", keeperConfiguration, "WEBHOOK_CA_BUNDLE_CHECK_PERIOD", "1s"));

        try (KubernetesClient client = api.client()) {
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(configuration).get()
                    .getWebhooks().get(0).getClientConfig().getCaBundle() == null) {
                if (System.nanoTime() > end) throw new AssertionError("caBundle not filled within 30 s; see " + LOG);
                Thread.sleep(200);
            }
            String stale = Base64.getEncoder().encodeToString("alice:old".getBytes(StandardCharsets.UTF_8));
            String document = "{\"auths\":{\"r.example\":{\"username\":\"alice\",\"password\":\"new\",\"auth\":\"" + stale + "\"}}}";
            Secret stored = client.secrets().inNamespace(SECRETS).resource(new SecretBuilder().withNewMetadata()
                    .withName("through-the-chart").endMetadata().withType("kubernetes.io/dockerconfigjson")
                    .withData(Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(document.getBytes(StandardCharsets.UTF_8))))
                    .build()).create();
            String fixed = new String(Base64.getDecoder().decode(stored.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
            assertTrue(fixed.contains(Base64.getEncoder().encodeToString("alice:new".getBytes(StandardCharsets.UTF_8))), fixed);
        }
    }
}
