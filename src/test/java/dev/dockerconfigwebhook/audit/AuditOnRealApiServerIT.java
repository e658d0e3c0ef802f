package dev.dockerconfigwebhook.audit;

import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static dev.dockerconfigwebhook.audit.AuditCommandTest.CONSISTENT;
import static dev.dockerconfigwebhook.audit.AuditCommandTest.FIXED;
import static dev.dockerconfigwebhook.audit.AuditCommandTest.STALE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit against a real API server, where the mock server cannot tell: list paging with {@code limit} and
 * {@code continue}, a real 409 on a concurrent edit, server-side dry-run, and how dry-run is authorized.
 */
@RequiresRealApiServer
class AuditOnRealApiServerIT {

    private static RealApiServer api;
    private static KubernetesClient admin;

    @BeforeAll
    static void start() {
        api = RealApiServer.shared();
        admin = api.client();
    }

    @AfterAll
    static void close() {
        admin.close();
    }

    /**
     * The packaged audit, as the CronJob runs it (its JAVA_OPTS: -Xmx80m), over 48 pull secrets of about 1 MiB each,
     * all in one page of the default 500: about 60 MB of Secret data, more than its whole heap. A page is read one
     * Secret at a time, so it finishes and reports every one (before, the page was held whole: out of memory).
     */
    @Test
    void pullSecretsOfOneMebibyteInOnePageStayInsideTheAuditsHeap() throws Exception {
        String ns = namespace("audit-large");
        String document = dev.dockerconfigwebhook.testing.Reviews.staleDocument(10_500);
        assertTrue(document.length() > 900_000 && document.length() < 1024 * 1024, "about 1 MiB: " + document.length());
        for (int i = 0; i < 48; i++) create(ns, "large-" + i, document);

        String cronJob = java.util.Arrays.stream(java.nio.file.Files.readString(java.nio.file.Path.of("deploy/audit/manifests.yaml"))
                .split("(?m)^---\\n")).filter(d -> d.contains("\nkind: CronJob\n")).findFirst().orElseThrow();
        var cron = new io.fabric8.kubernetes.client.utils.KubernetesSerialization().unmarshal(cronJob,
                io.fabric8.kubernetes.api.model.batch.v1.CronJob.class);
        String javaOpts = cron.getSpec().getJobTemplate().getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()
                .stream().filter(e -> e.getName().equals("JAVA_OPTS")).findFirst().orElseThrow().getValue();
        java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("java"));
        command.addAll(java.util.List.of(javaOpts.trim().split("\\s+")));
        command.addAll(java.util.List.of("-jar", "target/quarkus-app/quarkus-run.jar", "audit", "-n", ns));
        RealApiServer.Run run = api.run(java.nio.file.Path.of("."), Map.of(), command.toArray(String[]::new));

        assertEquals(AuditCommand.FINDINGS, run.exit(), "exit 1 (findings), not 3 (out of memory): " + run.output());
        for (int i = 0; i < 48; i++) {
            assertTrue(run.output().contains("fixable\t" + ns + "/large-" + i + "\t"), "large-" + i + " reported");
        }
        admin.secrets().inNamespace(ns).delete(); // the other classes share this etcd: give the 60 MB back
    }

    record Result(int exit, String out, String err) {
    }

    @Test
    void readsEveryPageOfALargeNamespaceWithContinueTokens() {
        String ns = namespace("audit-pages");
        for (int i = 0; i < 7; i++) {
            create(ns, "s" + i, i < 4 ? STALE : CONSISTENT);
        }
        // Distinct requests: a list request sent again on a fresh connection (the pooled one had just closed) is one.
        java.util.Set<String> pageRequests = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Result result = audit(builder -> builder.addOrReplaceInterceptor("count-pages", new Interceptor() {
            @Override
            public void before(BasicBuilder b, HttpRequest request, RequestTags tags) {
                String query = String.valueOf(request.uri().getRawQuery());
                if (!query.contains("dockerconfigjson")) return; // the dockercfg type is listed separately: no secrets
                if (request.method().equals("GET") && query.contains("limit=2")) pageRequests.add(query);
            }
        }), null, "-n", ns, "--page-size", "2");

        assertEquals(AuditCommand.FINDINGS, result.exit(), result.out() + result.err());
        assertEquals(4, pageRequests.size(), "7 secrets in pages of 2: " + pageRequests);
        assertEquals(3, pageRequests.stream().filter(q -> q.contains("continue=")).count(),
                "pages 2 to 4 were asked for with the server's continue token");
        for (int i = 0; i < 4; i++) {
            assertTrue(result.out().contains("fixable\t" + ns + "/s" + i + "\tghcr.io"), result.out());
        }
        assertTrue(result.out().contains("scanned 7 pull secrets: 3 consistent, 0 skipped, 0 fixed, 0 would-fix, 4 fixable"), result.out());
    }

    @Test
    void aConcurrentEditGetsA409AndIsNeverOverwritten() {
        String ns = namespace("audit-conflict");
        create(ns, "racy", STALE);
        AtomicBoolean edited = new AtomicBoolean();
        AtomicInteger updates = new AtomicInteger();
        Result result = audit(builder -> builder.addOrReplaceInterceptor("edit-first", new Interceptor() {
            @Override
            public void before(BasicBuilder b, HttpRequest request, RequestTags tags) {
                if (!request.method().equals("PUT")) return;
                updates.incrementAndGet();
                if (edited.compareAndSet(false, true)) {
                    // Someone else edits the secret between the audit's read and its update.
                    admin.secrets().inNamespace(ns).withName("racy").edit(s -> new SecretBuilder(s)
                            .editMetadata().addToLabels("edited-by", "someone-else").endMetadata().build());
                }
            }
        }), null, "-n", ns, "--fix");

        assertEquals(AuditCommand.CONSISTENT, result.exit(), result.out() + result.err());
        assertEquals(2, updates.get(), "the first update was refused (409), the second, after a re-read, stored");
        Secret stored = admin.secrets().inNamespace(ns).withName("racy").get();
        assertEquals("someone-else", stored.getMetadata().getLabels().get("edited-by"), "the concurrent edit is kept");
        assertEquals(FIXED, document(stored));
        assertTrue(result.out().contains("fixed\t" + ns + "/racy"), result.out());
    }

    @Test
    void dryRunReportsWhatWouldBeStoredAndStoresNothing() {
        String ns = namespace("audit-dry-run");
        create(ns, "stale", STALE);
        String before = admin.secrets().inNamespace(ns).withName("stale").get().getMetadata().getResourceVersion();

        Result result = audit(b -> { }, null, "-n", ns, "--fix", "--dry-run");

        assertEquals(AuditCommand.FINDINGS, result.exit(), result.out() + result.err());
        assertTrue(result.out().contains("would-fix\t" + ns + "/stale"), result.out());
        Secret stored = admin.secrets().inNamespace(ns).withName("stale").get();
        assertEquals(before, stored.getMetadata().getResourceVersion(), "nothing written");
        assertEquals(STALE, document(stored));
    }

    @Test
    void dryRunIsAuthorizedAsTheWriteItWouldBe() {
        // The report CronJob's role (deploy/audit/manifests.yaml: get and list secrets), bound to a test user.
        String ns = namespace("audit-dry-run-rbac");
        create(ns, "stale", STALE);
        assertEquals(0, api.kubectlWithInput("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRole
                metadata: {name: audit-it-report}
                rules: [{apiGroups: [""], resources: ["secrets"], verbs: ["get", "list"]}]
                ---
                apiVersion: rbac.authorization.k8s.io/v1
                kind: ClusterRoleBinding
                metadata: {name: audit-it-report}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: audit-it-report}
                subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: audit-it-reader}]
                """, "apply", "-f", "-").exit());

        Result report = audit(b -> { }, "audit-it-reader", "-n", ns);
        assertEquals(AuditCommand.FINDINGS, report.exit(), "reporting needs only get/list: " + report.err());

        Result dryRun = audit(b -> { }, "audit-it-reader", "-n", ns, "--fix", "--dry-run");
        assertEquals(AuditCommand.ERROR, dryRun.exit(), dryRun.out() + dryRun.err());
        assertTrue((dryRun.out() + dryRun.err()).contains("forbidden (403)"), dryRun.out() + dryRun.err());
    }

    private static Result audit(Consumer<io.fabric8.kubernetes.client.http.HttpClient.Builder> http, String impersonate,
            String... args) {
        Config base = Config.fromKubeconfig(readKubeconfig());
        ConfigBuilder config = new ConfigBuilder(AuditCommand.clientFor(base).getConfiguration());
        if (impersonate != null) config.withImpersonateUsername(impersonate);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = AuditCommand.execute(() -> new KubernetesClientBuilder().withConfig(config.build())
                        .withHttpClientBuilderConsumer(http).build(),
                new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Result(exit, out.toString(), err.toString());
    }

    private static String readKubeconfig() {
        try {
            return java.nio.file.Files.readString(api.kubeconfig());
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String namespace(String name) {
        RealApiServer.Run run = api.kubectl("create", "namespace", name);
        assertEquals(0, run.exit(), run.output());
        return name;
    }

    private static void create(String ns, String name, String document) {
        admin.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName(name).endMetadata()
                .withType("kubernetes.io/dockerconfigjson")
                .withData(Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(document.getBytes(StandardCharsets.UTF_8))))
                .build()).create();
    }

    private static String document(Secret secret) {
        return new String(Base64.getDecoder().decode(secret.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
    }
}
