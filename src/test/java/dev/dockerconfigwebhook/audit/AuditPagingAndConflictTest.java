package dev.dockerconfigwebhook.audit;

import io.fabric8.kubernetes.api.model.ListMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.SecretListBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static dev.dockerconfigwebhook.audit.AuditCommandTest.STALE;
import static dev.dockerconfigwebhook.audit.AuditCommandTest.FIXED;
import static dev.dockerconfigwebhook.audit.AuditCommandTest.CONSISTENT;
import static dev.dockerconfigwebhook.testing.Base64Text.b64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Paging and optimistic concurrency. The mock server answers recorded expectations first and falls back to CRUD,
 * which rejects an update whose resourceVersion is not the stored one (409), as a real API server does.
 */
@EnableKubernetesMockClient(crud = true)
class AuditPagingAndConflictTest {

    private static final String LIST = "/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fdockerconfigjson&limit=2";

    KubernetesClient client;
    KubernetesMockServer server;

    @Test
    void followsContinueTokensAcrossPages() {
        server.expect().get().withPath(LIST).andReturn(200, new SecretListBuilder()
                .withMetadata(new ListMetaBuilder().withContinue("page2").build())
                .withItems(secret("a", "s1", STALE, "1"), secret("a", "s2", CONSISTENT, "1")).build()).once();
        server.expect().get().withPath("/api/v1/secrets?continue=page2&fieldSelector=type%3Dkubernetes.io%2Fdockerconfigjson&limit=2")
                .andReturn(200, new SecretListBuilder().withMetadata(new ListMetaBuilder().build())
                        .withItems(secret("b", "s3", STALE, "1")).build()).once();

        StringWriter out = new StringWriter();
        int exit = AuditCommand.execute(() -> AuditCommand.clientFor(client.getConfiguration()), new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true), "--page-size", "2");

        assertEquals(AuditCommand.FINDINGS, exit, out.toString());
        assertTrue(out.toString().contains("fixable\ta/s1\tghcr.io"), out.toString());
        assertTrue(out.toString().contains("fixable\tb/s3\tghcr.io"), "the second page was read: " + out);
        assertTrue(out.toString().contains("scanned 3 pull secrets: 1 consistent, 0 skipped, 0 fixed, 0 would-fix, 2 fixable"), out.toString());
    }

    @Test
    void tenThousandSecretsAcrossTwentyPages() {
        int pages = 20;
        int perPage = 500;
        String base = "/api/v1/secrets?%sfieldSelector=type%%3Dkubernetes.io%%2Fdockerconfigjson&limit=" + perPage;
        for (int page = 0; page < pages; page++) {
            SecretListBuilder list = new SecretListBuilder().withMetadata(new ListMetaBuilder()
                    .withContinue(page + 1 < pages ? "p" + (page + 1) : null).build());
            for (int i = 0; i < perPage; i++) {
                // Every 100th secret is stale; the rest are consistent.
                list.addToItems(secret("ns" + page, "s" + i, i % 100 == 0 ? STALE : CONSISTENT, "1"));
            }
            server.expect().get().withPath(String.format(base, page == 0 ? "" : "continue=p" + page + "&"))
                    .andReturn(200, list.build()).once();
        }
        StringWriter out = new StringWriter();
        int exit = AuditCommand.execute(() -> AuditCommand.clientFor(client.getConfiguration()), new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true), "--page-size", String.valueOf(perPage));

        assertEquals(AuditCommand.FINDINGS, exit);
        assertTrue(out.toString().endsWith(
                "scanned 10000 pull secrets: 9900 consistent, 0 skipped, 0 fixed, 0 would-fix, 100 fixable, 0 broken, 0 unfixable, 0 conflict, 0 failed\n"), out.toString());
        assertEquals(100, out.toString().lines().filter(l -> l.startsWith("fixable\t")).count());
    }

    @Test
    void conflictingEditIsReReadAndKept() {
        // The stored secret was edited by someone else after the audit listed it: a new label, another data key
        // changed and still the stale auth. The list (recorded) hands the audit the older snapshot.
        Secret stored = client.secrets().inNamespace("team-a").resource(secret("team-a", "stale", STALE, null)).create();
        Secret snapshot = new SecretBuilder(stored).build();
        stored.getMetadata().getLabels().put("edited-by", "someone-else");
        stored.getData().put("other", b64("changed concurrently"));
        Secret concurrent = client.secrets().inNamespace("team-a").resource(stored).update();
        assertTrue(Integer.parseInt(concurrent.getMetadata().getResourceVersion())
                > Integer.parseInt(snapshot.getMetadata().getResourceVersion()));
        server.expect().get().withPath("/api/v1/namespaces/team-a/secrets?fieldSelector=type%3Dkubernetes.io%2Fdockerconfigjson&limit=500")
                .andReturn(200, new SecretListBuilder().withMetadata(new ListMetaBuilder().build()).withItems(snapshot).build())
                .once();

        StringWriter out = new StringWriter();
        int exit = AuditCommand.execute(() -> AuditCommand.clientFor(client.getConfiguration()), new PrintWriter(out, true),
                new PrintWriter(new StringWriter(), true), "--fix", "--namespace", "team-a");

        assertEquals(AuditCommand.CONSISTENT, exit, out.toString());
        assertTrue(out.toString().contains("fixed\tteam-a/stale\tghcr.io"), out.toString());
        Secret after = client.secrets().inNamespace("team-a").withName("stale").get();
        assertEquals(FIXED, new String(Base64.getDecoder().decode(after.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8));
        assertEquals("someone-else", after.getMetadata().getLabels().get("edited-by"), "the concurrent edit survives");
        assertEquals(b64("changed concurrently"), after.getData().get("other"), "the concurrent edit survives");
    }

    @Test
    void missingPermissionIsOneClearLineAndExitTwo() {
        server.expect().get().withPath("/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fdockerconfigjson&limit=500")
                .andReturn(403, new io.fabric8.kubernetes.api.model.StatusBuilder().withCode(403).withReason("Forbidden")
                        .withMessage("secrets is forbidden: User \"system:serviceaccount:x:y\" cannot list resource").build())
                .always();
        StringWriter err = new StringWriter();
        int exit = AuditCommand.execute(() -> AuditCommand.clientFor(client.getConfiguration()),
                new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
        assertEquals(AuditCommand.ERROR, exit);
        assertEquals("audit: forbidden (403): missing RBAC permission for listing secrets in all namespaces\n", err.toString());
    }

    private static Secret secret(String namespace, String name, String document, String resourceVersion) {
        return new SecretBuilder().withNewMetadata().withNamespace(namespace).withName(name)
                .withResourceVersion(resourceVersion).withLabels(new java.util.HashMap<>(Map.of("app", "x"))).endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withData(new java.util.HashMap<>(Map.of(".dockerconfigjson", b64(document), "other", b64("untouched"))))
                .build();
    }
}
