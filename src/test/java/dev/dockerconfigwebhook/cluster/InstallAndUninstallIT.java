package dev.dockerconfigwebhook.cluster;

import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * deploy/ on a real API server, the documented way: apply (the pods would then make their own certificate), check the
 * RBAC the objects grant (SubjectAccessReviews, as the API server authorizes the pods' requests), then the documented
 * uninstall command (docs/operations.md), twice and after a partial manual removal: always exit 0, nothing cluster-scoped left.
 *
 * <p>1.20 lacks policy/v1 (the PDB), batch/v1 CronJob, ValidatingAdmissionPolicy (1.30; CelExpressionsTest evaluates it) and the preStop sleep action, so those are left out; it drops
 * {@code matchConditions} silently and does not label namespaces with their name, so the namespace gets that label as
 * 1.21+ servers set it (otherwise the webhook, which has no running pod here, would guard its own namespace).
 */
@RequiresRealApiServer
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InstallAndUninstallIT {

    private static final String NS = "dockerconfig-webhook";
    private static final String WEBHOOK_SA = "system:serviceaccount:" + NS + ":dockerconfig-webhook";
    private static final String AUDIT_SA = "system:serviceaccount:" + NS + ":dockerconfig-webhook-audit";
    private static final List<String> UNSUPPORTED_BY_1_20 = List.of("PodDisruptionBudget", "CronJob",
            "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding");

    private static RealApiServer api;
    private static KubernetesClient client;

    @BeforeAll
    static void start() {
        api = RealApiServer.shared();
        client = api.client();
    }

    @AfterAll
    static void cleanUp() {
        // Whatever happened above, never leave a failurePolicy: Fail configuration behind for the other classes.
        api.kubectl("delete", "mutatingwebhookconfiguration", "dockerconfig-webhook", "--ignore-not-found");
        client.close();
    }

    @Test
    @Order(1)
    void installsAndGrantsOnlyWhatEachAccountNeeds() throws Exception {
        install();
        assertNotNull(client.admissionRegistration().v1().mutatingWebhookConfigurations().withName("dockerconfig-webhook")
                .get(), "installed");

        // The webhook's pods: their own configuration and their two certificate Secrets, nothing else.
        assertCan(true, WEBHOOK_SA, "get", "mutatingwebhookconfigurations.admissionregistration.k8s.io/dockerconfig-webhook");
        assertCan(true, WEBHOOK_SA, "update", "mutatingwebhookconfigurations.admissionregistration.k8s.io/dockerconfig-webhook");
        assertCan(false, WEBHOOK_SA, "update", "mutatingwebhookconfigurations.admissionregistration.k8s.io/another-webhook");
        assertCan(false, WEBHOOK_SA, "list", "mutatingwebhookconfigurations.admissionregistration.k8s.io");
        assertCan(false, WEBHOOK_SA, "get", "secrets", "--all-namespaces");
        assertCan(true, WEBHOOK_SA, "create", "secrets", "-n", NS);
        assertCan(false, WEBHOOK_SA, "create", "secrets", "-n", "team-a");
        for (String own : List.of("dockerconfig-webhook-ca", "dockerconfig-webhook-tls")) {
            assertCan(true, WEBHOOK_SA, "get", "secrets/" + own, "-n", NS);
            assertCan(true, WEBHOOK_SA, "update", "secrets/" + own, "-n", NS);
            assertCan(false, WEBHOOK_SA, "delete", "secrets/" + own, "-n", NS);
        }
        assertCan(false, WEBHOOK_SA, "get", "secrets/another-secret", "-n", NS);
        assertCan(false, WEBHOOK_SA, "list", "secrets", "-n", NS);
        assertCan(false, WEBHOOK_SA, "delete", "mutatingwebhookconfigurations.admissionregistration.k8s.io/dockerconfig-webhook");
        // The audit (deploy/audit/fix): read and update secrets, nothing of the webhook.
        assertCan(true, AUDIT_SA, "list", "secrets", "--all-namespaces");
        assertCan(true, AUDIT_SA, "update", "secrets", "-n", "team-a");
        assertCan(false, AUDIT_SA, "update", "mutatingwebhookconfigurations.admissionregistration.k8s.io/dockerconfig-webhook");
    }

    @Test
    @Order(2)
    void theReadmesUninstallExitsZeroInAnyOrderAndLeavesNothingClusterScoped() throws Exception {
        // 1.20 has no ValidatingAdmissionPolicy kinds (kubectl would refuse to name them); the rest runs as written.
        String uninstall = documentedCommand("Uninstall").replace("validatingadmissionpolicybinding,validatingadmissionpolicy,", "");
        assertTrue(!uninstall.contains("validatingadmissionpolicy"), uninstall);
        // A Helm release's cluster-scoped object, labelled as the chart labels it: not this install's to delete.
        RealApiServer.Run helmRole = api.kubectlWithInput("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata:
                  name: other-release-dockerconfig-webhook-ca-bundle
                  labels: {app.kubernetes.io/part-of: dockerconfig-webhook, app.kubernetes.io/managed-by: Helm}
                rules: []
                """, "apply", "-f", "-");
        assertEquals(0, helmRole.exit(), helmRole.output());
        RealApiServer.Run first = api.run(Path.of("."), Map.of(), "bash", "-c", uninstall);
        assertEquals(0, first.exit(), first.output());
        assertNothingLeft();
        assertEquals(0, api.kubectl("get", "clusterrole", "other-release-dockerconfig-webhook-ca-bundle").exit(),
                "a Helm release's objects are left alone");
        api.kubectl("delete", "clusterrole", "other-release-dockerconfig-webhook-ca-bundle");
        RealApiServer.Run again = api.run(Path.of("."), Map.of(), "bash", "-c", uninstall);
        assertEquals(0, again.exit(), "uninstalling twice is fine: " + again.output());

        // The old Troubleshooting step removed the configuration by hand first; the rest must still go cleanly.
        awaitNamespaceGoneOrTerminating();
        forceFinishNamespace();
        install();
        assertEquals(0, api.kubectl("delete", "mutatingwebhookconfiguration", "dockerconfig-webhook").exit());
        RealApiServer.Run partial = api.run(Path.of("."), Map.of(), "bash", "-c", uninstall);
        assertEquals(0, partial.exit(), partial.output());
        assertNothingLeft();
    }

    private static void install() throws IOException {
        String rendered = render("deploy") + "\n---\n" + render("deploy/audit/fix");
        String supported = Arrays.stream(rendered.split("(?m)^---\\s*$"))
                .filter(doc -> UNSUPPORTED_BY_1_20.stream().noneMatch(kind -> doc.contains("\nkind: " + kind + "\n")
                        || doc.startsWith("kind: " + kind + "\n")))
                .collect(Collectors.joining("\n---\n"))
                // 1.20 has no preStop sleep action (1.29+); the pod never runs here anyway
                .replaceAll("(?s)\n( +)lifecycle:\n\\1 +preStop:\n\\1 +sleep:\n\\1 +seconds: \\d+", "");
        // --validate=false: kubectl would refuse matchConditions (1.30+) by 1.20's schema; the server drops it, as the class comment says
        RealApiServer.Run apply = api.kubectlWithInput(supported, "apply", "--validate=false", "-f", "-");
        assertEquals(0, apply.exit(), apply.output());
        // What a 1.21+ API server does for every namespace; the webhook's namespaceSelector relies on it.
        RealApiServer.Run label = api.kubectl("label", "namespace", NS, "kubernetes.io/metadata.name=" + NS, "--overwrite");
        assertEquals(0, label.exit(), label.output());
    }

    private static String render(String directory) {
        RealApiServer.Run run = api.kubectl("kustomize", directory);
        assertEquals(0, run.exit(), run.output());
        return run.output();
    }

    private static void assertCan(boolean expected, String user, String verb, String resource, String... scope) {
        List<String> args = new java.util.ArrayList<>(List.of("auth", "can-i", verb, resource, "--as=" + user));
        args.addAll(List.of(scope));
        RealApiServer.Run run = api.kubectl(args.toArray(String[]::new));
        assertEquals(expected ? "yes" : "no", run.output().strip().lines().reduce((a, b) -> b).orElse(""),
                user + " " + verb + " " + resource + ": " + run.output());
    }

    private static void assertNothingLeft() {
        String selector = "app.kubernetes.io/part-of=dockerconfig-webhook,app.kubernetes.io/managed-by!=Helm";
        RealApiServer.Run left = api.kubectl("get", "mutatingwebhookconfigurations,clusterroles,clusterrolebindings",
                "-l", selector, "-o", "name");
        assertEquals(0, left.exit(), left.output());
        assertEquals("", left.output().replace("No resources found", "").strip(), "cluster-scoped objects left");
        Namespace namespace = client.namespaces().withName(NS).get();
        assertTrue(namespace == null || namespace.getMetadata().getDeletionTimestamp() != null,
                "the namespace (and with it the Secrets holding the CA key) is being deleted");
    }

    private static void awaitNamespaceGoneOrTerminating() {
        Namespace namespace = client.namespaces().withName(NS).get();
        assertTrue(namespace == null || namespace.getMetadata().getDeletionTimestamp() != null);
    }

    /**
     * kube-api-test runs no controller manager, so a deleted namespace stays Terminating; do the namespace
     * controller's part (delete what is in it, drop the finalizer) so that the next install can create it again.
     */
    private static void forceFinishNamespace() throws InterruptedException {
        Namespace namespace = client.namespaces().withName(NS).get();
        if (namespace == null) return;
        client.secrets().inNamespace(NS).delete();
        client.serviceAccounts().inNamespace(NS).delete();
        client.apps().deployments().inNamespace(NS).delete();
        client.services().inNamespace(NS).delete();
        client.network().v1().networkPolicies().inNamespace(NS).delete();
        String finalized = "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"" + NS
                + "\"},\"spec\":{\"finalizers\":[]}}";
        RealApiServer.Run run = api.kubectlWithInput(finalized, "replace", "--raw", "/api/v1/namespaces/" + NS + "/finalize", "-f", "-");
        assertEquals(0, run.exit(), run.output());
        for (int i = 0; i < 100 && client.namespaces().withName(NS).get() != null; i++) {
            Thread.sleep(100);
        }
    }

    /** The first bash block of a section of docs/operations.md: the test runs exactly what users copy. */
    static String documentedCommand(String section) throws IOException {
        String readme = Files.readString(Path.of("docs/operations.md"));
        Matcher m = Pattern.compile("(?s)\n## " + Pattern.quote(section) + "\n.*?```bash\n(.*?)```").matcher(readme);
        assertTrue(m.find(), "docs/operations.md has a bash block under ## " + section);
        return m.group(1);
    }
}
