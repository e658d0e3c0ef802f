package dev.dockerconfigwebhook.cluster;

import com.marcnuri.helm.Helm;
import dev.dockerconfigwebhook.packaged.PackagedWebhook;
import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.CronJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two Helm releases side by side on a real API server, each with the packaged jar standing in for its pods (started
 * with the rendered Deployment's JAVA_OPTS and WEBHOOK_* values): release A has a 30-character name, audit.mode=fix,
 * an excluded namespace; release B has the defaults. Each makes its own certificate, fills its own caBundle and fixes
 * writes; the audit, run with the rendered CronJob's arguments, skips what A's webhook skips; the documented uninstall of
 * A leaves nothing of A (its CA Secret included) and B working.
 *
 * <p>Rendered by helm-java for Kubernetes 1.30 and applied as far as 1.20 supports it: no PDB (policy/v1), no
 * ValidatingAdmissionPolicy (1.30; its CEL is evaluated in CelExpressionsTest instead), the CronJob
 * as batch/v1beta1 (same fields, same 52-character name limit), no preStop sleep, matchConditions dropped (1.20 would
 * drop them itself). Namespaces get the kubernetes.io/metadata.name label 1.21+ sets. The API server calls each jar by
 * URL, https://localhost:PORT, and the Deployment's certificate service name is set to "localhost" so that the
 * certificate's bare-name SAN matches it; `helm uninstall` is done as Helm does it, by deleting the rendered objects.
 */
@RequiresRealApiServer
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HelmChartOnRealApiServerIT {

    private static final KubernetesSerialization YAML = new KubernetesSerialization();
    private static final String TEAM = "helm-team";
    private static final String LEGACY = "helm-legacy";

    /** One release: what was rendered and applied, and the jar playing its pods. */
    private record Release(String name, String namespace, List<HasMetadata> objects, String manifest, Process pods,
            MutatingWebhookConfiguration configuration, CronJob audit) {
    }

    private static RealApiServer api;
    private static KubernetesClient client;
    private static Release a;
    private static Release b;

    @AfterAll
    static void cleanUp() {
        for (Release r : new Release[] {a, b}) { // the other classes share this API server: leave nothing behind
            if (r == null) continue;
            r.pods().destroy();
            api.kubectlWithInput(r.manifest(), "delete", "--ignore-not-found", "--wait=false", "-f", "-");
            api.kubectl("-n", r.namespace(), "delete", "secret", "-l", "dockerconfig-webhook/release=" + r.name());
        }
        if (client != null) client.close();
    }

    @Test
    @Order(1)
    void twoReleasesSideBySideEachMakeTheirCertificateAndFixWrites() throws Exception {
        api = RealApiServer.shared();
        client = api.client();
        for (String namespace : List.of("helm-a", "helm-b", TEAM, LEGACY)) api.namespace(namespace);
        // Broken before any webhook exists: in an excluded namespace, opted out, and a plain one for the audit to fix.
        client.secrets().inNamespace(LEGACY).resource(pullSecret("legacy", Map.of())).create();
        client.secrets().inNamespace(TEAM).resource(pullSecret("opted-out", Map.of("dockerconfig-webhook/skip", "true"))).create();
        client.secrets().inNamespace(TEAM).resource(pullSecret("broken-before", Map.of())).create();

        a = install("platform-security-production-x", "helm-a", Map.of("audit.mode", "fix",
                "webhook.excludedNamespaces[0]", LEGACY, "podDisruptionBudget.enabled", false,
                "serviceAccountPolicy.enabled", false));
        b = install("helm-b", "helm-b", Map.of("podDisruptionBudget.enabled", false, "serviceAccountPolicy.enabled", false));
        assertEquals(30, a.name().length());
        assertTrue(a.audit().getMetadata().getName().length() <= 52, a.audit().getMetadata().getName());

        for (Release r : List.of(a, b)) {
            awaitCaBundle(r);
            Secret ca = client.secrets().inNamespace(r.namespace()).withName(fullname(r) + "-ca").get();
            assertNotNull(ca, r.name() + " made its CA");
            assertEquals(r.name(), ca.getMetadata().getLabels().get("dockerconfig-webhook/release"));
        }
        assertTrue(!a.configuration().getWebhooks().get(0).getName().equals(b.configuration().getWebhooks().get(0).getName()),
                "each release's webhook has its own name");
        assertFixedOnWrite("after-install");
    }

    @Test
    @Order(2)
    void theAuditSkipsTheExcludedNamespaceAndTheOptedOutSecretAndFixesTheRest() throws Exception {
        var container = a.audit().getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().get(0);
        List<String> command = new ArrayList<>(List.of("java", "-jar", "target/quarkus-app/quarkus-run.jar"));
        command.addAll(container.getArgs());
        RealApiServer.Run audit = api.run(Path.of("."), Map.of(), command.toArray(String[]::new));
        assertTrue(audit.output().contains("broken-before"), audit.output());
        assertEquals(authOf("old"), storedAuth(TEAM, "opted-out"), "the opted-out secret is left alone");
        assertEquals(authOf("old"), storedAuth(LEGACY, "legacy"), "the excluded namespace is left alone");
        assertEquals(authOf("new"), storedAuth(TEAM, "broken-before"), "the audit fixed the rest: " + audit.output());
    }

    @Test
    @Order(3)
    void theReadmesUninstallOfOneReleaseLeavesNothingOfItAndTheOtherWorking() throws Exception {
        a.pods().destroy();
        // helm uninstall: the release's rendered objects are deleted.
        RealApiServer.Run helmUninstall = api.kubectlWithInput(a.manifest(), "delete", "--ignore-not-found", "-f", "-");
        assertEquals(0, helmUninstall.exit(), helmUninstall.output());
        // The second step of docs/operations.md's Helm uninstall, for the Secrets the pods made.
        RealApiServer.Run secrets = api.kubectl("-n", a.namespace(), "delete", "secret", "-l",
                "dockerconfig-webhook/release=" + a.name());
        assertEquals(0, secrets.exit(), secrets.output());

        RealApiServer.Run left = api.kubectl("get", "mutatingwebhookconfigurations,clusterroles,clusterrolebindings",
                "-l", "app.kubernetes.io/instance=" + a.name(), "-o", "name");
        assertEquals("", left.output().replace("No resources found", "").strip(), "cluster-scoped objects of A left");
        RealApiServer.Run namespaced = api.kubectl("-n", a.namespace(), "get",
                "secrets,deployments,services,serviceaccounts,roles,rolebindings,networkpolicies,cronjobs", "-o", "name");
        assertEquals("", namespaced.output().replace("No resources found in " + a.namespace() + " namespace.", "").strip(),
                "objects of A left in its namespace (the CA Secret included)");

        for (HasMetadata object : b.objects()) {
            assertNotNull(client.resource(object).get(), "B's " + object.getKind() + " " + object.getMetadata().getName());
        }
        assertNotNull(client.secrets().inNamespace(b.namespace()).withName(fullname(b) + "-ca").get(), "B's CA is kept");
        assertFixedOnWrite("after-uninstall");
        assertNull(client.admissionRegistration().v1().mutatingWebhookConfigurations()
                .withName(a.configuration().getMetadata().getName()).get());
    }

    private static Release install(String name, String namespace, Map<String, Object> values) throws Exception {
        var template = new Helm(Path.of("deploy/helm/dockerconfig-webhook")).template().withName(name)
                .withNamespace(namespace).withKubeVersion("1.30.0").set("image.repository", "registry.example/dcw");
        values.forEach(template::set);
        String rendered = template.call();
        int port = PackagedWebhook.freePort();
        int management = PackagedWebhook.freePort();
        List<HasMetadata> objects = new ArrayList<>();
        Map<String, String> env = new HashMap<>();
        String javaOpts = null;
        MutatingWebhookConfiguration configuration = null;
        CronJob audit = null;
        StringBuilder manifest = new StringBuilder();
        for (String document : rendered.split("(?m)^---\\s*$")) {
            if (document.lines().noneMatch(l -> l.startsWith("kind:"))) continue;
            HasMetadata object = YAML.unmarshal(document, HasMetadata.class);
            if (object instanceof Deployment deployment) {
                var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
                container.setLifecycle(null); // 1.20 has no preStop sleep; no pod runs here anyway
                for (EnvVar e : container.getEnv()) {
                    if (e.getName().equals("JAVA_OPTS")) javaOpts = e.getValue();
                    else if (e.getName().startsWith("WEBHOOK_") && e.getValue() != null) env.put(e.getName(), e.getValue());
                }
            }
            if (object instanceof MutatingWebhookConfiguration config) {
                configuration = config;
                var clientConfig = config.getWebhooks().get(0).getClientConfig();
                clientConfig.setService(null);
                clientConfig.setUrl("https://localhost:" + port + "/mutate"); // the jar instead of the Service's pods
                config.getWebhooks().get(0).setMatchConditions(null); // 1.20 would drop them anyway
            }
            if (object instanceof CronJob cron) audit = cron;
            objects.add(object);
            String yaml = YAML.asYaml(object);
            if (object instanceof CronJob) yaml = yaml.replace("apiVersion: \"batch/v1\"", "apiVersion: \"batch/v1beta1\"")
                    .replace("apiVersion: batch/v1\n", "apiVersion: batch/v1beta1\n");
            manifest.append("---\n").append(yaml);
        }
        RealApiServer.Run apply = api.kubectlWithInput(manifest.toString(), "apply", "--validate=false", "-f", "-");
        assertEquals(0, apply.exit(), apply.output());

        // The Deployment's own settings, as its pods get them; the namespace from the downward API, a kubeconfig for
        // the service account, and the certificate's name matching the URL above.
        env.putAll(Map.of("WEBHOOK_CERTIFICATES_NAMESPACE", namespace, "WEBHOOK_CERTIFICATES_SERVICE", "localhost",
                "WEBHOOK_CERTIFICATES_CHECK_PERIOD", "1s",
                "KUBECONFIG", api.kubeconfig().toString(), "QUARKUS_HTTP_SSL_PORT", String.valueOf(port),
                "QUARKUS_MANAGEMENT_PORT", String.valueOf(management)));
        assertEquals(configuration.getMetadata().getName(), env.get("WEBHOOK_CA_BUNDLE_CONFIGURATION"));
        assertNotNull(javaOpts);
        Path log = Path.of("target/it-logs/helm-" + name + ".log");
        Process pods = PackagedWebhook.awaitReady(PackagedWebhook.launchAsDeployed(log, env), management, log);
        return new Release(name, namespace, objects, manifest.toString(), pods, configuration, audit);
    }

    private static String fullname(Release r) {
        return r.configuration().getMetadata().getName();
    }

    private static void awaitCaBundle(Release r) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(fullname(r)).get()
                .getWebhooks().get(0).getClientConfig().getCaBundle() == null) {
            if (System.nanoTime() > end) throw new AssertionError("caBundle of " + r.name() + " not filled within 30 s");
            Thread.sleep(200);
        }
    }

    /** A pull secret written with a stale auth, through every release's webhook, comes back fixed. */
    private static void assertFixedOnWrite(String name) {
        Secret stored = client.secrets().inNamespace(TEAM).resource(pullSecret(name, Map.of())).create();
        String document = new String(Base64.getDecoder().decode(stored.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
        assertTrue(document.contains(authOf("new")), document);
    }

    /** User alice changed her password from old to new, and nothing else: the auth is stale. */
    private static Secret pullSecret(String name, Map<String, String> labels) {
        String document = "{\"auths\":{\"r.example\":{\"username\":\"alice\",\"password\":\"new\",\"auth\":\"" + authOf("old") + "\"}}}";
        return new SecretBuilder().withNewMetadata().withName(name).withLabels(labels).endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withData(Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(document.getBytes(StandardCharsets.UTF_8))))
                .build();
    }

    private static String authOf(String password) {
        return Base64.getEncoder().encodeToString(("alice:" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String storedAuth(String namespace, String name) {
        String document = new String(Base64.getDecoder().decode(client.secrets().inNamespace(namespace).withName(name).get()
                .getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
        int at = document.indexOf("\"auth\":\"") + 8;
        return document.substring(at, document.indexOf('"', at));
    }
}
