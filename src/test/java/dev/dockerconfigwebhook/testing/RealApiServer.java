package dev.dockerconfigwebhook.testing;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One real kube-apiserver (+ etcd) per test JVM, from fabric8's kube-api-test and the offline binaries that
 * {@code ../shared/tools/kube-api-test-binaries/install.sh} builds (1.20.2). Test classes that need it are annotated
 * {@link RequiresRealApiServer}, so a machine without the binaries skips them with a reason instead of failing.
 * Started on first use, stopped when the JVM exits: the
 * classes share it (each works in namespaces and objects of its own).
 */
public final class RealApiServer {

    public static final String VERSION = "1.20.2";

    private static RealApiServer shared;

    private final KubeAPIServer server;
    private final Path kubeconfig;

    private RealApiServer(KubeAPIServer server, Path kubeconfig) {
        this.server = server;
        this.kubeconfig = kubeconfig;
    }

    /** Where kube-api-test looks for binaries ({@code KUBE_API_TEST_DIR}, else its default {@code ~/.kubeapitest}). */
    public static Path binaryDirectory() {
        return Path.of(Optional.ofNullable(System.getenv("KUBE_API_TEST_DIR"))
                .orElse(System.getProperty("user.home") + "/.kubeapitest"));
    }

    /** The condition of {@link RequiresRealApiServer}: evaluated before anything starts. */
    public static boolean binariesInstalled() {
        return Files.isExecutable(binaryDirectory().resolve("k8s/" + VERSION + "-linux-amd64/kube-apiserver"));
    }

    public static synchronized RealApiServer shared() {
        if (shared == null) {
            KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                    .withOfflineMode(true).withApiServerVersion(VERSION).withUpdateKubeConfig(false).build());
            server.start();
            try {
                Path kubeconfig = Files.createTempFile("kube-api-test-", ".kubeconfig");
                Files.writeString(kubeconfig, server.getKubeConfigYaml());
                shared = new RealApiServer(server, kubeconfig);
            } catch (IOException e) {
                server.stop();
                throw new UncheckedIOException(e);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-api-test-stop"));
        }
        return shared;
    }

    /** A kubeconfig file with cluster-admin rights (client certificate) for kubectl and the webhook process. */
    public Path kubeconfig() {
        return kubeconfig;
    }

    public KubernetesClient client() {
        return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(server.getKubeConfigYaml())).build();
    }

    /** The result of a command run against this server. */
    public record Run(int exit, String output) {
    }

    /** Runs {@code command} with KUBECONFIG pointing here (kubectl on PATH is the one users have). */
    public Run run(Path workingDirectory, Map<String, String> env, String... command) {
        return runWithInput(workingDirectory, env, null, command);
    }

    public Run runWithInput(Path workingDirectory, Map<String, String> env, String stdin, String... command) {
        try {
            ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true)
                    .directory(workingDirectory.toFile());
            builder.environment().put("KUBECONFIG", kubeconfig.toString());
            builder.environment().putAll(env);
            Process process = builder.start();
            if (stdin != null) {
                process.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            process.getOutputStream().close();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(120, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + String.join(" ", command));
            }
            return new Run(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * Creates (or keeps) namespace {@code name} with the {@code kubernetes.io/metadata.name} label that 1.21+ sets on
     * every namespace and 1.20 does not: the webhook configurations select namespaces by it.
     */
    public void namespace(String name) {
        Run created = kubectlWithInput("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: %s
                  labels: {kubernetes.io/metadata.name: %s}
                """.formatted(name, name), "apply", "-f", "-");
        if (created.exit() != 0) throw new AssertionError("namespace " + name + ": " + created.output());
    }

    /**
     * Creates MutatingWebhookConfiguration {@code name} with one webhook (name pullsecrets.dockerconfig-webhook.dev,
     * review version v1, no side effects) whose further fields are {@code fields}: YAML indented by four spaces.
     */
    public Run createWebhookConfiguration(String name, String fields) {
        return kubectlWithInput("""
                apiVersion: admissionregistration.k8s.io/v1
                kind: MutatingWebhookConfiguration
                metadata:
                  name: %s
                webhooks:
                  - name: pullsecrets.dockerconfig-webhook.dev
                    admissionReviewVersions: ["v1"]
                    sideEffects: None
                %s""".formatted(name, fields), "create", "-f", "-");
    }

    public Run kubectl(String... args) {
        return kubectlWithInput(null, args);
    }

    public Run kubectlWithInput(String stdin, String... args) {
        List<String> command = new ArrayList<>(List.of("kubectl"));
        command.addAll(List.of(args));
        return runWithInput(Path.of("."), Map.of(), stdin, command.toArray(String[]::new));
    }
}
