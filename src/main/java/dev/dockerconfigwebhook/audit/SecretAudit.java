package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.core.Finding;
import dev.dockerconfigwebhook.core.Findings;
import dev.dockerconfigwebhook.core.FixResult;
import dev.dockerconfigwebhook.core.PullSecretFixer;
import dev.dockerconfigwebhook.core.PullSecretType;
import dev.dockerconfigwebhook.observability.LogText;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpResponse;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;

/**
 * Finds pull secrets whose {@code auth} disagrees with username/password, with exactly the webhook's rules, and
 * optionally writes the fix back. Lists page by page and reads each page one Secret at a time (so tens of thousands
 * of secrets, of any mix of sizes, stay in the heap of one),
 * updates with the resourceVersion it read (a concurrent edit is never overwritten) and changes only the one data key.
 */
public final class SecretAudit {

    /** Reads list responses as a stream; Secrets are at most 1 MiB of data, far under Jackson's string limit. */
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The opt-out label and namespaces the webhook configuration skips by default (deploy/base, the chart). */
    public static final String SKIP_LABEL = "dockerconfig-webhook/skip";
    public static final String ESO_LABEL = "reconcile.external-secrets.io/managed";
    public static final Set<String> DEFAULT_EXCLUDED_NAMESPACES = Set.of("kube-system", "dockerconfig-webhook");

    static final int MAX_ATTEMPTS = 4;
    /** Sends of one list request before its failure is reported. */
    private static final int LIST_ATTEMPTS = 3;

    public enum Mode { REPORT, FIX, DRY_RUN }

    /**
     * What happened to one registry, and to a secret (its worst registry), from best to worst: the declaration order
     * is the severity that {@link #worst} compares.
     */
    public enum Status {
        CONSISTENT, SKIPPED, FIXED, WOULD_FIX, FIXABLE, BROKEN, UNFIXABLE, CONFLICT, FAILED;

        /** As printed, in text and JSON alike: {@code would-fix}. */
        public String label() {
            return name().toLowerCase().replace('_', '-');
        }

        static Status worst(Status a, Status b) {
            return a.compareTo(b) >= 0 ? a : b;
        }

        /** The status of a registry the rules did not fix: it needs a person, not the audit. */
        static Status of(Finding.Category category) {
            return switch (category) {
                case FIXED -> FIXABLE;
                case UNFIXABLE -> UNFIXABLE;
                case BROKEN -> BROKEN;
            };
        }
    }

    /** One registry of a secret: what the rules found, and what became of it. */
    public record RegistryReport(Finding finding, Status status) {
    }

    /** {@code optOutLabel}: a Secret with this label set to "true" is skipped, as the webhook's objectSelector does. */
    public record Options(String namespace, Mode mode, boolean includeSkipped, Set<String> excludedNamespaces,
            String optOutLabel, int pageSize) {
    }

    /**
     * One secret's outcome: {@code status} is its worst registry's; {@code registries} name registries and fixed
     * reasons only.
     */
    public record SecretReport(String namespace, String name, String type, Status status, String skipReason,
            List<RegistryReport> registries, String error) {
    }

    private final KubernetesClient client;
    private final Options options;
    private final PullSecretFixer fixer = new PullSecretFixer(false, Findings.KEEP_ALL);

    public SecretAudit(KubernetesClient client, Options options) {
        this.client = client;
        this.options = options;
    }

    /** Audits every pull secret in scope, handing each report to {@code sink} as soon as it is known. */
    public void run(Consumer<SecretReport> sink) {
        for (PullSecretType type : PullSecretType.values()) {
            String next = null;
            do {
                next = page(type, next, secret -> {
                    // A server that ignores fieldSelector still only gives us what we asked about.
                    if (type.secretType().equals(secret.getType())) {
                        sink.accept(audit(secret));
                    }
                });
            } while (next != null && !next.isEmpty());
        }
    }

    /**
     * One page of pull secrets of {@code type}, each handed to {@code each} as soon as it has been read from the
     * response, before the next is read: a page is never held whole, so the heap a page needs is that of its largest
     * Secret (at most 1 MiB of data), whatever the page size and the mix of sizes. Returns the continue token.
     */
    private String page(PullSecretType type, String continueToken, Consumer<Secret> each) {
        // The query as fabric8's list() writes it (parameters in alphabetical order).
        StringBuilder uri = new StringBuilder(client.getMasterUrl().toString().replaceAll("/+$", ""))
                .append(options.namespace() == null ? "/api/v1/secrets"
                        : "/api/v1/namespaces/" + encode(options.namespace()) + "/secrets").append('?');
        if (continueToken != null) uri.append("continue=").append(encode(continueToken)).append('&');
        uri.append("fieldSelector=").append(encode("type=" + type.secretType())).append("&limit=").append(options.pageSize());
        HttpClient http = client.getHttpClient();
        HttpResponse<InputStream> response = null;
        for (int attempt = 1; response == null; attempt++) {
            try {
                response = http.sendAsync(http.newHttpRequestBuilder().uri(uri.toString()).build(), InputStream.class).get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KubernetesClientException("interrupted while listing secrets", e);
            } catch (ExecutionException e) {
                // A pooled connection the server had just closed: the GET is safe to send again (fabric8's own list()
                // retries the same way).
                if (attempt == LIST_ATTEMPTS) throw new KubernetesClientException("listing secrets failed", e.getCause());
            }
        }
        try (InputStream body = response.body()) {
            if (!response.isSuccessful()) {
                throw new KubernetesClientException("listing secrets: HTTP " + response.code(), response.code(), null);
            }
            String next = readPage(body, each);
            body.transferTo(OutputStream.nullOutputStream()); // to its end, so that the connection can be reused
            return next;
        } catch (IOException e) {
            throw new KubernetesClientException("reading the list of secrets failed", e);
        }
    }

    /** Reads a SecretList item by item; returns its continue token (null when it has none). */
    private String readPage(InputStream body, Consumer<Secret> each) throws IOException {
        String next = null;
        try (JsonParser parser = JSON.createParser(body).disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) throw new IOException("the list is not a JSON object");
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("metadata") && value == JsonToken.START_OBJECT) {
                    JsonNode metadata = JSON.readTree(parser);
                    next = metadata.path("continue").asText(null);
                } else if (field.equals("items") && value == JsonToken.START_ARRAY) {
                    while (parser.nextToken() == JsonToken.START_OBJECT) {
                        each.accept(client.getKubernetesSerialization().convertValue(JSON.readTree(parser), Secret.class));
                    }
                } else {
                    parser.skipChildren();
                }
            }
        }
        return next;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    SecretReport audit(Secret secret) {
        return audit(secret, 1);
    }

    private SecretReport audit(Secret secret, int attempt) {
        String skip = skipReason(secret);
        if (skip != null) {
            return new SecretReport(secret.getMetadata().getNamespace(), secret.getMetadata().getName(), secret.getType(),
                    Status.SKIPPED, skip, List.of(), null);
        }
        FixResult result = fixer.fix(secret.getType(), secret.getData());
        if (!(result instanceof FixResult.Patched fix)) {
            return report(secret, Status.FIXABLE, result.findings().list(), null);
        }
        if (options.mode() == Mode.REPORT) {
            return report(secret, Status.FIXABLE, fix.findings().list(), null);
        }
        return write(secret, fix, attempt);
    }

    /**
     * Update with the read resourceVersion. On a conflict the secret is re-read and audited again from the start,
     * so a concurrent edit that fixed, skipped or broke it is reported as such and never overwritten.
     */
    private SecretReport write(Secret read, FixResult.Patched fix, int attempt) {
        String namespace = read.getMetadata().getNamespace();
        String name = read.getMetadata().getName();
        try {
            var resource = client.secrets().inNamespace(namespace).resource(withData(read, fix));
            Secret stored = options.mode() == Mode.DRY_RUN ? resource.dryRun().update() : resource.update();
            boolean stillStale = fixer.fix(stored.getType(), stored.getData()) instanceof FixResult.Patched;
            Status status = stillStale ? Status.FAILED : options.mode() == Mode.DRY_RUN ? Status.WOULD_FIX : Status.FIXED;
            return report(read, status, fix.findings().list(),
                    stillStale ? "the API server stored a different document (another webhook?)" : null);
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT || attempt == MAX_ATTEMPTS) {
                return report(read, e.getCode() == HttpURLConnection.HTTP_CONFLICT ? Status.CONFLICT : Status.FAILED,
                        fix.findings().list(), AuditErrors.describe(e, "updating secret " + namespace + "/" + name));
            }
        }
        Secret reread = client.secrets().inNamespace(namespace).withName(name).get();
        if (reread == null) {
            return report(read, Status.CONFLICT, fix.findings().list(), "deleted while being fixed");
        }
        return audit(reread, attempt + 1);
    }

    /** The secret as read, with only the one data key replaced; everything else goes back exactly as read. */
    private static Secret withData(Secret secret, FixResult.Patched fix) {
        Map<String, String> data = new LinkedHashMap<>(secret.getData());
        data.put(fix.dataKey(), fix.base64());
        return new Secret(secret.getApiVersion(), data, secret.getImmutable(), secret.getKind(), secret.getMetadata(),
                null, secret.getType());
    }

    private String skipReason(Secret secret) {
        if (options.includeSkipped()) {
            return null;
        }
        Map<String, String> labels = secret.getMetadata().getLabels() == null ? Map.of() : secret.getMetadata().getLabels();
        if ("true".equals(labels.get(options.optOutLabel()))) {
            return "labelled " + LogText.safe(options.optOutLabel()) + "=true";
        }
        if (labels.containsKey(ESO_LABEL)) {
            return "managed by External Secrets Operator (fix the ExternalSecret template)";
        }
        if (options.excludedNamespaces().contains(secret.getMetadata().getNamespace())) {
            return "namespace excluded from the webhook";
        }
        return null;
    }

    /**
     * @param fixedStatus what became of the registries the rules fixed (fixable, would-fix, fixed, conflict, failed);
     *                    every other registry keeps the status of its finding (unfixable, broken)
     */
    private static SecretReport report(Secret secret, Status fixedStatus, List<Finding> findings, String error) {
        List<RegistryReport> registries = new ArrayList<>(findings.size());
        Status worst = Status.CONSISTENT;
        for (Finding finding : findings) {
            Status status = finding.category() == Finding.Category.FIXED ? fixedStatus : Status.of(finding.category());
            registries.add(new RegistryReport(finding, status));
            worst = Status.worst(worst, status);
        }
        if (error != null) {
            worst = Status.worst(worst, fixedStatus); // a failed write with no fixed registry still counts as failed
        }
        return new SecretReport(secret.getMetadata().getNamespace(), secret.getMetadata().getName(), secret.getType(),
                worst, null, registries, error);
    }
}
