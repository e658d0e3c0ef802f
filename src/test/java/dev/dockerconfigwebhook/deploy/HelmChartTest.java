package dev.dockerconfigwebhook.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
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
 * The Helm chart, rendered and linted by a real Helm engine (helm-java, in-process): its objects pass the very
 * assertions DeployManifestsTest makes of deploy/ (which is rendered from it, GeneratedManifestsTest), every mode lints
 * clean with --strict, and its schema refuses wrong values with a message naming them.
 */
class HelmChartTest {

    static final Path CHART = Path.of("deploy/helm/dockerconfig-webhook");
    static final String REPOSITORY = "registry.example/team/dockerconfig-webhook";
    /** The oldest Kubernetes the chart's kubeVersion accepts: what Argo CD or `helm install` would pass for such a cluster. */
    static final String KUBE_VERSION = "1.30.0";

    private static Manifests template(Map<String, Object> values) {
        return template("dockerconfig-webhook", NS, values);
    }

    /** The chart rendered with {@code values}, and a repository unless they name one (the chart requires it). */
    private static Manifests template(String release, String namespace, Map<String, Object> values) {
        Map<String, Object> all = new LinkedHashMap<>(Map.of("image.repository", REPOSITORY));
        all.putAll(values);
        return Manifests.of(render(release, namespace, all));
    }

    /** {@code helm template RELEASE -n NAMESPACE --kube-version KUBE_VERSION --set K=V …} of the chart, by helm-java. */
    static String render(String release, String namespace, Map<String, ?> values) {
        TemplateCommand command = new Helm(CHART).template().withName(release).withNamespace(namespace)
                .withKubeVersion(KUBE_VERSION);
        values.forEach(command::set);
        return command.call();
    }

    @Test
    void aClusterOlderThanKubeVersionIsRefusedByName() {
        Exception e = assertThrows(Exception.class, () -> new Helm(CHART).template().withName("old")
                .withKubeVersion("1.29.9").call());
        assertTrue(e.getMessage().contains("chart requires kubeVersion: >=1.30.0-0"), e.getMessage());
    }

    @Test
    void withoutARepositoryTheInstallIsRefusedByNameBeforeAnythingIsRegistered() {
        // Otherwise the Fail webhook would be registered with pods that cannot pull, and only --wait would time out.
        Exception e = assertThrows(Exception.class, () -> new Helm(CHART).template().withName("forgot")
                .withKubeVersion(KUBE_VERSION).call());
        assertTrue(e.getMessage().contains("image.repository is required: set it to the repository you pushed the "
                + "image to"), e.getMessage());
    }

    @Test
    void theGrafanaDashboardIsAConfigMapForTheSidecarWhenEnabled() throws Exception {
        assertFalse(template(Map.of()).all().stream().anyMatch(o -> o.getKind().equals("ConfigMap")), "off by default");
        var dashboard = (io.fabric8.kubernetes.api.model.ConfigMap) template(Map.of("grafanaDashboard.enabled", true))
                .named("ConfigMap", "dockerconfig-webhook-dashboard");
        assertEquals("1", dashboard.getMetadata().getLabels().get("grafana_dashboard"), "the sidecar's label");
        assertEquals(NS, dashboard.getMetadata().getNamespace());
        assertEquals(Files.readString(CHART.resolve("dashboards/dockerconfig-webhook.json")).strip(),
                dashboard.getData().get("dockerconfig-webhook.json"), "the dashboard file as it is");
        var elsewhere = template(Map.of("grafanaDashboard.enabled", true, "grafanaDashboard.namespace", "monitoring"))
                .named("ConfigMap", "dockerconfig-webhook-dashboard");
        assertEquals("monitoring", elsewhere.getMetadata().getNamespace(), "where the sidecar watches");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "a release tag never moves,         '',                   '',             IfNotPresent",
            "a -SNAPSHOT tag moves with builds, 0.3.0-SNAPSHOT,       '',             Always",
            "a digest never moves,              0.3.0-SNAPSHOT,       sha256:" + "0000000000000000000000000000000000000000000000000000000000000000" + ", IfNotPresent",
            "an explicit policy wins,           0.3.0-SNAPSHOT,       '',             Never"})
    void theImagePullPolicyFollowsWhetherTheTagMoves(String name, String tag, String digest, String expected) {
        Map<String, Object> values = new java.util.HashMap<>(Map.of("image.tag", tag, "image.digest", digest,
                "audit.mode", "report"));
        if (expected.equals("Never")) values.put("image.pullPolicy", "Never");
        Manifests m = template(values);
        assertEquals(expected, m.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0)
                .getImagePullPolicy());
        assertEquals(expected, m.one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class).getSpec().getJobTemplate()
                .getSpec().getTemplate().getSpec().getContainers().get(0).getImagePullPolicy(), "the audit too");
    }

    @Test
    void selfManagedCertificatesWithoutTheKeeperAreRefused() {
        // What the chart renders without the keeper is deploy/overlays/*/static-ca-bundle (DeployManifestsTest).
        Exception self = assertThrows(Exception.class, () -> template(Map.of("caBundleKeeper.enabled", false)));
        assertTrue(self.getMessage().contains("certificates.source self needs caBundleKeeper.enabled"), self.getMessage());
    }

    @Test
    void renderedObjectsHaveEveryPropertyDeployManifestsTestAssertsOfDeploy() throws Exception {
        Manifests m = template(Map.of()).withoutHelmLabels();
        DeployManifestsTest.assertWebhookObjectsWithConsistentLabels(m);
        DeployManifestsTest.assertWebhookConfigurationIsNarrowAndSafe(m);
        DeployManifestsTest.assertDeploymentIsHighlyAvailableAndHardened(m);
        DeployManifestsTest.assertDisruptionBudgetNetworkPolicyAndLeastRbac(m);
        DeployManifestsTest.assertCertManagerIssuesTheMountedSecretAndInjectsItsCa(
                template(Map.of("certificates.source", "cert-manager")).withoutHelmLabels(),
                template(Map.of("certificates.source", "script")).withoutHelmLabels());
        DeployManifestsTest.assertMountsTheTlsSecret(template(Map.of("certificates.source", "script")), "dockerconfig-webhook-tls");
        for (String mode : List.of("report", "fix")) {
            DeployManifestsTest.assertAuditHasItsOwnLeastPrivilegeAccount(
                    template(Map.of("audit.mode", mode)).withoutHelmLabels().withComponent("audit"), mode.equals("fix"), mode);
        }
    }

    @Test
    void everyObjectCarriesTheStandardLabelsAndTheReleasesNames() {
        Manifests m = template("pull-fixer", "infra-pull", Map.of("audit.mode", "report", "certificates.source", "cert-manager",
                "serviceMonitor.enabled", true, "prometheusRule.enabled", true));
        for (HasMetadata o : m.all()) {
            Map<String, String> labels = o.getMetadata().getLabels();
            assertEquals("dockerconfig-webhook", labels.get("app.kubernetes.io/name"), o.getKind());
            assertEquals("pull-fixer", labels.get("app.kubernetes.io/instance"), o.getKind());
            assertEquals("0.2.0", labels.get("app.kubernetes.io/version"), o.getKind());
            assertEquals("Helm", labels.get("app.kubernetes.io/managed-by"), o.getKind());
            assertEquals("dockerconfig-webhook-0.2.0", labels.get("helm.sh/chart"), o.getKind());
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
        assertEquals("pull-fixer-dockerconfig-webhook.pullsecrets.dockerconfig-webhook.dev",
                config.getWebhooks().get(0).getName(), "an API error names the release");
    }

    @ParameterizedTest(name = "serviceAccountPolicy.enabled {0}")
    @ValueSource(booleans = {true, false})
    void theServiceAccountPolicyAndItsBindingRenderWhenEnabled(boolean enabled) {
        Manifests m = template(Map.of("serviceAccountPolicy.enabled", enabled));
        for (String kind : List.of("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")) {
            assertEquals(enabled ? 1 : 0, m.all().stream().filter(o -> o.getKind().equals(kind)).count(), kind);
        }
    }

    @ParameterizedTest(name = "replicaCount {0}: PDB rendered {1}")
    @CsvSource({"1, false", "2, true", "3, true"})
    void aPdbOnlyWhenAReplicaCanBeSpared(int replicas, boolean rendered) {
        Manifests m = template(Map.of("replicaCount", replicas));
        assertEquals(rendered, m.all().stream().anyMatch(o -> o.getKind().equals("PodDisruptionBudget")),
                "with one replica, minAvailable 1 would block every node drain");
    }

    @Test
    void selfManagedCertificatesAreTheReleasesOwn() {
        Manifests m = template("pull-fixer", "infra-pull", Map.of());
        var env = m.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
        Map<String, String> values = env.stream().filter(e -> e.getValue() != null)
                .collect(Collectors.toMap(e -> e.getName(), e -> e.getValue()));
        assertEquals("self", values.get("WEBHOOK_CERTIFICATES_SOURCE"));
        assertEquals("pull-fixer-dockerconfig-webhook", values.get("WEBHOOK_CERTIFICATES_SERVICE"));
        assertEquals("pull-fixer-dockerconfig-webhook-tls", values.get("WEBHOOK_CERTIFICATES_SECRET"));
        assertEquals("pull-fixer-dockerconfig-webhook-ca", values.get("WEBHOOK_CERTIFICATES_CA_SECRET"));
        assertTrue(values.get("WEBHOOK_CERTIFICATES_LABELS").contains("dockerconfig-webhook/release=pull-fixer"),
                "the documented uninstall selects them by the release");
        assertFalse(values.get("WEBHOOK_CERTIFICATES_LABELS").contains("app.kubernetes.io/instance"),
                "no label-tracking GitOps tool claims (and prunes) them");
        assertEquals(Map.of("WEBHOOK_CERTIFICATES_LIFETIME", "90d", "WEBHOOK_CERTIFICATES_CA_LIFETIME", "1095d",
                "WEBHOOK_CERTIFICATES_OVERLAP", "1h"), Map.of("WEBHOOK_CERTIFICATES_LIFETIME", values.get("WEBHOOK_CERTIFICATES_LIFETIME"),
                "WEBHOOK_CERTIFICATES_CA_LIFETIME", values.get("WEBHOOK_CERTIFICATES_CA_LIFETIME"),
                "WEBHOOK_CERTIFICATES_OVERLAP", values.get("WEBHOOK_CERTIFICATES_OVERLAP")));
        var role = (io.fabric8.kubernetes.api.model.rbac.Role) m.named("Role", "pull-fixer-dockerconfig-webhook-certificates");
        assertEquals("infra-pull", role.getMetadata().getNamespace());
        assertEquals(List.of("pull-fixer-dockerconfig-webhook-ca", "pull-fixer-dockerconfig-webhook-tls"),
                role.getRules().get(1).getResourceNames());
    }

    /** Kubernetes' limits: a Service name is a DNS label (63), a CronJob's name at most 52 (its Jobs add 11). */
    @ParameterizedTest(name = "release {0}")
    @ValueSource(strings = {"platform-security-production-x", "a-release-name-of-exactly-fifty-three-characters-long",
            "team-dockerconfig-webhook-in-production"})
    void everyNameFitsItsLimitWithAStableHash(String release) {
        Manifests m = template(release, "ns", Map.of("audit.mode", "fix"));
        for (HasMetadata o : m.all()) {
            int limit = switch (o.getKind()) {
                case "CronJob" -> 52;
                case "Service", "Deployment" -> 63;
                default -> 253;
            };
            String name = o.getMetadata().getName();
            assertTrue(name.length() <= limit, o.getKind() + " " + name + " is " + name.length() + " characters");
            assertTrue(name.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?"), name);
        }
        String cron = m.one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class).getMetadata().getName();
        assertEquals(cron, template(release, "ns", Map.of("audit.mode", "fix"))
                .one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class).getMetadata().getName(), "stable");
        assertTrue(cron.endsWith("-audit"), cron);
        String webhook = m.one(MutatingWebhookConfiguration.class).getWebhooks().get(0).getName();
        assertTrue(webhook.startsWith(m.one(Service.class).getMetadata().getName() + "."), webhook);
    }

    @Test
    void twoLongReleasesThatShareAPrefixGetDifferentNames() {
        String a = template("platform-security-production-cluster-one-webhooks", "ns", Map.of("audit.mode", "fix"))
                .one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class).getMetadata().getName();
        String b = template("platform-security-production-cluster-two-webhooks", "ns", Map.of("audit.mode", "fix"))
                .one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class).getMetadata().getName();
        assertFalse(a.equals(b), a + " vs " + b);
    }

    @Test
    void theAuditSkipsWhatTheWebhookSkipsFromTheSameValues() {
        Manifests m = template("r", "team-ns", Map.of("audit.mode", "fix", "webhook.excludedNamespaces[0]", "legacy",
                "webhook.optOutLabel", "example.com/no-fix"));
        var webhook = m.one(MutatingWebhookConfiguration.class).getWebhooks().get(0);
        List<String> args = m.one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class).getSpec().getJobTemplate().getSpec()
                .getTemplate().getSpec().getContainers().get(0).getArgs();
        assertEquals(String.join(",", webhook.getNamespaceSelector().getMatchExpressions().get(0).getValues()),
                args.get(args.indexOf("--exclude-namespace") + 1));
        assertEquals("kube-system,team-ns,legacy", args.get(args.indexOf("--exclude-namespace") + 1));
        assertEquals("example.com/no-fix", args.get(args.indexOf("--opt-out-label") + 1));
        assertEquals("example.com/no-fix", webhook.getObjectSelector().getMatchExpressions().get(0).getKey());
    }

    @Test
    void thePrometheusRuleIsOffByDefaultAndHasItsThreeAlerts() {
        assertTrue(template(Map.of()).all().stream().noneMatch(o -> o.getKind().equals("PrometheusRule")), "off by default");
        Manifests m = template("pull-fixer", "infra-pull", Map.of("prometheusRule.enabled", true,
                "prometheusRule.labels.release", "kube-prometheus-stack"));
        GenericKubernetesResource rule = (GenericKubernetesResource) m.named("PrometheusRule", "pull-fixer-dockerconfig-webhook");
        assertEquals("infra-pull", rule.getMetadata().getNamespace());
        assertEquals("kube-prometheus-stack", rule.getMetadata().getLabels().get("release"));
        List<Map<String, Object>> groups = rule.get("spec", "groups");
        assertEquals(1, groups.size());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rules = (List<Map<String, Object>>) groups.get(0).get("rules");
        Map<String, Map<String, Object>> byName = new LinkedHashMap<>();
        rules.forEach(r -> byName.put((String) r.get("alert"), r));
        assertEquals(List.of("DockerconfigWebhookNoReadyReplica", "DockerconfigWebhookCertificateExpiresSoon",
                "DockerconfigWebhookCertificateUntrusted", "DockerconfigWebhookReviewsFailing"), List.copyOf(byName.keySet()));
        for (Map<String, Object> r : rules) {
            // What promtool checks of an alerting rule: a name, an expression, a duration, string labels/annotations.
            assertTrue(((String) r.get("expr")).strip().length() > 0, r.toString());
            assertTrue(String.valueOf(r.get("for")).matches("[0-9]+[smh]"), r.toString());
            @SuppressWarnings("unchecked")
            Map<String, Object> labels = (Map<String, Object>) r.get("labels");
            assertTrue(Set.of("critical", "warning").contains(labels.get("severity")), r.toString());
            @SuppressWarnings("unchecked")
            Map<String, Object> annotations = (Map<String, Object>) r.get("annotations");
            assertTrue(annotations.get("summary") instanceof String && annotations.get("description") instanceof String);
            assertBalanced((String) r.get("expr"));
        }
        assertEquals("kube_deployment_status_replicas_available{namespace=\"infra-pull\", "
                + "deployment=\"pull-fixer-dockerconfig-webhook\"} < 1", byName.get("DockerconfigWebhookNoReadyReplica").get("expr"));
        String expiry = (String) byName.get("DockerconfigWebhookCertificateExpiresSoon").get("expr");
        assertTrue(expiry.contains("webhook_certificate_expiration_timestamp_seconds{namespace=\"infra-pull\", "
                + "job=\"pull-fixer-dockerconfig-webhook\"}"), expiry);
        assertTrue(expiry.contains("webhook_ca_certificate_expiration_timestamp_seconds{"), expiry);
        assertTrue(expiry.contains("< 1209600"), "14 days: " + expiry);
        assertEquals("min by (pod) (webhook_ca_bundle_trusted{namespace=\"infra-pull\", "
                + "job=\"pull-fixer-dockerconfig-webhook\"}) < 1", byName.get("DockerconfigWebhookCertificateUntrusted").get("expr"));
        assertEquals("5m", byName.get("DockerconfigWebhookCertificateUntrusted").get("for"));
        String failing = (String) byName.get("DockerconfigWebhookReviewsFailing").get("expr");
        assertTrue(failing.contains("outcome=~\"busy|errored\"") && failing.endsWith("> 0.05"), failing);
        // The job label is the Service's name, as the ServiceMonitor scrapes it.
        assertEquals("pull-fixer-dockerconfig-webhook", m.one(Service.class).getMetadata().getName());
    }

    /** Brackets and quotes pair up: what a PromQL parser would refuse first. */
    private static void assertBalanced(String expr) {
        java.util.Deque<Character> open = new java.util.ArrayDeque<>();
        boolean quoted = false;
        for (char c : expr.toCharArray()) {
            if (c == '"') quoted = !quoted;
            if (quoted) continue;
            if ("({[".indexOf(c) >= 0) open.push(c);
            if (")}]".indexOf(c) >= 0) assertEquals("({[".charAt(")}]".indexOf(c)), open.pop(), expr);
        }
        assertTrue(open.isEmpty() && !quoted, expr);
    }

    @Test
    void strictIsAWebhookValueAndTheOldKeyStillWorks() {
        for (String key : List.of("webhook.strict", "strict")) {
            var env = template(Map.of(key, true)).one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
            assertTrue(env.stream().anyMatch(e -> e.getName().equals("WEBHOOK_STRICT") && e.getValue().equals("true")), key);
        }
        var env = template(Map.of()).one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
        assertTrue(env.stream().noneMatch(e -> e.getName().equals("WEBHOOK_STRICT")));
    }

    @Test
    void schedulingAndNetworkValuesReachThePods() {
        Manifests m = template(Map.of("networkPolicy.controlPlaneCIDR", "10.0.0.0/24", "nodeSelector.pool", "system",
                "priorityClassName", "system-cluster-critical", "webhook.strict", true, "replicaCount", 3,
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
        assertEquals(REPOSITORY + ":0.2.0", image);
        String digest = "sha256:" + "a".repeat(64);
        String pinned = template(Map.of("image.repository", "registry.example/dcw", "image.digest", digest))
                .one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
        assertEquals("registry.example/dcw@" + digest, pinned);
    }

    @ParameterizedTest(name = "lint --strict, certificates.source={0}")
    @ValueSource(strings = {"self", "script", "cert-manager"})
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
        assertTrue(text.contains("\n  source: self\n"));
        assertTrue(text.contains("\n  repository: \"\"\n"));
        Files.writeString(values, text.replace("\n  source: self\n", "\n  source: " + source + "\n")
                .replace("\n  repository: \"\"\n", "\n  repository: " + REPOSITORY + "\n"));
        LintResult lint = new Helm(chart).lint().strict().call();
        assertFalse(lint.isFailed(), String.join("\n", lint.getMessages()));
        Manifests m = Manifests.of(new Helm(chart).template().withName("dockerconfig-webhook").withNamespace(NS)
                .withKubeVersion(KUBE_VERSION).call());
        assertEquals(source.equals("cert-manager"), m.all().stream().anyMatch(o -> o.getKind().equals("Certificate")),
                "the mode took effect");
        assertEquals(source.equals("self"), m.all().stream().anyMatch(o -> o.getKind().equals("Role")), "the mode took effect");
    }

    static Stream<Arguments> wrongValues() {
        return Stream.of(
                Arguments.of("replicaCount", "two", "replicaCount"),
                Arguments.of("webhook.failurePolicy", "Sometimes", "failurePolicy"),
                Arguments.of("certificates.source", "vault", "source"),
                Arguments.of("audit.mode", "daily", "mode"),
                Arguments.of("image.digest", "latest", "digest"),
                Arguments.of("webhook.strict", "yes", "strict"),
                Arguments.of("certificates.self.lifetime", "90 days", "lifetime"),
                Arguments.of("webhook.excludedNamespaces[0]", "Not_A_Namespace", "excludedNamespaces"),
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
