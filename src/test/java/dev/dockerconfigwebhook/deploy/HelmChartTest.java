package dev.dockerconfigwebhook.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.dockerconfigwebhook.deploy.DeployManifestsTest.NS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Helm chart, rendered and linted by a real Helm engine (helm-java, in-process): it agrees with deploy/ object by
 * object, its objects pass the very assertions DeployManifestsTest makes of deploy/, every mode lints clean with
 * --strict, and its schema refuses wrong values with a message naming them.
 */
class HelmChartTest {

    static final Path CHART = Path.of("deploy/helm/dockerconfig-webhook");

    private static Manifests template(Map<String, Object> values) {
        return template("dockerconfig-webhook", NS, values);
    }

    private static Manifests template(String release, String namespace, Map<String, Object> values) {
        TemplateCommand command = new Helm(CHART).template().withName(release).withNamespace(namespace);
        values.forEach(command::set);
        return Manifests.of(command.call());
    }

    @Test
    void withDefaultValuesTheChartRendersWhatDeployRenders() throws Exception {
        assertAgree(Manifests.render("deploy"), template(Map.of()), "deploy/");
    }

    @Test
    void certManagerModeRendersWhatTheCertManagerOverlayRenders() throws Exception {
        assertAgree(Manifests.render("deploy/overlays/cert-manager"), template(Map.of("certificates.source", "cert-manager")),
                "deploy/overlays/cert-manager");
    }

    @Test
    void auditModesRenderWhatTheAuditKustomizationsRender() throws Exception {
        assertAgree(Manifests.render("deploy/audit"), template(Map.of("audit.mode", "report")).withComponent("audit"), "deploy/audit");
        assertAgree(Manifests.render("deploy/audit/fix"), template(Map.of("audit.mode", "fix")).withComponent("audit"), "deploy/audit/fix");
    }

    @Test
    void failurePolicyIgnoreIsTheFailOpenOverlay() throws Exception {
        assertAgree(Manifests.render("deploy/overlays/fail-open"), template(Map.of("webhook.failurePolicy", "Ignore")),
                "deploy/overlays/fail-open");
    }

    @Test
    void withoutTheKeeperItIsTheStaticCaBundleComponent() throws Exception {
        Manifests m = template(Map.of("caBundleKeeper.enabled", false));
        assertFalse(m.all().stream().anyMatch(o -> o.getKind().contains("Role")));
        assertEquals(Boolean.FALSE, m.one(Deployment.class).getSpec().getTemplate().getSpec().getAutomountServiceAccountToken());
        assertTrue(m.one(NetworkPolicy.class).getSpec().getEgress().isEmpty());
        assertTrue(m.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
                .anyMatch(e -> e.getName().equals("WEBHOOK_CA_BUNDLE_KEEP") && e.getValue().equals("false")));
    }

    /**
     * Same objects, same fields: Helm's own labels (instance, version, managed-by, chart) are the only difference
     * allowed, and the Namespace, which `helm install --create-namespace` makes instead of the chart.
     */
    private static void assertAgree(Manifests kustomize, Manifests helm, String what) {
        Map<String, JsonNode> expected = new LinkedHashMap<>(kustomize.byKindAndName());
        expected.keySet().removeIf(key -> key.startsWith("Namespace/"));
        Map<String, JsonNode> actual = helm.withoutHelmLabels().byKindAndName();
        assertEquals(expected.keySet(), actual.keySet(), what + ": the same objects");
        for (String key : expected.keySet()) {
            String difference = firstDifference("", expected.get(key), actual.get(key));
            assertEquals(null, difference, what + ": " + key + " differs at");
        }
    }

    /** The JSON pointer of the first place two trees differ, with both values; null when equal. */
    private static String firstDifference(String path, JsonNode a, JsonNode b) {
        if (a == null || b == null || a.getNodeType() != b.getNodeType()) {
            return path + ": " + a + " vs " + b;
        }
        if (a.isObject()) {
            Set<String> names = new java.util.TreeSet<>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                String d = firstDifference(path + "/" + name, a.get(name), b.get(name));
                if (d != null) return d;
            }
            return null;
        }
        if (a.isArray()) {
            for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
                String d = firstDifference(path + "/" + i, a.get(i), b.get(i));
                if (d != null) return d;
            }
            return null;
        }
        return a.equals(b) ? null : path + ": " + a + " vs " + b;
    }

    @Test
    void renderedObjectsHaveEveryPropertyDeployManifestsTestAssertsOfDeploy() throws Exception {
        Manifests m = template(Map.of()).withoutHelmLabels();
        DeployManifestsTest.assertWebhookObjectsWithConsistentLabels(m);
        DeployManifestsTest.assertWebhookConfigurationIsNarrowAndSafe(m);
        DeployManifestsTest.assertDeploymentIsHighlyAvailableAndHardened(m);
        DeployManifestsTest.assertDisruptionBudgetNetworkPolicyAndLeastRbac(m);
        DeployManifestsTest.assertCertManagerIssuesTheMountedSecretAndInjectsItsCa(
                template(Map.of("certificates.source", "cert-manager")).withoutHelmLabels(), m);
        for (String mode : List.of("report", "fix")) {
            DeployManifestsTest.assertAuditHasItsOwnLeastPrivilegeAccount(
                    template(Map.of("audit.mode", mode)).withoutHelmLabels().withComponent("audit"), mode.equals("fix"), mode);
        }
    }

    @Test
    void everyObjectCarriesTheStandardLabelsAndTheReleasesNames() {
        Manifests m = template("pull-fixer", "infra-pull", Map.of("audit.mode", "report", "certificates.source", "cert-manager",
                "serviceMonitor.enabled", true));
        for (HasMetadata o : m.all()) {
            Map<String, String> labels = o.getMetadata().getLabels();
            assertEquals("dockerconfig-webhook", labels.get("app.kubernetes.io/name"), o.getKind());
            assertEquals("pull-fixer", labels.get("app.kubernetes.io/instance"), o.getKind());
            assertEquals("0.1.0", labels.get("app.kubernetes.io/version"), o.getKind());
            assertEquals("Helm", labels.get("app.kubernetes.io/managed-by"), o.getKind());
            assertEquals("dockerconfig-webhook-0.1.0", labels.get("helm.sh/chart"), o.getKind());
            assertTrue(o.getMetadata().getName().startsWith("pull-fixer-dockerconfig-webhook"), o.getMetadata().getName());
            String namespace = o.getMetadata().getNamespace();
            assertTrue(namespace == null || namespace.equals("infra-pull"), o.getKind());
        }
        String yaml = m.all().stream().map(Object::toString).collect(Collectors.joining());
        assertFalse(yaml.contains("namespace=dockerconfig-webhook"), "no reference keeps the default namespace");
        MutatingWebhookConfiguration config = m.one(MutatingWebhookConfiguration.class);
        assertEquals(Set.of("kube-system", "infra-pull"),
                Set.copyOf(config.getWebhooks().get(0).getNamespaceSelector().getMatchExpressions().get(0).getValues()),
                "the webhook's own namespace is excluded by its real name");
        assertEquals("infra-pull/pull-fixer-dockerconfig-webhook-tls",
                config.getMetadata().getAnnotations().get("cert-manager.io/inject-ca-from"));
        var env = m.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
        assertTrue(env.stream().anyMatch(e -> e.getName().equals("WEBHOOK_CA_BUNDLE_CONFIGURATION")
                && e.getValue().equals(config.getMetadata().getName())), "the keeper keeps this release's configuration");
        var keeper = (io.fabric8.kubernetes.api.model.rbac.ClusterRole) m.named("ClusterRole", "pull-fixer-dockerconfig-webhook-ca-bundle");
        assertEquals(List.of(config.getMetadata().getName()), keeper.getRules().get(0).getResourceNames());
        m.named("ServiceMonitor", "pull-fixer-dockerconfig-webhook");
    }

    @Test
    void schedulingAndNetworkValuesReachThePods() {
        Manifests m = template(Map.of("networkPolicy.controlPlaneCIDR", "10.0.0.0/24", "nodeSelector.pool", "system",
                "priorityClassName", "system-cluster-critical", "strict", true, "replicaCount", 3,
                "webhook.excludedNamespaces[0]", "legacy"));
        var pod = m.one(Deployment.class).getSpec().getTemplate().getSpec();
        assertEquals(Map.of("pool", "system"), pod.getNodeSelector());
        assertEquals("system-cluster-critical", pod.getPriorityClassName());
        assertEquals(3, m.one(Deployment.class).getSpec().getReplicas());
        assertTrue(pod.getContainers().get(0).getEnv().stream()
                .anyMatch(e -> e.getName().equals("WEBHOOK_STRICT") && e.getValue().equals("true")));
        var ingress = m.one(NetworkPolicy.class).getSpec().getIngress();
        assertEquals("10.0.0.0/24", ingress.get(0).getFrom().get(0).getIpBlock().getCidr());
        assertEquals("https", ingress.get(0).getPorts().get(0).getPort().getStrVal(), "only the admission port is limited");
        assertEquals("management", ingress.get(1).getPorts().get(0).getPort().getStrVal());
        assertTrue(ingress.get(1).getFrom() == null || ingress.get(1).getFrom().isEmpty(), "probes and scrapes from anywhere");
        assertEquals(List.of("kube-system", NS, "legacy"), m.one(MutatingWebhookConfiguration.class).getWebhooks().get(0)
                .getNamespaceSelector().getMatchExpressions().get(0).getValues());
    }

    @Test
    void imageDefaultsToTheAppVersionAndADigestPinsIt() {
        String image = template(Map.of()).one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
        assertEquals("dockerconfig-webhook:0.1.0", image);
        String digest = "sha256:" + "a".repeat(64);
        String pinned = template(Map.of("image.repository", "registry.example/dcw", "image.digest", digest))
                .one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
        assertEquals("registry.example/dcw@" + digest, pinned);
    }

    @ParameterizedTest(name = "lint --strict, certificates.source={0}")
    @ValueSource(strings = {"script", "cert-manager"})
    void lintsCleanInEveryCertificateMode(String source, @TempDir Path tmp) throws Exception {
        // helm-java's lint takes no --set, so each mode is linted as a copy of the chart whose values.yaml selects it.
        Path chart = tmp.resolve("dockerconfig-webhook");
        try (var files = Files.walk(CHART)) {
            for (Path file : files.toList()) {
                Path target = chart.resolve(CHART.relativize(file).toString());
                if (Files.isDirectory(file)) Files.createDirectories(target);
                else Files.copy(file, target);
            }
        }
        Path values = chart.resolve("values.yaml");
        String text = Files.readString(values);
        assertTrue(text.contains("\n  source: script\n"));
        Files.writeString(values, text.replace("\n  source: script\n", "\n  source: " + source + "\n"));
        LintResult lint = new Helm(chart).lint().strict().call();
        assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
        assertEquals(source.equals("cert-manager"), Manifests.of(new Helm(chart).template().withName("dockerconfig-webhook")
                .withNamespace(NS).call()).all().stream().anyMatch(o -> o.getKind().equals("Certificate")), "the mode took effect");
    }

    static Stream<Arguments> wrongValues() {
        return Stream.of(
                Arguments.of("replicaCount", "two", "replicaCount"),
                Arguments.of("webhook.failurePolicy", "Sometimes", "failurePolicy"),
                Arguments.of("certificates.source", "vault", "source"),
                Arguments.of("audit.mode", "daily", "mode"),
                Arguments.of("image.digest", "latest", "digest"),
                Arguments.of("replicas", 3, "replicas"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("wrongValues")
    void theSchemaRefusesWrongValuesNamingThem(String key, Object value, String named) {
        Exception e = assertThrows(Exception.class, () -> template(Map.of(key, value)));
        assertTrue(e.getMessage().contains("values don't meet the specifications of the schema"), e.getMessage());
        assertTrue(e.getMessage().contains(named), e.getMessage());
    }
}
