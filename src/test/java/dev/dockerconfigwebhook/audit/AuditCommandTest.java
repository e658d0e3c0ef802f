package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.testing.TestLog;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;

/** The audit command against fabric8's mock API server in CRUD mode: real list/get/update semantics. */
@EnableKubernetesMockClient(crud = true)
class AuditCommandTest {

    KubernetesClient client;
    KubernetesMockServer server;

    static final String STALE = "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"rotated-token\",\"auth\":\""
            + b64("alice:old-token") + "\"}}}";
    static final String FIXED = STALE.replace(b64("alice:old-token"), b64("alice:rotated-token"));
    static final String CONSISTENT = "{\"auths\":{\"quay.io\":{\"username\":\"bob\",\"password\":\"hunter2\",\"auth\":\""
            + b64("bob:hunter2") + "\"}}}";
    static final String UNFIXABLE = "{\"auths\":{\"r.io:5000\":{\"username\":\"user:with:colon\",\"password\":\"p4ss\"}}}";
    static final String LEGACY_STALE = "{\"https://index.docker.io/v1/\":{\"username\":\"carol\",\"password\":\"s3cret\",\"auth\":\""
            + b64("carol:old") + "\"}}";
    static final List<String> CREDENTIALS = List.of("rotated-token", "old-token", "hunter2", "p4ss", "s3cret",
            b64("alice:old-token"), b64("alice:rotated-token"), b64("bob:hunter2"), "user:with:colon");

    record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void secrets() {
        create("team-a", "stale", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", STALE, Map.of());
        create("team-a", "consistent", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", CONSISTENT, Map.of());
        create("team-b", "unfixable", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", UNFIXABLE, Map.of());
        create("team-b", "legacy", "kubernetes.io/dockercfg", ".dockercfg", LEGACY_STALE, Map.of());
        create("team-b", "opted-out", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", STALE,
                Map.of("dockerconfig-webhook/skip", "true"));
        create("team-b", "eso", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", STALE,
                Map.of("reconcile.external-secrets.io/managed", "true"));
        create("kube-system", "system", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", STALE, Map.of());
        create("team-a", "opaque", "Opaque", ".dockerconfigjson", STALE, Map.of());
    }

    @Test
    void reportsWhatWouldChangeAndTouchesNothing() {
        Run run = audit();
        assertEquals(AuditCommand.FINDINGS, run.exit(), run.err());
        assertTrue(run.out().contains("fixable\tteam-a/stale\tghcr.io\tauth recomputed from username/password"), run.out());
        assertTrue(run.out().contains("fixable\tteam-b/legacy\thttps://index.docker.io/v1/\tauth recomputed"), run.out());
        assertTrue(run.out().contains("unfixable\tteam-b/unfixable\tr.io:5000\tusername contains ':'"), run.out());
        assertTrue(run.out().contains("skipped\tteam-b/opted-out\tlabelled dockerconfig-webhook/skip=true"), run.out());
        assertTrue(run.out().contains("skipped\tteam-b/eso\tmanaged by External Secrets Operator"), run.out());
        assertTrue(run.out().contains("skipped\tkube-system/system\tnamespace excluded"), run.out());
        assertFalse(run.out().contains("opaque"), "only pull secrets are audited");
        assertFalse(run.out().contains("team-a/consistent"), "consistent secrets are only counted");
        assertTrue(run.out().endsWith("scanned 7 pull secrets: 1 consistent, 3 skipped, 0 fixed, 0 would-fix, 2 fixable, "
                + "0 broken, 1 unfixable, 0 conflict, 0 failed\n"), run.out());
        assertEquals(STALE, document("team-a", "stale"), "report mode writes nothing");
        assertNoCredentials(run);
    }

    @Test
    void fixWritesOnlyTheOneDataKeyAndIsThenConsistent() {
        Secret before = get("team-a", "stale");
        Run run = audit("--fix");
        assertEquals(AuditCommand.FINDINGS, run.exit(), "the unfixable secret is still open: " + run.out());
        assertTrue(run.out().contains("fixed\tteam-a/stale\tghcr.io"), run.out());
        assertTrue(run.out().contains("fixed\tteam-b/legacy"), run.out());

        Secret after = get("team-a", "stale");
        assertEquals(FIXED, document("team-a", "stale"));
        assertEquals(before.getData().get("other"), after.getData().get("other"), "other data keys are untouched");
        assertEquals(before.getMetadata().getLabels(), after.getMetadata().getLabels());
        assertEquals(before.getMetadata().getAnnotations(), after.getMetadata().getAnnotations());
        assertEquals(STALE, document("team-b", "opted-out"), "skipped secrets are not written");
        assertEquals(STALE, document("team-b", "eso"));
        assertEquals(STALE, document("kube-system", "system"));

        Run again = audit("--fix", "--namespace", "team-a");
        assertEquals(AuditCommand.CONSISTENT, again.exit(), again.out());
        assertTrue(again.out().contains("scanned 2 pull secrets: 2 consistent"), again.out());
        assertNoCredentials(run);
    }

    @Test
    void dryRunSendsServerSideDryRunsAndReportsTheOutcome() throws Exception {
        // The mock's CRUD store ignores dryRun, so the dry-run is answered as a real API server would: with the
        // object that would be stored, storing nothing.
        Secret wouldBe = get("team-a", "stale");
        wouldBe.getData().put(".dockerconfigjson", b64(FIXED));
        server.expect().put().withPath("/api/v1/namespaces/team-a/secrets/stale?dryRun=All").andReturn(200, wouldBe).once();
        int before = server.getRequestCount();
        Run run = audit("--fix", "--dry-run", "--namespace", "team-a");
        assertEquals(AuditCommand.FINDINGS, run.exit(), "nothing was changed, so something would still change");
        assertTrue(run.out().contains("would-fix\tteam-a/stale\tghcr.io"), run.out());
        assertTrue(run.out().contains("scanned 2 pull secrets: 1 consistent, 0 skipped, 0 fixed, 1 would-fix, 0 fixable"), run.out());
        boolean sawDryRunPut = false;
        for (int i = 0; i < server.getRequestCount(); i++) {
            var request = server.takeRequest();
            if (i >= before && request.getMethod().equals("PUT")) {
                assertTrue(request.getPath().contains("dryRun=All"), request.getPath());
                sawDryRunPut = true;
            }
        }
        assertTrue(sawDryRunPut, "the update went to the API server as a dry-run");
        assertEquals(STALE, document("team-a", "stale"), "a dry-run stores nothing");
    }

    @Test
    void includeSkippedAuditsEverything() {
        Run run = audit("--include-skipped", "--fix");
        assertTrue(run.out().contains("fixed\tkube-system/system"), run.out());
        assertTrue(run.out().contains("fixed\tteam-b/eso"), run.out());
        assertEquals(FIXED, document("team-b", "opted-out"));
    }

    @Test
    void aCustomOptOutLabelIsTheOneSkipped() {
        // The chart passes webhook.optOutLabel here: the default label then means nothing to the webhook, nor to the audit.
        create("team-a", "custom-opt-out", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", STALE,
                Map.of("example.com/no-fix", "true"));
        Run run = audit("--opt-out-label", "example.com/no-fix", "--fix");
        assertTrue(run.out().contains("skipped\tteam-a/custom-opt-out\tlabelled example.com/no-fix=true"), run.out());
        assertEquals(STALE, document("team-a", "custom-opt-out"));
        assertEquals(FIXED, document("team-b", "opted-out"), "the default label is not an opt-out any more");
    }

    @Test
    void namespaceScopeAndJsonOutput() throws Exception {
        Run run = audit("--namespace", "team-b", "--output", "json");
        assertEquals(AuditCommand.FINDINGS, run.exit(), run.err());
        JsonNode json = new ObjectMapper().readTree(run.out());
        assertEquals(4, json.path("summary").path("scanned").asInt());
        assertEquals(1, json.path("summary").path("fixable").asInt());
        assertEquals(1, json.path("summary").path("unfixable").asInt());
        assertEquals(2, json.path("summary").path("skipped").asInt());
        JsonNode legacy = null;
        for (JsonNode s : json.path("secrets")) {
            assertEquals("team-b", s.path("namespace").asText());
            if (s.path("name").asText().equals("legacy")) legacy = s;
        }
        assertEquals("fixable", legacy.path("status").asText());
        assertEquals("https://index.docker.io/v1/", legacy.path("registries").get(0).path("registry").asText());
        assertEquals("auth-recomputed", legacy.path("registries").get(0).path("finding").asText());
        assertNoCredentials(run);
    }

    /** One registry the rules fix and one they cannot, in the same secret. */
    static final String MIXED = "{\"auths\":{\"ghcr.io\":{\"username\":\"alice\",\"password\":\"rotated-token\",\"auth\":\""
            + b64("alice:old-token") + "\"},\"r.io:5000\":{\"username\":\"user:with:colon\",\"password\":\"p\"}}}";

    @Test
    void aMixedSecretShowsEachRegistrysStatusAndStaysOpenAfterTheFix() throws Exception {
        create("team-c", "mixed", "kubernetes.io/dockerconfigjson", ".dockerconfigjson", MIXED, Map.of());

        Run report = audit("--namespace", "team-c");
        assertEquals(AuditCommand.FINDINGS, report.exit());
        assertTrue(report.out().contains("fixable\tteam-c/mixed\tghcr.io\tauth recomputed"), report.out());
        assertTrue(report.out().contains("unfixable\tteam-c/mixed\tr.io:5000\tusername contains ':'"), report.out());
        assertTrue(report.out().contains(": 0 consistent, 0 skipped, 0 fixed, 0 would-fix, 0 fixable, 0 broken, 1 unfixable"),
                "counted by its worst registry: " + report.out());

        Run fix = audit("--namespace", "team-c", "--fix");
        assertEquals(AuditCommand.FINDINGS, fix.exit(), "the README: 1 while anything cannot be fixed: " + fix.out());
        assertTrue(fix.out().contains("fixed\tteam-c/mixed\tghcr.io"), fix.out());
        assertTrue(fix.out().contains("unfixable\tteam-c/mixed\tr.io:5000"), fix.out());
        assertFalse(fix.out().contains("fixed\tteam-c/mixed\tr.io:5000"), fix.out());
        assertTrue(document("team-c", "mixed").contains(b64("alice:rotated-token")), "the fixable registry was fixed");

        Run json = audit("--namespace", "team-c", "--output", "json");
        JsonNode secret = new ObjectMapper().readTree(json.out()).path("secrets").get(0);
        assertEquals("unfixable", secret.path("status").asText());
        assertEquals(1, secret.path("registries").size(), "the fixed registry is consistent now: " + json.out());
        assertEquals("unfixable", secret.path("registries").get(0).path("status").asText());
    }

    @Test
    void jsonSummaryUsesTheTextOutputsStatusNames() throws Exception {
        Run run = audit("--output", "json");
        JsonNode summary = new ObjectMapper().readTree(run.out()).path("summary");
        for (SecretAudit.Status status : SecretAudit.Status.values()) {
            assertTrue(summary.has(status.label()), status.label() + " in " + summary);
        }
        assertTrue(summary.has("would-fix"));
        assertFalse(summary.has("wouldfix"));
        assertTrue(run.out().contains("\"status\":\"fixable\""));
    }

    @Test
    void allConsistentExitsZero() {
        Run run = audit("--namespace", "team-a");
        assertEquals(AuditCommand.FINDINGS, run.exit());
        audit("--fix", "--namespace", "team-a");
        assertEquals(AuditCommand.CONSISTENT, audit("--namespace", "team-a").exit());
    }

    @Test
    void badArgumentsExitTwo() {
        assertEquals(AuditCommand.ERROR, audit("--output", "yaml").exit());
        assertEquals(AuditCommand.ERROR, audit("--dry-run").exit());
        assertEquals(AuditCommand.ERROR, audit("--bogus").exit());
    }

    @Test
    void unreachableApiServerIsOneClearLineAndExitTwo() {
        server.destroy();
        Run run = audit();
        assertEquals(AuditCommand.ERROR, run.exit());
        assertEquals(1, run.err().lines().count(), run.err());
        assertTrue(run.err().startsWith("audit: cannot reach the API server"), run.err());
    }

    Run audit(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        KubernetesClient shared = client;
        int exit = AuditCommand.execute(() -> AuditCommand.clientFor(shared.getConfiguration()),
                new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
    }

    private void assertNoCredentials(Run run) {
        TestLog.assertNoneOf(CREDENTIALS, run.out() + run.err(), "the audit's output");
    }

    void create(String namespace, String name, String type, String key, String document, Map<String, String> labels) {
        client.secrets().inNamespace(namespace).resource(new SecretBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace).withLabels(labels)
                .withAnnotations(Map.of("note", "kept")).endMetadata()
                .withType(type)
                .withData(Map.of(key, b64(document), "other", b64("untouched")))
                .build()).create();
    }

    Secret get(String namespace, String name) {
        return client.secrets().inNamespace(namespace).withName(name).get();
    }

    String document(String namespace, String name) {
        Secret secret = get(namespace, name);
        String key = secret.getType().equals("kubernetes.io/dockercfg") ? ".dockercfg" : ".dockerconfigjson";
        return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
    }

}
