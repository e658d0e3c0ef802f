package dev.dockerconfigwebhook.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.dockerconfigwebhook.audit.SecretAudit.Mode;
import dev.dockerconfigwebhook.audit.SecretAudit.SecretReport;
import dev.dockerconfigwebhook.audit.SecretAudit.Status;
import dev.dockerconfigwebhook.core.Finding;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
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
        SecretAudit.Options options = new SecretAudit.Options(namespace, mode, includeSkipped, excludedNamespaces, pageSize);
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
        int open = counts.getOrDefault(Status.FIXABLE, 0) + counts.getOrDefault(Status.WOULD_FIX, 0)
                + counts.getOrDefault(Status.UNFIXABLE, 0);
        return open > 0 ? FINDINGS : CONSISTENT;
    }

    /** Output of one run: a line (or JSON object) per secret that matters, then the summary. */
    interface Report extends AutoCloseable {
        void secret(SecretReport secret);

        void summary(Map<Status, Integer> counts);

        @Override
        void close();
    }

    static int scanned(Map<Status, Integer> counts) {
        return counts.values().stream().mapToInt(Integer::intValue).sum();
    }

    /** {@code STATUS NAMESPACE/NAME REGISTRY: REASON}; consistent secrets are only counted. */
    static final class TextReport implements Report {
        private final PrintWriter out;

        TextReport(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void secret(SecretReport s) {
            String status = s.status().label();
            String secret = s.namespace() + "/" + s.name();
            if (s.status() == Status.CONSISTENT) {
                return;
            }
            if (s.status() == Status.SKIPPED) {
                out.println(status + "\t" + secret + "\t" + s.skipReason());
                return;
            }
            for (Finding f : s.findings()) {
                out.println(status + "\t" + secret + "\t" + f.subject() + "\t" + f.kind().reason());
            }
            if (s.error() != null) {
                out.println(status + "\t" + secret + "\t" + s.error());
            }
        }

        @Override
        public void summary(Map<Status, Integer> c) {
            out.println("scanned " + scanned(c) + " pull secrets: " + c.getOrDefault(Status.CONSISTENT, 0) + " consistent, "
                    + (c.getOrDefault(Status.FIXABLE, 0) + c.getOrDefault(Status.WOULD_FIX, 0)) + " fixable, "
                    + c.getOrDefault(Status.FIXED, 0) + " fixed, " + c.getOrDefault(Status.UNFIXABLE, 0) + " unfixable, "
                    + c.getOrDefault(Status.SKIPPED, 0) + " skipped, "
                    + (c.getOrDefault(Status.FAILED, 0) + c.getOrDefault(Status.CONFLICT, 0)) + " failed");
        }

        @Override
        public void close() {
            out.flush();
        }
    }

    /** {@code {"secrets":[...],"summary":{...}}}, streamed so that ten thousand secrets need no buffering. */
    static final class JsonReport implements Report {
        private final JsonGenerator json;

        JsonReport(PrintWriter out) {
            try {
                json = new JsonFactory().createGenerator(out);
                json.writeStartObject();
                json.writeArrayFieldStart("secrets");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void secret(SecretReport s) {
            if (s.status() == Status.CONSISTENT) {
                return;
            }
            try {
                json.writeStartObject();
                json.writeStringField("namespace", s.namespace());
                json.writeStringField("name", s.name());
                json.writeStringField("type", s.type());
                json.writeStringField("status", s.status().label());
                if (s.skipReason() != null) json.writeStringField("skipReason", s.skipReason());
                if (s.error() != null) json.writeStringField("error", s.error());
                json.writeArrayFieldStart("registries");
                for (Finding f : s.findings()) {
                    json.writeStartObject();
                    json.writeStringField("registry", f.subject());
                    json.writeStringField("finding", f.kind().name().toLowerCase().replace('_', '-'));
                    json.writeStringField("category", f.category().name().toLowerCase());
                    json.writeStringField("reason", f.kind().reason());
                    json.writeEndObject();
                }
                json.writeEndArray();
                json.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void summary(Map<Status, Integer> c) {
            try {
                json.writeEndArray();
                json.writeObjectFieldStart("summary");
                json.writeNumberField("scanned", scanned(c));
                for (Status status : List.of(Status.CONSISTENT, Status.FIXABLE, Status.WOULD_FIX, Status.FIXED,
                        Status.UNFIXABLE, Status.SKIPPED, Status.CONFLICT, Status.FAILED)) {
                    json.writeNumberField(status.name().toLowerCase().replace("_", ""), c.getOrDefault(status, 0));
                }
                json.writeEndObject();
                json.writeEndObject();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                json.writeRaw('\n');
                json.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
