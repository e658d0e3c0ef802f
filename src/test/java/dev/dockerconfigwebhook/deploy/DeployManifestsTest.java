package dev.dockerconfigwebhook.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
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
import org.junit.jupiter.api.Test;

import java.io.FileReader;
import java.io.IOException;
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

    private static final String NS = "dockerconfig-webhook";
    private static final Map<String, String> POD_LABELS = Map.of(
            "app.kubernetes.io/name", "dockerconfig-webhook", "app.kubernetes.io/component", "webhook");

    @Test
    void baseRendersToExactlyTheWebhookObjectsWithConsistentLabels() throws Exception {
        Manifests m = Manifests.render("deploy");
        assertEquals(Set.of("Namespace", "ServiceAccount", "Deployment", "Service", "PodDisruptionBudget",
                "NetworkPolicy", "MutatingWebhookConfiguration"),
                m.all().stream().map(HasMetadata::getKind).collect(Collectors.toSet()));
        assertEquals(7, m.all().size());
        for (HasMetadata o : m.all()) {
            Map<String, String> labels = o.getMetadata().getLabels();
            assertEquals("dockerconfig-webhook", labels.get("app.kubernetes.io/name"), o.getKind());
            assertEquals("dockerconfig-webhook", labels.get("app.kubernetes.io/part-of"), o.getKind());
            boolean clusterScoped = o instanceof Namespace || o instanceof MutatingWebhookConfiguration;
            assertEquals(clusterScoped ? null : NS, o.getMetadata().getNamespace(), o.getKind());
        }
        assertEquals("restricted", m.one(Namespace.class).getMetadata().getLabels().get("pod-security.kubernetes.io/enforce"));
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
        Manifests m = Manifests.render("deploy");
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
        Deployment deployment = m.one(Deployment.class);
        assertEquals(2, deployment.getSpec().getReplicas());
        assertEquals(0, deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal());
        assertEquals(POD_LABELS, deployment.getSpec().getSelector().getMatchLabels());
        assertTrue(deployment.getSpec().getTemplate().getMetadata().getLabels().entrySet().containsAll(POD_LABELS.entrySet()));

        PodSpec pod = deployment.getSpec().getTemplate().getSpec();
        assertEquals("kubernetes.io/hostname", pod.getTopologySpreadConstraints().get(0).getTopologyKey());
        assertEquals(POD_LABELS, pod.getTopologySpreadConstraints().get(0).getLabelSelector().getMatchLabels());
        assertEquals(Boolean.FALSE, pod.getAutomountServiceAccountToken());
        assertEquals(Boolean.FALSE, m.one(ServiceAccount.class).getAutomountServiceAccountToken());
        assertEquals(m.one(ServiceAccount.class).getMetadata().getName(), pod.getServiceAccountName());
        assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
        assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType());

        Container container = pod.getContainers().get(0);
        assertEquals(1, pod.getContainers().size());
        assertEquals(Boolean.FALSE, container.getSecurityContext().getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, container.getSecurityContext().getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), container.getSecurityContext().getCapabilities().getDrop());
        assertEquals("dockerconfig-webhook:latest", container.getImage(), "the placeholder users override with images:");

        assertNotNull(container.getResources().getRequests().get("cpu"));
        assertNotNull(container.getResources().getRequests().get("memory"));
        assertNotNull(container.getResources().getLimits().get("memory"));
        String javaOpts = container.getEnv().stream().filter(e -> e.getName().equals("JAVA_OPTS")).findFirst()
                .orElseThrow().getValue();
        assertTrue(javaOpts.contains("-Xmx64m"), javaOpts);

        assertEquals("/q/health/ready", container.getReadinessProbe().getHttpGet().getPath());
        assertEquals("management", container.getReadinessProbe().getHttpGet().getPort().getStrVal());
        assertEquals("HTTP", container.getReadinessProbe().getHttpGet().getScheme(), "the management port is plain HTTP");
        assertEquals("/q/health/live", container.getLivenessProbe().getHttpGet().getPath());
        assertEquals("management", container.getLivenessProbe().getHttpGet().getPort().getStrVal());
        assertTrue(container.getLifecycle().getPreStop().getSleep().getSeconds() > 0, "preStop pause");
        assertTrue(pod.getTerminationGracePeriodSeconds() > container.getLifecycle().getPreStop().getSleep().getSeconds());

        // The TLS Secret as a whole directory (rotation reaches the pod) where the application reads it.
        VolumeMount tls = mount(container, "/etc/webhook/tls");
        assertNull(tls.getSubPath(), "no subPath, or rotated certificates never reach the pod");
        assertEquals(Boolean.TRUE, tls.getReadOnly());
        Volume tlsVolume = volume(pod, tls.getName());
        assertEquals("dockerconfig-webhook-tls", tlsVolume.getSecret().getSecretName());
        assertNotNull(volume(pod, mount(container, "/tmp").getName()).getEmptyDir(), "a writable /tmp");

        Properties app = applicationProperties();
        assertEquals(app.getProperty("webhook.port"), String.valueOf(containerPort(m, "https").getContainerPort()));
        assertEquals(app.getProperty("quarkus.management.port"), String.valueOf(containerPort(m, "management").getContainerPort()));
        assertEquals("/etc/webhook/tls/tls.crt", app.getProperty("webhook.tls.cert"));
        assertEquals("/etc/webhook/tls/tls.key", app.getProperty("webhook.tls.key"));
    }

    @Test
    void disruptionBudgetNetworkPolicyAndNoRbac() throws Exception {
        Manifests m = Manifests.render("deploy");
        PodDisruptionBudget pdb = m.one(PodDisruptionBudget.class);
        assertEquals(1, pdb.getSpec().getMinAvailable().getIntVal());
        assertEquals(POD_LABELS, pdb.getSpec().getSelector().getMatchLabels());

        NetworkPolicy policy = m.one(NetworkPolicy.class);
        assertEquals(POD_LABELS, policy.getSpec().getPodSelector().getMatchLabels());
        assertEquals(1, policy.getSpec().getIngress().size());
        assertEquals(Set.of("https", "management"), policy.getSpec().getIngress().get(0).getPorts().stream()
                .map(p -> p.getPort().getStrVal()).collect(Collectors.toSet()));
        assertTrue(policy.getSpec().getEgress().isEmpty(), "the webhook opens no connections");

        assertFalse(m.all().stream().anyMatch(o -> o.getKind().contains("Role")), "the webhook needs no RBAC");
    }

    @Test
    void certManagerOverlayIssuesTheMountedSecretAndInjectsItsCa() throws Exception {
        Manifests m = Manifests.render("deploy/overlays/cert-manager");
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
        assertEquals(Manifests.render("deploy").one(Deployment.class), m.one(Deployment.class), "the webhook is unchanged");
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
            Manifests m = Manifests.render(dir);
            boolean fix = dir.endsWith("fix");
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
            assertEquals(Boolean.TRUE, pod.getSecurityContext().getRunAsNonRoot());
            assertEquals(Boolean.TRUE, container.getSecurityContext().getReadOnlyRootFilesystem());
            assertEquals(List.of("ALL"), container.getSecurityContext().getCapabilities().getDrop());
            assertEquals("Forbid", cron.getSpec().getConcurrencyPolicy());
            assertEquals("audit", cron.getMetadata().getLabels().get("app.kubernetes.io/component"));
        }
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
