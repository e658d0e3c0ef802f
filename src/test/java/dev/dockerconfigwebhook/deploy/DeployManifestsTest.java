package dev.dockerconfigwebhook.deploy;

import dev.dockerconfigwebhook.testing.WebhookSettings;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.RuleWithOperations;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.FileReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Renders deploy/ and its overlays and asserts every property the install promises, without a cluster. */
class DeployManifestsTest {

    static final String NS = "dockerconfig-webhook";
    static final Map<String, String> POD_LABELS = Map.of(
            "app.kubernetes.io/name", "dockerconfig-webhook", "app.kubernetes.io/component", "webhook");

    @Test
    void baseRendersToExactlyTheWebhookObjectsWithConsistentLabels() throws Exception {
        Manifests m = Manifests.render("deploy");
        assertEquals("restricted", m.one(Namespace.class).getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"));
        assertWebhookObjectsWithConsistentLabels(m);
    }

    /** Shared with HelmChartTest (which renders no Namespace: Helm's --create-namespace makes it). */
    static void assertWebhookObjectsWithConsistentLabels(Manifests m) {
        Set<String> kinds = new java.util.HashSet<>(Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role",
                "RoleBinding", "Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", "MutatingWebhookConfiguration",
                "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"));
        if (m.all().stream().anyMatch(o -> o instanceof Namespace)) kinds.add("Namespace");
        assertEquals(kinds, m.all().stream().map(HasMetadata::getKind).collect(Collectors.toSet()));
        assertEquals(kinds.size(), m.all().size());
        for (HasMetadata o : m.all()) {
            Map<String, String> labels = o.getMetadata().getLabels();
            assertEquals("dockerconfig-webhook", labels.get("app.kubernetes.io/name"), o.getKind());
            assertEquals("dockerconfig-webhook", labels.get("app.kubernetes.io/part-of"), o.getKind());
            boolean clusterScoped = o instanceof Namespace || o instanceof MutatingWebhookConfiguration
                    || o.getKind().startsWith("ClusterRole") || o.getKind().startsWith("ValidatingAdmissionPolicy");
            assertEquals(clusterScoped ? null : NS, o.getMetadata().getNamespace(), o.getKind());
        }
    }

    @Test
    void theBaseFilesAreTheRenderedBase() throws Exception {
        // No kustomize transformer hides in the base: reading its files gives what `apply -k` applies.
        assertEquals(Manifests.render("deploy").all().stream().map(HasMetadata::getKind).sorted().toList(),
                Manifests.readBaseFiles().all().stream().map(HasMetadata::getKind).sorted().toList());
        assertEquals(Manifests.render("deploy").one(Deployment.class), Manifests.readBaseFiles().one(Deployment.class));
    }

    @Test
    void webhookConfigurationIsNarrowAndSafe() throws Exception {
        assertWebhookConfigurationIsNarrowAndSafe(Manifests.render("deploy"));
    }

    /** Shared with HelmChartTest: what the rendered objects of any install path must satisfy. */
    static void assertWebhookConfigurationIsNarrowAndSafe(Manifests m) throws Exception {
        MutatingWebhookConfiguration config = m.one(MutatingWebhookConfiguration.class);
        assertEquals(1, config.getWebhooks().size());
        MutatingWebhook webhook = config.getWebhooks().get(0);

        RuleWithOperations rule = webhook.getRules().get(0);
        assertEquals(1, webhook.getRules().size());
        assertEquals(List.of(""), rule.getApiGroups());
        assertEquals(List.of("v1"), rule.getApiVersions());
        assertEquals(List.of("secrets"), rule.getResources());
        assertEquals(List.of("CREATE", "UPDATE"), rule.getOperations());
        assertEquals("Namespaced", rule.getScope());
        assertEquals("Equivalent", webhook.getMatchPolicy());

        assertEquals(1, webhook.getMatchConditions().size());
        String condition = webhook.getMatchConditions().get(0).getExpression();
        assertTrue(condition.contains("object.type in ['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg']"), condition);

        LabelSelectorRequirement namespaces = webhook.getNamespaceSelector().getMatchExpressions().get(0);
        assertEquals("kubernetes.io/metadata.name", namespaces.getKey());
        assertEquals("NotIn", namespaces.getOperator());
        assertEquals(Set.of("kube-system", NS), Set.copyOf(namespaces.getValues()));

        List<LabelSelectorRequirement> objects = webhook.getObjectSelector().getMatchExpressions();
        assertTrue(objects.stream().anyMatch(r -> r.getKey().equals("dockerconfig-webhook/skip")
                && r.getOperator().equals("NotIn") && r.getValues().equals(List.of("true"))), "opt-out label");
        assertTrue(objects.stream().anyMatch(r -> r.getKey().equals("reconcile.external-secrets.io/managed")
                && r.getOperator().equals("DoesNotExist")), "ESO-managed secrets are skipped");

        assertEquals("None", webhook.getSideEffects());
        assertEquals("IfNeeded", webhook.getReinvocationPolicy());
        assertEquals(5, webhook.getTimeoutSeconds());
        assertEquals(List.of("v1"), webhook.getAdmissionReviewVersions());
        assertEquals("Fail", webhook.getFailurePolicy());

        // clientConfig reaches the Service's 443 port, which leads to the container's named HTTPS port.
        var target = webhook.getClientConfig().getService();
        assertNull(webhook.getClientConfig().getUrl());
        assertEquals("/mutate", target.getPath());
        assertEquals(443, target.getPort());
        Service service = m.one(Service.class);
        assertEquals(service.getMetadata().getName(), target.getName());
        assertEquals(service.getMetadata().getNamespace(), target.getNamespace());
        ServicePort https = service.getSpec().getPorts().stream().filter(p -> p.getPort() == 443).findFirst().orElseThrow();
        assertEquals("https", https.getTargetPort().getStrVal());
        assertEquals(POD_LABELS, service.getSpec().getSelector());
        assertEquals(8443, containerPort(m, "https").getContainerPort());
    }

    @Test
    void deploymentIsHighlyAvailableAndHardened() throws Exception {
        Manifests m = Manifests.render("deploy");
        assertDeploymentIsHighlyAvailableAndHardened(m);
        assertEquals("dockerconfig-webhook:0.2.0", m.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers()
                .get(0).getImage(), "the placeholder deploy/settings replaces");
    }

    /** Shared with HelmChartTest: what the rendered objects of any install path must satisfy. */
    static void assertDeploymentIsHighlyAvailableAndHardened(Manifests m) throws Exception {
        Deployment deployment = m.one(Deployment.class);
        assertEquals(2, deployment.getSpec().getReplicas());
        assertEquals(0, deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal());
        assertEquals(POD_LABELS, deployment.getSpec().getSelector().getMatchLabels());
        assertTrue(deployment.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(POD_LABELS.entrySet()));

        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        assertEquals("kubernetes.io/hostname", pod.getTopologySpreadConstraints().get(0).getTopologyKey());
        assertEquals(POD_LABELS, pod.getTopologySpreadConstraints().get(0).getLabelSelector().getMatchLabels());
        assertEquals(Boolean.TRUE, pod.getAutomountServiceAccountToken(), "the caBundle keeper calls the API server");
        assertEquals(Boolean.FALSE, m.one(ServiceAccount.class).getAutomountServiceAccountToken(), "no other pod gets it");
        assertEquals(m.one(ServiceAccount.class).getMetadata().getName(), pod.getServiceAccountName());
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());

        Container container = pod.getContainers().get(0);
        assertEquals(1, pod.getContainers().size());
        assertEquals(Boolean.FALSE, container.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, container.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), container.getSecurityContext().getCapabilities().getDrop());

        assertNotNull(container.getResources().getRequests().get("cpu"));
        assertNotNull(container.getResources().getRequests().get("memory"));
        assertNotNull(container.getResources().getLimits().get("memory"));
        String javaOpts = container.getEnv().stream().filter(e -> e.getName().equals("JAVA_OPTS")).findFirst()
                .orElseThrow().getValue();
        assertTrue(javaOpts.contains("-Xmx80m"), javaOpts);

        assertEquals("/q/health/ready", container.getReadinessProbe().getHttpGet().getPath());
        assertEquals("management", container.getReadinessProbe().getHttpGet().getPort().getStrVal());
        assertEquals("HTTP", container.getReadinessProbe().getHttpGet().getScheme(), "the management port is plain HTTP");
        assertEquals("/q/health/live", container.getLivenessProbe().getHttpGet().getPath());
        assertEquals("management", container.getLivenessProbe().getHttpGet().getPort().getStrVal());
        assertTrue(container.getLifecycle().getPreStop().getSleep().getSeconds() > 0, "preStop pause");
        assertTrue(pod.getTerminationGracePeriodSeconds() > container.getLifecycle().getPreStop().getSleep().getSeconds());

        // Self-managed certificates: nothing mounted, the Secrets and names the RBAC allows, the Service's DNS names.
        assertEquals("self", env(container, "WEBHOOK_CERTIFICATES_SOURCE").getValue());
        assertTrue(container.getVolumeMounts().stream().noneMatch(v -> v.getMountPath().equals("/etc/webhook/tls")));
        assertEquals("metadata.namespace", env(container, "WEBHOOK_CERTIFICATES_NAMESPACE").getValueFrom().getFieldRef().getFieldPath());
        assertEquals(m.one(Service.class).getMetadata().getName(), env(container, "WEBHOOK_CERTIFICATES_SERVICE").getValue());
        Role role = m.one(Role.class);
        assertEquals(List.of(env(container, "WEBHOOK_CERTIFICATES_CA_SECRET").getValue(),
                env(container, "WEBHOOK_CERTIFICATES_SECRET").getValue()), role.getRules().get(1).getResourceNames());
        String labels = env(container, "WEBHOOK_CERTIFICATES_LABELS").getValue();
        assertTrue(labels.contains("dockerconfig-webhook/skip=true"), "no webhook is ever called for the pods' own Secrets");
        assertTrue(labels.contains("app.kubernetes.io/part-of=dockerconfig-webhook"), labels);
        assertTrue(labels.contains("dockerconfig-webhook/release="), "the documented uninstall selects them by it: " + labels);
        assertFalse(labels.contains("app.kubernetes.io/instance"), "no label-tracking GitOps tool claims (and prunes) them");
        assertNotNull(volume(pod, mount(container, "/tmp").getName()).getEmptyDir(), "a writable /tmp");

        Properties app = applicationProperties();
        assertEquals(app.getProperty("quarkus.http.ssl-port"), String.valueOf(containerPort(m, "https").getContainerPort()));
        assertEquals(app.getProperty("quarkus.management.port"), String.valueOf(containerPort(m, "management").getContainerPort()));
    }

    /** Shared with HelmChartTest: the variants whose certificate someone else makes, as files of a mounted Secret. */
    static void assertMountsTheTlsSecret(Manifests m, String secretName) throws Exception {
        PodSpec pod = m.one(Deployment.class).getSpec().getTemplate().getSpec();
        Container container = pod.getContainers().get(0);
        assertEquals("files", env(container, "WEBHOOK_CERTIFICATES_SOURCE").getValue());
        // The TLS Secret as a whole directory (rotation reaches the pod) where the application reads it.
        VolumeMount tls = mount(container, "/etc/webhook/tls");
        assertNull(tls.getSubPath(), "no subPath, or rotated certificates never reach the pod");
        assertEquals(Boolean.TRUE, tls.getReadOnly());
        Volume tlsVolume = volume(pod, tls.getName());
        assertEquals(secretName, tlsVolume.getSecret().getSecretName());
        assertEquals(Boolean.TRUE, tlsVolume.getSecret().getOptional(), "without the Secret the pod runs, not ready, and says why");
        assertFalse(m.all().stream().anyMatch(o -> o instanceof Role), "no access to Secrets");
        assertEquals("/etc/webhook/tls/tls.crt", WebhookSettings.defaultOf("webhook.tls.cert"));
        assertEquals("/etc/webhook/tls/tls.key", WebhookSettings.defaultOf("webhook.tls.key"));
        assertEquals("/etc/webhook/tls/ca.crt", WebhookSettings.defaultOf("webhook.tls.ca"));
    }

    @Test
    void scriptOverlayMountsTheSecretTheScriptMakes() throws Exception {
        assertMountsTheTlsSecret(Manifests.render("deploy/overlays/script"), "dockerconfig-webhook-tls");
    }

    private static EnvVar env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no env " + name));
    }

    @Test
    void disruptionBudgetNetworkPolicyAndLeastRbac() throws Exception {
        assertDisruptionBudgetNetworkPolicyAndLeastRbac(Manifests.render("deploy"));
    }

    /** Shared with HelmChartTest: what the rendered objects of any install path must satisfy. */
    static void assertDisruptionBudgetNetworkPolicyAndLeastRbac(Manifests m) throws Exception {
        PodDisruptionBudget pdb = m.one(PodDisruptionBudget.class);
        assertEquals(1, pdb.getSpec().getMinAvailable().getIntVal());
        assertEquals(POD_LABELS, pdb.getSpec().getSelector().getMatchLabels());

        NetworkPolicy policy = m.one(NetworkPolicy.class);
        assertEquals(POD_LABELS, policy.getSpec().getPodSelector().getMatchLabels());
        assertEquals(1, policy.getSpec().getIngress().size());
        assertEquals(Set.of("https", "management"), policy.getSpec().getIngress().get(0).getPorts().stream()
                .map(p -> p.getPort().getStrVal()).collect(Collectors.toSet()));
        assertEquals(1, policy.getSpec().getEgress().size());
        assertEquals(Set.of(443, 6443), policy.getSpec().getEgress().get(0).getPorts().stream()
                .map(p -> p.getPort().getIntVal()).collect(Collectors.toSet()), "only the API server's ports");

        // The caBundle keeper: get and update of the webhook's own configuration, nothing else.
        ClusterRole role = m.one(ClusterRole.class);
        assertEquals(1, role.getRules().size());
        PolicyRule rule = role.getRules().get(0);
        assertEquals(List.of("admissionregistration.k8s.io"), rule.getApiGroups());
        assertEquals(List.of("mutatingwebhookconfigurations"), rule.getResources());
        String configuration = m.one(MutatingWebhookConfiguration.class).getMetadata().getName();
        assertEquals(List.of(configuration), rule.getResourceNames());
        assertEquals(List.of("get", "update"), rule.getVerbs());
        assertEquals(configuration, WebhookSettings.defaultOf("webhook.ca-bundle.configuration"));
        ClusterRoleBinding binding = m.one(ClusterRoleBinding.class);
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        ServiceAccount account = m.one(ServiceAccount.class);
        assertEquals(List.of(account.getMetadata().getName()), binding.getSubjects().stream().map(Subject::getName).toList());
        assertEquals(account.getMetadata().getNamespace(), binding.getSubjects().get(0).getNamespace());

        // Self-managed certificates: create Secrets in its own namespace (RBAC cannot pin a create to a name), get and
        // update only its two.
        Role secrets = m.one(Role.class);
        assertEquals(NS, secrets.getMetadata().getNamespace());
        assertEquals(2, secrets.getRules().size());
        assertEquals(List.of("secrets"), secrets.getRules().get(0).getResources());
        assertEquals(List.of("create"), secrets.getRules().get(0).getVerbs());
        assertTrue(secrets.getRules().get(0).getResourceNames() == null || secrets.getRules().get(0).getResourceNames().isEmpty());
        assertEquals(List.of("secrets"), secrets.getRules().get(1).getResources());
        assertEquals(List.of("get", "update"), secrets.getRules().get(1).getVerbs());
        assertEquals(2, secrets.getRules().get(1).getResourceNames().size());
        RoleBinding secretsBinding = m.one(RoleBinding.class);
        assertEquals(secrets.getMetadata().getName(), secretsBinding.getRoleRef().getName());
        assertEquals(account.getMetadata().getName(), secretsBinding.getSubjects().get(0).getName());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"deploy/overlays/script/static-ca-bundle", "deploy/overlays/cert-manager/static-ca-bundle"})
    void staticCaBundleVariantsHaveNoApiAccess(String variant) throws Exception {
        // Only with a certificate from a mounted Secret: self-managed certificates need the API.
        Manifests m = Manifests.render(variant);
        assertFalse(m.all().stream().anyMatch(o -> o.getKind().contains("Role")), "no RBAC");
        PodSpec pod = m.one(Deployment.class).getSpec().getTemplate().getSpec();
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken());
        assertTrue(pod.getContainers().get(0).getEnv().stream()
                .anyMatch(e -> e.getName().equals("WEBHOOK_CA_BUNDLE_KEEP") && e.getValue().equals("false")));
        assertTrue(m.one(NetworkPolicy.class).getSpec().getEgress().isEmpty(), "no egress at all");
        assertMountsTheTlsSecret(m, "dockerconfig-webhook-tls");
    }

    /** Every kustomization a user applies; each must follow deploy/settings/settings.yaml. */
    static final List<String> ENTRY_POINTS = List.of("", "overlays/script", "overlays/script/static-ca-bundle",
            "overlays/cert-manager", "overlays/cert-manager/static-ca-bundle", "overlays/fail-open", "audit", "audit/fix");

    @Test
    void theImageAndTheNamespaceAreSetInOnePlaceForEveryVariant() throws Exception {
        Path copy = copyOfDeploy();
        Path settings = copy.resolve("settings/settings.yaml");
        String text = Files.readString(settings);
        Files.writeString(settings, text
                .replace("  image: dockerconfig-webhook:0.2.0", "  image: registry.example/team/dcw:1.2.3")
                .replace("  namespace: dockerconfig-webhook", "  namespace: infra-pull"));
        for (String entry : ENTRY_POINTS) {
            Manifests m = Manifests.render(copy.resolve(entry).toString());
            String where = "deploy/" + entry;
            List<Container> containers = m.all().stream().flatMap(o -> podSpec(o).stream())
                    .flatMap(p -> p.getContainers().stream()).toList();
            assertFalse(containers.isEmpty(), where);
            for (Container container : containers) {
                assertEquals("registry.example/team/dcw:1.2.3", container.getImage(), where);
            }
            for (HasMetadata o : m.all()) {
                String namespace = o.getMetadata().getNamespace();
                assertTrue(namespace == null || namespace.equals("infra-pull"), where + " " + o.getKind());
                if (o instanceof Namespace) assertEquals("infra-pull", o.getMetadata().getName(), where);
                if (o instanceof io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding b) {
                    b.getSubjects().forEach(subject -> assertEquals("infra-pull", subject.getNamespace(), where));
                }
                if (o instanceof MutatingWebhookConfiguration config) {
                    MutatingWebhook webhook = config.getWebhooks().get(0);
                    assertEquals("infra-pull", webhook.getClientConfig().getService().getNamespace(), where);
                    assertEquals(Set.of("kube-system", "infra-pull"),
                            Set.copyOf(webhook.getNamespaceSelector().getMatchExpressions().get(0).getValues()), where);
                    String inject = config.getMetadata().getAnnotations() == null ? null
                            : config.getMetadata().getAnnotations().get("cert-manager.io/inject-ca-from");
                    if (inject != null) assertEquals("infra-pull/dockerconfig-webhook-tls", inject, where);
                }
            }
            String yaml = m.all().stream().map(Object::toString).collect(Collectors.joining());
            assertFalse(yaml.contains("namespace=dockerconfig-webhook"), where + ": a reference kept the default namespace");
            assertFalse(yaml.contains("dockerconfig-webhook.dockerconfig-webhook"), where + ": a DNS name kept the default namespace");
            assertFalse(yaml.contains("serviceaccount:dockerconfig-webhook:"), where + ": a user name kept the default namespace");
            if (m.all().stream().anyMatch(o -> o.getKind().equals("ValidatingAdmissionPolicy"))) {
                assertTrue(yaml.contains("system:serviceaccount:infra-pull:dockerconfig-webhook"), where + ": the policy's account");
            }
            assertFalse(m.all().stream().anyMatch(o -> o.getKind().equals("ConfigMap")), "the settings object is not applied");
        }
        GenericKubernetesResource certificate = (GenericKubernetesResource) Manifests
                .render(copy.resolve("overlays/cert-manager").toString()).named("Certificate", "dockerconfig-webhook-tls");
        Map<String, Object> spec = certificate.get("spec");
        assertEquals(List.of("dockerconfig-webhook", "dockerconfig-webhook.infra-pull", "dockerconfig-webhook.infra-pull.svc",
                "dockerconfig-webhook.infra-pull.svc.cluster.local"), spec.get("dnsNames"));
    }

    @Test
    void withDefaultSettingsEveryVariantUsesThePlaceholderImage() throws Exception {
        for (String entry : ENTRY_POINTS) {
            Manifests m = Manifests.render(("deploy/" + entry).replaceAll("/$", ""));
            m.all().stream().flatMap(o -> podSpec(o).stream()).flatMap(p -> p.getContainers().stream())
                    .forEach(c -> assertEquals("dockerconfig-webhook:0.2.0", c.getImage(), entry));
        }
    }

    private static Optional<PodSpec> podSpec(HasMetadata o) {
        if (o instanceof Deployment d) return Optional.of(d.getSpec().getTemplate().getSpec());
        if (o instanceof io.fabric8.kubernetes.api.model.batch.v1.CronJob c) {
            return Optional.of(c.getSpec().getJobTemplate().getSpec().getTemplate().getSpec());
        }
        return Optional.empty();
    }

    @TempDir
    Path tmp;

    private Path copyOfDeploy() throws IOException {
        Path target = tmp.resolve("deploy");
        try (var files = Files.walk(Path.of("deploy"))) {
            for (Path source : files.toList()) {
                Path destination = target.resolve(Path.of("deploy").relativize(source).toString());
                if (Files.isDirectory(source)) Files.createDirectories(destination);
                else Files.copy(source, destination);
            }
        }
        return target;
    }

    @Test
    void certManagerOverlayIssuesTheMountedSecretAndInjectsItsCa() throws Exception {
        assertCertManagerIssuesTheMountedSecretAndInjectsItsCa(Manifests.render("deploy/overlays/cert-manager"),
                Manifests.render("deploy/overlays/script"));
    }

    /** Shared with HelmChartTest: {@code plain} is the same install with the script's Secret instead. */
    static void assertCertManagerIssuesTheMountedSecretAndInjectsItsCa(Manifests m, Manifests plain) throws Exception {
        MutatingWebhookConfiguration config = m.one(MutatingWebhookConfiguration.class);
        String inject = config.getMetadata().getAnnotations().get("cert-manager.io/inject-ca-from");
        assertEquals(NS + "/dockerconfig-webhook-tls", inject);

        GenericKubernetesResource certificate = (GenericKubernetesResource) m.named("Certificate", "dockerconfig-webhook-tls");
        assertEquals(NS, certificate.getMetadata().getNamespace());
        Map<String, Object> spec = certificate.get("spec");
        assertEquals("dockerconfig-webhook-tls", spec.get("secretName"));
        assertEquals(List.of("dockerconfig-webhook", "dockerconfig-webhook." + NS, "dockerconfig-webhook." + NS + ".svc",
                "dockerconfig-webhook." + NS + ".svc.cluster.local"), spec.get("dnsNames"));
        String issuer = (String) ((Map<?, ?>) spec.get("issuerRef")).get("name");
        m.named("Issuer", issuer);
        assertEquals(plain.one(Deployment.class), m.one(Deployment.class), "the webhook is unchanged");
        assertMountsTheTlsSecret(m, "dockerconfig-webhook-tls");
    }

    @Test
    void failOpenOverlayChangesOnlyTheFailurePolicy() throws Exception {
        MutatingWebhookConfiguration base = Manifests.render("deploy").one(MutatingWebhookConfiguration.class);
        MutatingWebhookConfiguration open = Manifests.render("deploy/overlays/fail-open").one(MutatingWebhookConfiguration.class);
        assertEquals("Ignore", open.getWebhooks().get(0).getFailurePolicy());
        open.getWebhooks().get(0).setFailurePolicy("Fail");
        assertEquals(base, open);
    }

    @Test
    void auditComponentHasItsOwnLeastPrivilegeAccount() throws Exception {
        for (String dir : List.of("deploy/audit", "deploy/audit/fix")) {
            assertAuditHasItsOwnLeastPrivilegeAccount(Manifests.render(dir).withComponent("audit"), dir.endsWith("fix"), dir);
        }
    }

    /** Shared with HelmChartTest. */
    static void assertAuditHasItsOwnLeastPrivilegeAccount(Manifests m, boolean fix, String dir) {
        io.fabric8.kubernetes.api.model.rbac.ClusterRole role = m.one(io.fabric8.kubernetes.api.model.rbac.ClusterRole.class);
        assertEquals(1, role.getRules().size(), dir);
        assertEquals(List.of(""), role.getRules().get(0).getApiGroups());
        assertEquals(List.of("secrets"), role.getRules().get(0).getResources());
        assertEquals(fix ? List.of("get", "list", "update") : List.of("get", "list"), role.getRules().get(0).getVerbs(), dir);
        var binding = m.one(io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding.class);
        ServiceAccount account = m.one(ServiceAccount.class);
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertEquals(account.getMetadata().getName(), binding.getSubjects().get(0).getName());
        assertFalse(account.getMetadata().getName().equals("dockerconfig-webhook"), "not the webhook's account");

        var cron = m.one(io.fabric8.kubernetes.api.model.batch.v1.CronJob.class);
        PodSpec pod = cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec();
        assertEquals(account.getMetadata().getName(), pod.getServiceAccountName());
        Container container = pod.getContainers().get(0);
        assertEquals("audit", container.getArgs().get(0));
        assertEquals(fix, container.getArgs().contains("--fix"), dir);
        // It skips what the webhook skips: kube-system, the namespace it is installed in, and the opt-out label.
        assertEquals("kube-system," + NS, container.getArgs().get(container.getArgs().indexOf("--exclude-namespace") + 1));
        assertEquals("dockerconfig-webhook/skip", container.getArgs().get(container.getArgs().indexOf("--opt-out-label") + 1));
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals(Boolean.TRUE, container.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), container.getSecurityContext().getCapabilities().getDrop());
        assertEquals("Forbid", cron.getSpec().getConcurrencyPolicy());
        assertEquals("audit", cron.getMetadata().getLabels().get("app.kubernetes.io/component"));

        // Its pods reach only the API server: no ingress rule, egress to the API server's two ports, nothing else.
        var policy = m.one(io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class);
        assertEquals(List.of("Ingress", "Egress"), policy.getSpec().getPolicyTypes(), dir);
        assertTrue(policy.getSpec().getIngress() == null || policy.getSpec().getIngress().isEmpty(), dir + ": no ingress");
        assertEquals(1, policy.getSpec().getEgress().size(), dir);
        assertEquals(List.of(443, 6443), policy.getSpec().getEgress().get(0).getPorts().stream()
                .map(p -> p.getPort().getIntVal()).toList(), dir);
        assertTrue(policy.getSpec().getEgress().get(0).getTo() == null || policy.getSpec().getEgress().get(0).getTo().isEmpty());
        Map<String, String> podLabels = cron.getSpec().getJobTemplate().getSpec().getTemplate().getMetadata().getLabels();
        assertTrue(podLabels.entrySet().containsAll(policy.getSpec().getPodSelector().getMatchLabels().entrySet()),
                dir + ": the policy selects the audit's pods");
    }

    private static ContainerPort containerPort(Manifests m, String name) {
        return m.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0).getPorts().stream()
                .filter(p -> name.equals(p.getName())).findFirst().orElseThrow(() -> new AssertionError("no port " + name));
    }

    private static VolumeMount mount(Container container, String path) {
        return container.getVolumeMounts().stream().filter(v -> v.getMountPath().equals(path)).findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + path));
    }

    private static Volume volume(PodSpec pod, String name) {
        return pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst().orElseThrow();
    }

    private static Properties applicationProperties() throws IOException {
        Properties properties = new Properties();
        try (FileReader reader = new FileReader("src/main/resources/application.properties")) {
            properties.load(reader);
        }
        return properties;
    }
}
