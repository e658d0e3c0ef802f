package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.audit.SecretAudit.Mode;
import dev.dockerconfigwebhook.audit.SecretAudit.Status;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code audit}: finds pull secrets that were broken before the webhook existed, and with {@code --fix} repairs them
 * with the webhook's rules. Exit code 0 when every secret in scope is consistent (after any fix), 1 when something
 * would change or cannot be fixed, 2 on error.
 */
@Command(name = "audit", mixinStandardHelpOptions = true, sortOptions = false, version = "dockerconfig-webhook audit",
        description = {"Lists kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg Secrets whose auth disagrees "
                + "with username/password (the webhook's rules), and fixes them with --fix.",
                "Connects like kubectl: the current kubeconfig context, or the service account inside a pod."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every secret in scope is consistent", "1:something would change, or cannot be fixed",
                "2:error (permissions, connection, kubeconfig, a failed update)"})
public final class AuditCommand implements Callable<Integer> {

    public static final int CONSISTENT = 0;
    public static final int FINDINGS = 1;
    public static final int ERROR = 2;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "Only this namespace (default: all namespaces).")
    String namespace;

    @Option(names = "--fix", description = "Write the corrected data back (update with the read resourceVersion).")
    boolean fix;

    @Option(names = "--dry-run", description = "With --fix: send the updates as server-side dry-runs and report the outcome.")
    boolean dryRun;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (default) or json.")
    String output = "text";

    @Option(names = "--include-skipped", description = "Also audit what the webhook skips: the opt-out label, ESO-managed secrets, excluded namespaces.")
    boolean includeSkipped;

    @Option(names = "--exclude-namespace", paramLabel = "NS", split = ",",
            description = "Namespaces the webhook excludes (default: kube-system,dockerconfig-webhook).")
    Set<String> excludedNamespaces = new LinkedHashSet<>(SecretAudit.DEFAULT_EXCLUDED_NAMESPACES);

    @Option(names = "--opt-out-label", paramLabel = "KEY",
            description = "The webhook's opt-out label: Secrets with KEY=true are skipped (default: " + SecretAudit.SKIP_LABEL + ").")
    String optOutLabel = SecretAudit.SKIP_LABEL;

    @Option(names = "--page-size", paramLabel = "N", description = "Secrets per list request (default: 500).")
    int pageSize = 500;

    private final Supplier<KubernetesClient> clients;
    private final PrintWriter out;

    public AuditCommand(Supplier<KubernetesClient> clients, PrintWriter out) {
        this.clients = clients;
        this.out = out;
    }

    /** Runs the command line {@code args} (after the word {@code audit}) against the default kubeconfig. */
    public static int run(String... args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        return execute(() -> clientFor(configuration()), out, err, args);
    }

    /** kubeconfig's current context, or the pod's service account; a missing or unreadable one is the user's to fix. */
    private static Config configuration() {
        Config config;
        try {
            config = Config.autoConfigure(null);
        } catch (RuntimeException e) {
            throw new AuditSetupException("the kubeconfig cannot be read (" + e.getClass().getSimpleName()
                    + "): check KUBECONFIG or ~/.kube/config");
        }
        boolean inCluster = Files.exists(Path.of(Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH));
        if (!inCluster && (config.getCurrentContext() == null)) {
            throw new AuditSetupException("no kubeconfig context found (set KUBECONFIG or create ~/.kube/config) "
                    + "and not running inside a cluster");
        }
        return config;
    }

    /** A problem with how the audit was started, stated as the one line to print. */
    static final class AuditSetupException extends RuntimeException {
        AuditSetupException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * A client for {@code config} (kubeconfig's current context outside a cluster, the service account inside one)
     * that gives up on an unreachable API server after a few seconds instead of fabric8's default ten retries.
     */
    static KubernetesClient clientFor(Config config) {
        return new KubernetesClientBuilder().withConfig(new ConfigBuilder(config)
                .withRequestRetryBackoffLimit(2)
                .withConnectionTimeout(5_000)
                .build()).build();
    }

    static int execute(Supplier<KubernetesClient> clients, PrintWriter out, PrintWriter err, String... args) {
        CommandLine line = new CommandLine(new AuditCommand(clients, out)).setOut(out).setErr(err)
                .setParameterExceptionHandler((e, a) -> {
                    err.println("audit: " + e.getMessage());
                    err.println("usage: audit [--namespace NS] [--fix [--dry-run]] [--output text|json] (--help for all)");
                    return ERROR;
                })
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    if (e instanceof AuditSetupException) {
                        err.println("audit: " + e.getMessage());
                        return ERROR;
                    }
                    String namespace = cmd.<AuditCommand>getCommand().namespace;
                    err.println("audit: " + AuditErrors.describe(e, "listing secrets"
                            + (namespace == null ? " in all namespaces" : " in namespace " + namespace)));
                    return ERROR;
                });
        return line.execute(args);
    }

    @Override
    public Integer call() {
        if (!output.equals("text") && !output.equals("json")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--output takes text or json");
        }
        if (dryRun && !fix) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--dry-run goes with --fix");
        }
        if (pageSize < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--page-size must be at least 1");
        }
        Mode mode = !fix ? Mode.REPORT : dryRun ? Mode.DRY_RUN : Mode.FIX;
        SecretAudit.Options options = new SecretAudit.Options(namespace, mode, includeSkipped, excludedNamespaces,
                optOutLabel, pageSize);
        Map<Status, Integer> counts = new EnumMap<>(Status.class);
        try (KubernetesClient client = clients.get(); Report report = output.equals("json") ? new JsonReport(out) : new TextReport(out)) {
            new SecretAudit(client, options).run(secret -> {
                counts.merge(secret.status(), 1, Integer::sum);
                report.secret(secret);
            });
            report.summary(counts);
        }
        if (counts.getOrDefault(Status.FAILED, 0) + counts.getOrDefault(Status.CONFLICT, 0) > 0) {
            return ERROR;
        }
        // Secrets count by their worst registry: one that cannot be fixed keeps the exit code at 1 after --fix.
        int open = counts.getOrDefault(Status.FIXABLE, 0) + counts.getOrDefault(Status.WOULD_FIX, 0)
                + counts.getOrDefault(Status.UNFIXABLE, 0) + counts.getOrDefault(Status.BROKEN, 0);
        return open > 0 ? FINDINGS : CONSISTENT;
    }
}
