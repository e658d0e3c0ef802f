package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.core.Finding;
import dev.dockerconfigwebhook.core.FixResult;
import dev.dockerconfigwebhook.core.PullSecretFixer;
import dev.dockerconfigwebhook.core.PullSecretType;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.net.HttpURLConnection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Finds pull secrets whose {@code auth} disagrees with username/password, with exactly the webhook's rules, and
 * optionally writes the fix back. Lists page by page (so tens of thousands of secrets stay in bounded memory),
 * updates with the resourceVersion it read (a concurrent edit is never overwritten) and changes only the one data key.
 */
public final class SecretAudit {

    /** Labels and namespaces the webhook configuration skips (deploy/base/mutatingwebhookconfiguration.yaml). */
    public static final String SKIP_LABEL = "dockerconfig-webhook/skip";
    public static final String ESO_LABEL = "reconcile.external-secrets.io/managed";
    public static final Set<String> DEFAULT_EXCLUDED_NAMESPACES = Set.of("kube-system", "dockerconfig-webhook");

    static final int MAX_ATTEMPTS = 4;

    public enum Mode { REPORT, FIX, DRY_RUN }

    /** What happened to one secret. */
    public enum Status {
        CONSISTENT, FIXABLE, FIXED, WOULD_FIX, UNFIXABLE, SKIPPED, CONFLICT, FAILED
    }

    public record Options(String namespace, Mode mode, boolean includeSkipped, Set<String> excludedNamespaces,
            int pageSize) {
    }

    /** One secret's outcome; {@code findings} name registries and fixed reasons only. */
    public record SecretReport(String namespace, String name, String type, Status status, String skipReason,
            List<Finding> findings, String error) {
    }

    private final KubernetesClient client;
    private final Options options;
    private final PullSecretFixer fixer = new PullSecretFixer(false);

    public SecretAudit(KubernetesClient client, Options options) {
        this.client = client;
        this.options = options;
    }

    /** Audits every pull secret in scope, handing each report to {@code sink} as soon as it is known. */
    public void run(Consumer<SecretReport> sink) {
        for (PullSecretType type : PullSecretType.values()) {
            String next = null;
            do {
                ListOptionsBuilder list = new ListOptionsBuilder().withLimit((long) options.pageSize())
                        .withFieldSelector("type=" + type.secretType());
                if (next != null) {
                    list.withContinue(next);
                }
                SecretList page = options.namespace() == null
                        ? client.secrets().inAnyNamespace().list(list.build())
                        : client.secrets().inNamespace(options.namespace()).list(list.build());
                for (Secret secret : page.getItems()) {
                    // A server that ignores fieldSelector still only gives us what we asked about.
                    if (type.secretType().equals(secret.getType())) {
                        sink.accept(audit(secret));
                    }
                }
                next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
            } while (next != null && !next.isEmpty());
        }
    }

    SecretReport audit(Secret secret) {
        String skip = skipReason(secret);
        if (skip != null) {
            return report(secret, Status.SKIPPED, skip, List.of(), null);
        }
        FixResult fix = fixer.fix(secret.getType(), secret.getData());
        if (fix.outcome() != FixResult.Outcome.PATCHED) {
            return report(secret, fix.findings().isEmpty() ? Status.CONSISTENT : Status.UNFIXABLE, null,
                    fix.findings(), null);
        }
        if (options.mode() == Mode.REPORT) {
            return report(secret, Status.FIXABLE, null, fix.findings(), null);
        }
        return write(secret, fix);
    }

    /** Update with the read resourceVersion; on conflict re-read, re-check and retry. */
    private SecretReport write(Secret read, FixResult fix) {
        Secret current = read;
        FixResult currentFix = fix;
        for (int attempt = 1; ; attempt++) {
            Secret desired = withData(current, currentFix);
            try {
                var resource = client.secrets().inNamespace(current.getMetadata().getNamespace()).resource(desired);
                Secret stored = options.mode() == Mode.DRY_RUN ? resource.dryRun().update() : resource.update();
                FixResult after = fixer.fix(stored.getType(), stored.getData());
                Status status = after.outcome() == FixResult.Outcome.PATCHED ? Status.FAILED
                        : options.mode() == Mode.DRY_RUN ? Status.WOULD_FIX : Status.FIXED;
                return report(current, status, null, currentFix.findings(),
                        status == Status.FAILED ? "the API server stored a different document (another webhook?)" : null);
            } catch (KubernetesClientException e) {
                if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt == MAX_ATTEMPTS) {
                    return report(current, e.getCode() == HttpURLConnection.HTTP_CONFLICT ? Status.CONFLICT : Status.FAILED,
                            null, currentFix.findings(), AuditErrors.describe(e));
                }
            }
            Secret reread = client.secrets().inNamespace(read.getMetadata().getNamespace())
                    .withName(read.getMetadata().getName()).get();
            if (reread == null) {
                return report(current, Status.CONFLICT, null, currentFix.findings(), "deleted while being fixed");
            }
            SecretReport recheck = auditWithoutWriting(reread);
            if (recheck != null) {
                return recheck; // someone else made it consistent, skipped or unfixable meanwhile
            }
            current = reread;
            currentFix = fixer.fix(reread.getType(), reread.getData());
        }
    }

    /** The report for a re-read secret that needs no write any more, or null if it still needs the fix. */
    private SecretReport auditWithoutWriting(Secret secret) {
        String skip = skipReason(secret);
        if (skip != null) {
            return report(secret, Status.SKIPPED, skip, List.of(), null);
        }
        FixResult fix = fixer.fix(secret.getType(), secret.getData());
        if (fix.outcome() == FixResult.Outcome.PATCHED) {
            return null;
        }
        return report(secret, fix.findings().isEmpty() ? Status.CONSISTENT : Status.UNFIXABLE, null, fix.findings(), null);
    }

    /** The secret as read, with only the one data key replaced; everything else goes back exactly as read. */
    private static Secret withData(Secret secret, FixResult fix) {
        Map<String, String> data = new LinkedHashMap<>(secret.getData());
        data.put(fix.dataKey(), fix.patchedValue());
        Secret copy = new Secret(secret.getApiVersion(), data, secret.getImmutable(), secret.getKind(),
                secret.getMetadata(), null, secret.getType());
        return copy;
    }

    private String skipReason(Secret secret) {
        if (options.includeSkipped()) {
            return null;
        }
        Map<String, String> labels = secret.getMetadata().getLabels() == null ? Map.of() : secret.getMetadata().getLabels();
        if ("true".equals(labels.get(SKIP_LABEL))) {
            return "labelled " + SKIP_LABEL + "=true";
        }
        if (labels.containsKey(ESO_LABEL)) {
            return "managed by External Secrets Operator (fix the ExternalSecret template)";
        }
        if (options.excludedNamespaces().contains(secret.getMetadata().getNamespace())) {
            return "namespace excluded from the webhook";
        }
        return null;
    }

    private static SecretReport report(Secret secret, Status status, String skipReason, List<Finding> findings,
            String error) {
        return new SecretReport(secret.getMetadata().getNamespace(), secret.getMetadata().getName(), secret.getType(),
                status, skipReason, new ArrayList<>(findings), error);
    }
}
