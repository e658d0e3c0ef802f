package dev.dockerconfigwebhook.packaged;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;

/**
 * `java -jar quarkus-run.jar audit` as an admin runs it: the real entry point, a kubeconfig file, no certificate,
 * against fabric8's mock API server.
 */
@EnableKubernetesMockClient(crud = true)
class AuditCommandIT {

    KubernetesClient client;

    @TempDir
    Path tmp;

    @Test
    void auditsAndFixesThroughTheKubeconfigsCurrentContext() throws Exception {
        String stale = "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"rotated-token\",\"auth\":\""
                + b64("alice:old-token") + "\"}}}";
        client.secrets().inNamespace("team-a").resource(new SecretBuilder().withNewMetadata().withName("regcred")
                .withNamespace("team-a").endMetadata().withType("kubernetes.io/dockerconfigjson")
                .withData(Map.of(".dockerconfigjson", b64(stale))).build()).create();
        Path kubeconfig = tmp.resolve("kubeconfig");
        Files.writeString(kubeconfig, "apiVersion: v1\nkind: Config\n"
                + "clusters: [{name: mock, cluster: {server: \"" + client.getConfiguration().getMasterUrl()
                + "\", insecure-skip-tls-verify: true}}]\n"
                + "users: [{name: admin, user: {token: not-a-secret}}]\n"
                + "contexts: [{name: mock, context: {cluster: mock, user: admin}}]\n"
                + "current-context: mock\n");

        Run report = audit(kubeconfig);
        assertEquals(1, report.exit(), report.output());
        assertTrue(report.output().contains("fixable\tteam-a/regcred\tghcr.io\tauth recomputed"), report.output());

        Run fix = audit(kubeconfig, "--fix");
        assertEquals(0, fix.exit(), fix.output());
        assertTrue(fix.output().contains("scanned 1 pull secrets: 0 consistent, 0 skipped, 1 fixed"), fix.output());
        String stored = new String(Base64.getDecoder().decode(client.secrets().inNamespace("team-a").withName("regcred")
                .get().getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
        assertEquals(stale.replace(b64("alice:old-token"), b64("alice:rotated-token")), stored);
        assertFalse(report.output().contains("rotated-token") || fix.output().contains("rotated-token"));

        Run missing = audit(tmp.resolve("no-such-kubeconfig"));
        assertEquals(2, missing.exit(), missing.output());
        assertTrue(missing.output().startsWith("audit: no kubeconfig context found"), missing.output());
    }

    record Run(int exit, String output) {
    }

    private static Run audit(Path kubeconfig, String... args) throws Exception {
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of(
                "java", "-jar", "target/quarkus-app/quarkus-run.jar", "audit"));
        command.addAll(java.util.List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("KUBECONFIG", kubeconfig.toString());
        builder.environment().remove("KUBERNETES_SERVICE_HOST");
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "audit finished");
        return new Run(process.exitValue(), output);
    }

}
