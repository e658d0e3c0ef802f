package dev.dockerconfigwebhook.cluster;

import com.marcnuri.helm.Helm;
import dev.dockerconfigwebhook.packaged.PackagedWebhook;
import dev.dockerconfigwebhook.testing.Docs;
import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Trust in self-managed certificates, tried from outside on a real API server: the chart rendered with a 30-character
 * release name and applied, and the packaged jar started twice as its two pods (the Deployment's JAVA_OPTS and
 * WEBHOOK_* values, impersonating its ServiceAccount so that the chart's RBAC applies). The configuration gets one
 * webhook per pod, called by URL, so that every write goes through both and both must be trusted.
 *
 * <p>Throughout each test a writer changes a pull secret through the API server every 0.25 s (no client retry) and a
 * prober opens a new TLS connection to each pod every 0.5 s and checks the certificate it meets against the live
 * caBundle of every webhook: neither may ever fail.
 *
 * <p>Applied as far as 1.20 supports it (HelmChartOnRealApiServerIT says what is filtered): no PDB, no
 * ValidatingAdmissionPolicy, no preStop sleep, matchConditions dropped. The certificate's service name is "localhost", matching the webhook URLs.
 */
@RequiresRealApiServer
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CertificateTrustIT {

    private static final KubernetesSerialization YAML = new KubernetesSerialization();
    private static final String RELEASE = "platform-trust-production-abc1";
    private static final String NAMESPACE = "trust-it";
    private static final String WRITES = "trust-writes";
    /** The CA and TLS Secrets' first line of defence against GitOps pruning: the tests fail if they are not there. */
    private static final Map<String, String> ARGO_ANNOTATIONS = Map.of("argocd.argoproj.io/compare-options",
            "IgnoreExtraneous", "argocd.argoproj.io/sync-options", "Prune=false");

    private static RealApiServer api;
    private static KubernetesClient client;
    private static String fullname;
    private static String manifest;
    private static String configurationYaml;
    private static String bindingYaml;
    private static Map<String, String> deploymentEnv;
    private static final int[] PORTS = new int[2];
    private static final int[] MANAGEMENT = new int[2];
    private static final List<Process> pods = new ArrayList<>();
    private static final Path[] LOGS = new Path[2];

    @BeforeAll
    static void install() throws Exception {
        api = RealApiServer.shared();
        client = api.client();
        api.namespace(NAMESPACE);
        api.namespace(WRITES);
        for (int i = 0; i < 2; i++) {
            PORTS[i] = PackagedWebhook.freePort();
            MANAGEMENT[i] = PackagedWebhook.freePort();
            LOGS[i] = Path.of("target/it-logs/trust-" + (char) ('a' + i) + ".log");
        }
        assertEquals(30, RELEASE.length());
        String rendered = new Helm(Path.of("deploy/helm/dockerconfig-webhook")).template().withName(RELEASE)
                .withNamespace(NAMESPACE).withKubeVersion("1.30.0").set("image.repository", "registry.example/dcw")
                .set("podDisruptionBudget.enabled", false)
                .set("serviceAccountPolicy.enabled", false).call();
        StringBuilder all = new StringBuilder();
        for (String document : rendered.split("(?m)^---\\s*$")) {
            if (document.lines().noneMatch(l -> l.startsWith("kind:"))) continue;
            HasMetadata object = YAML.unmarshal(document, HasMetadata.class);
            assertTrue(!(object instanceof Secret), "the chart renders no Secret with self-managed certificates");
            if (object instanceof Deployment deployment) {
                var container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
                container.setLifecycle(null); // 1.20 has no preStop sleep; no pod runs here anyway
                deploymentEnv = new HashMap<>();
                for (EnvVar e : container.getEnv()) {
                    if (e.getName().startsWith("WEBHOOK_") && e.getValue() != null) deploymentEnv.put(e.getName(), e.getValue());
                }
            }
            if (object instanceof MutatingWebhookConfiguration config) {
                fullname = config.getMetadata().getName();
                MutatingWebhook template = config.getWebhooks().get(0);
                template.setMatchConditions(null); // 1.20 would drop them anyway
                List<MutatingWebhook> perPod = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    MutatingWebhook webhook = new MutatingWebhookBuilder(template).withName("pod-" + i + "." + template.getName())
                            .build();
                    webhook.getClientConfig().setService(null);
                    webhook.getClientConfig().setUrl("https://localhost:" + PORTS[i] + "/mutate");
                    perPod.add(webhook);
                }
                config.setWebhooks(perPod);
                configurationYaml = YAML.asYaml(config);
            }
            String yaml = YAML.asYaml(object);
            if (object.getKind().equals("ClusterRoleBinding") && object.getMetadata().getName().endsWith("-ca-bundle")) {
                bindingYaml = yaml;
            }
            all.append("---\n").append(yaml);
        }
        manifest = all.toString();
        RealApiServer.Run apply = api.kubectlWithInput(manifest, "apply", "--validate=false", "-f", "-");
        assertEquals(0, apply.exit(), apply.output());
        assertTrue(bindingYaml != null, "the chart binds the pods to their configuration");
    }

    @AfterEach
    void stopPods() {
        pods.forEach(Process::destroy);
        pods.clear();
    }

    @AfterAll
    static void uninstall() {
        if (api == null) return;
        api.kubectlWithInput(manifest, "delete", "--ignore-not-found", "--wait=false", "-f", "-");
        api.kubectl("-n", NAMESPACE, "delete", "secret", "-l", "dockerconfig-webhook/release=" + RELEASE);
        client.close();
    }

    @Test
    @Order(1)
    void fromNothingTheFirstWriteAtTheInstantBothPodsAreReadySucceeds() throws Exception {
        int startups = Integer.getInteger("startups", 1); // bench/certificate-startup.sh asks for more
        for (int round = 1; round <= startups; round++) {
            stopPods();
            resetToNothing();
            long start = System.nanoTime();
            startPods(Map.of());
            awaitBothReady();
            long ready = System.nanoTime();
            try (KubernetesClient noRetry = noRetryClient()) {
                Secret written = noRetry.secrets().inNamespace(WRITES).resource(pullSecret("first-" + round, "p1", "stale")).create();
                assertEquals(auth("p1"), storedAuth(written), "the first write is fixed");
            }
            String figure = "from nothing to both pods ready and trusted: %d ms (round %d of %d)%n"
                    .formatted((ready - start) / 1_000_000, round, startups);
            System.out.print(figure);
            Files.writeString(Path.of("target/it-logs/trust-startup.txt"), figure, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }

        Secret ca = client.secrets().inNamespace(NAMESPACE).withName(fullname + "-ca").get();
        X509Certificate onlyCa = certificates(ca.getData().get("tls.crt")).get(0);
        assertNull(ca.getData().get("pending.crt"), "the first CA was promoted");
        int created = 0;
        for (Path log : LOGS) created += (int) Files.readAllLines(log).stream().filter(l -> l.contains("created the CA Secret")).count();
        assertEquals(1, created, "exactly one pod made the CA; the other adopted it");
        for (int port : PORTS) assertTrue(issuedBy(served(port), onlyCa), "pod on " + port + " serves a certificate of it");
        for (List<X509Certificate> bundle : caBundles()) assertEquals(List.of(onlyCa), bundle, "caBundle is exactly it");
        for (Secret secret : List.of(ca, client.secrets().inNamespace(NAMESPACE).withName(fullname + "-tls").get())) {
            assertNull(secret.getMetadata().getLabels().get("app.kubernetes.io/instance"), "no GitOps tool claims it");
            assertEquals(RELEASE, secret.getMetadata().getLabels().get("dockerconfig-webhook/release"));
            assertTrue(secret.getMetadata().getAnnotations().entrySet().containsAll(ARGO_ANNOTATIONS.entrySet()));
        }
        String metrics = get("http://localhost:" + MANAGEMENT[0] + "/q/metrics");
        assertTrue(metrics.contains("webhook_ca_bundle_trusted 1.0"), "trusted gauge");
        assertTrue(metrics.contains("webhook_ca_bundle_certificates 1.0"), "one CA in caBundle");
    }

    @Test
    @Order(2)
    void secretsPrunedAgainAndAgainNeverBreakTrustNorGrowCaBundle() throws Exception {
        // What an earlier version left: the Secrets labelled with the release's instance label. They are adopted.
        X509Certificate ca = certificates(client.secrets().inNamespace(NAMESPACE).withName(fullname + "-ca").get()
                .getData().get("tls.crt")).get(0);
        assertEquals(0, api.kubectl("-n", NAMESPACE, "label", "secret", fullname + "-ca", fullname + "-tls",
                "app.kubernetes.io/instance=" + RELEASE).exit());
        startPods(Map.of());
        awaitBothReady();
        awaitTrue(Duration.ofSeconds(10), "relabelled", () -> client.secrets().inNamespace(NAMESPACE)
                .withLabel("app.kubernetes.io/instance", RELEASE).list().getItems().isEmpty());
        assertEquals(ca, certificates(client.secrets().inNamespace(NAMESPACE).withName(fullname + "-ca").get()
                .getData().get("tls.crt")).get(0), "adopted, not replaced");

        try (Traffic traffic = Traffic.start()) {
            long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            int prunes = 0;
            while (System.nanoTime() < end) {
                // A label-tracking pruner: every Secret with the release's instance label that the chart does not render.
                api.kubectl("-n", NAMESPACE, "delete", "secret", "-l", "app.kubernetes.io/instance=" + RELEASE);
                // And the CA and TLS Secrets by name.
                api.kubectl("-n", NAMESPACE, "delete", "secret", fullname + "-ca", fullname + "-tls", "--ignore-not-found");
                prunes++;
                Thread.sleep(5_000);
            }
            traffic.assertClean(120); // at least two writes a second: the writer was never stuck
            assertTrue(prunes >= 11, "pruned " + prunes + " times");
            System.out.printf("pruned %d times: %s%n", prunes, traffic);
        }
    }

    @Test
    @Order(3)
    void aKeeperBlockedPastTheOverlapKeepsServingTheTrustedCaThenPromotesAndRetires() throws Exception {
        resetToNothing();
        // CA 90 s: the next CA is made 60 s in, due to sign at 75 s; the old one expires at 90 s.
        Duration overlap = Duration.ofSeconds(15);
        startPods(Map.of("WEBHOOK_CERTIFICATES_LIFETIME", "30s", "WEBHOOK_CERTIFICATES_CA_LIFETIME", "90s",
                "WEBHOOK_CERTIFICATES_OVERLAP", "15s"));
        awaitBothReady();
        X509Certificate first = signingCa().orElseThrow();
        Instant t0 = first.getNotBefore().toInstant().plus(Duration.ofMinutes(5)); // made 5 minutes backdated
        try (Traffic traffic = Traffic.start()) {
            assertEquals(0, api.kubectl("delete", "clusterrolebinding", fullname + "-ca-bundle").exit(), "binding taken away");

            awaitTrue(Duration.ofSeconds(80), "the pending CA written", () -> pendingCa().isPresent());
            X509Certificate next = pendingCa().orElseThrow();
            sleepUntil(t0.plus(Duration.ofSeconds(75 + 5))); // well past the moment it was due to sign
            assertEquals(first, signingCa().orElseThrow(), "no promotion without caBundle's trust");
            for (int i = 0; i < 2; i++) {
                assertTrue(issuedBy(served(PORTS[i]), first), "the trusted CA's certificate is served");
                String readiness = get("http://localhost:" + MANAGEMENT[i] + "/q/health/ready");
                assertTrue(readiness.contains("\"status\": \"UP\""), readiness);
                assertTrue(readiness.contains("read caBundle: forbidden"), "readiness says why: " + readiness);
                assertTrue(readiness.contains("the pending CA is due to sign but caBundle does not trust it yet"), readiness);
                assertTrue(get("http://localhost:" + MANAGEMENT[i] + "/q/metrics").contains("webhook_ca_bundle_trusted 1.0"));
            }
            assertTrue(Files.readString(LOGS[0]).contains("read caBundle: forbidden"), "one WARN names the cause");
            for (String part : Docs.fixedParts(Docs.quote("README.md", q -> q.startsWith("certificates: read caBundle")))) {
                assertTrue(Files.readString(LOGS[0]).contains(part), "README's troubleshooting quotes it: " + part);
            }

            assertEquals(0, api.kubectlWithInput(bindingYaml, "apply", "-f", "-").exit(), "binding given back");
            awaitTrue(Duration.ofSeconds(8), "promoted", () -> next.equals(signingCa().orElse(null))
                    && issuedBy(served(PORTS[0]), next) && issuedBy(served(PORTS[1]), next));
            Instant promoted = Instant.now();
            assertTrue(promoted.isBefore(first.getNotAfter().toInstant()), "before the old CA expired");
            // One overlap and one period (1 s) after the promotion, and 2 s for this poll and the round itself.
            awaitTrue(overlap.plusSeconds(1 + 2), "the retired CA leaves caBundle within one overlap and one period",
                    () -> caBundles().stream().allMatch(b -> b.equals(List.of(next))));
            long retiredAfter = Duration.between(promoted, Instant.now()).toMillis();
            traffic.assertClean(100);
            System.out.printf("blocked past the overlap, promoted, retired %d ms after the promotion was seen: %s%n",
                    retiredAfter, traffic);
        }
        assertNotEquals(first, signingCa().orElseThrow());
    }

    /** The writer and the prober, on their own threads, with what they counted. */
    private static final class Traffic implements AutoCloseable {
        final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicInteger writes = new AtomicInteger();
        final AtomicInteger connections = new AtomicInteger();
        final AtomicInteger largestBundle = new AtomicInteger();
        final List<String> failures = Collections.synchronizedList(new ArrayList<>());
        final List<Thread> threads = new ArrayList<>();

        static Traffic start() {
            Traffic traffic = new Traffic();
            traffic.threads.add(new Thread(traffic::write, "writer"));
            traffic.threads.add(new Thread(traffic::probe, "prober"));
            traffic.threads.forEach(Thread::start);
            return traffic;
        }

        private void write() {
            try (KubernetesClient noRetry = noRetryClient()) {
                noRetry.secrets().inNamespace(WRITES).withName("rotating").delete();
                while (running.get()) {
                    int n = writes.incrementAndGet();
                    try {
                        Secret written = noRetry.secrets().inNamespace(WRITES)
                                .resource(pullSecret("rotating", "p" + n, "stale")).createOr(existing -> existing.update());
                        if (!auth("p" + n).equals(storedAuth(written))) failures.add("write " + n + ": not fixed");
                    } catch (RuntimeException e) {
                        failures.add("write " + n + ": " + e.getMessage());
                    }
                    pause(250);
                }
            }
        }

        private void probe() {
            while (running.get()) {
                for (int port : PORTS) {
                    try {
                        X509Certificate met = served(port);
                        connections.incrementAndGet();
                        List<List<X509Certificate>> bundles = caBundles();
                        bundles.forEach(b -> largestBundle.accumulateAndGet(b.size(), Math::max));
                        boolean trusted = bundles.stream().allMatch(b -> b.stream().anyMatch(ca -> issuedBy(met, ca)));
                        if (!trusted) failures.add("connection to " + port + " met a certificate caBundle does not trust");
                    } catch (Exception e) {
                        failures.add("connection to " + port + ": " + e);
                    }
                }
                pause(500);
            }
        }

        void assertClean(int minimumWrites) {
            close();
            assertEquals(List.of(), failures, "no failed write, no untrusted connection; see " + LOGS[0] + ", " + LOGS[1]);
            assertTrue(writes.get() >= minimumWrites, "the writer kept writing: " + writes);
            assertTrue(largestBundle.get() <= 3, "caBundle held " + largestBundle + " CAs");
        }

        @Override
        public void close() {
            running.set(false);
            for (Thread thread : threads) {
                try {
                    thread.join(15_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public String toString() {
            return writes + " writes, " + connections + " new connections, caBundle at most " + largestBundle
                    + " CAs, " + failures.size() + " failures";
        }

        private static void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The two pods, as the Deployment runs them, acting as its ServiceAccount. */
    private static void startPods(Map<String, String> overrides) throws Exception {
        for (int i = 0; i < 2; i++) {
            Map<String, String> env = new HashMap<>(deploymentEnv);
            env.putAll(Map.of("WEBHOOK_CERTIFICATES_NAMESPACE", NAMESPACE, "WEBHOOK_CERTIFICATES_SERVICE", "localhost",
                    "WEBHOOK_CERTIFICATES_CHECK_PERIOD", "1s", "KUBECONFIG", api.kubeconfig().toString(),
                    "KUBERNETES_IMPERSONATE_USERNAME", "system:serviceaccount:" + NAMESPACE + ":" + fullname,
                    "KUBERNETES_IMPERSONATE_GROUP", "system:serviceaccounts,system:serviceaccounts:" + NAMESPACE
                            + ",system:authenticated",
                    "QUARKUS_HTTP_SSL_PORT", String.valueOf(PORTS[i]), "QUARKUS_MANAGEMENT_PORT", String.valueOf(MANAGEMENT[i])));
            env.putAll(overrides);
            pods.add(PackagedWebhook.launchAsDeployed(LOGS[i], env));
        }
    }

    /** Polls both pods' readiness every 10 ms; returns at the first instant both report ready. */
    private static void awaitBothReady() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        boolean[] ready = new boolean[2];
        while (!(ready[0] && ready[1])) {
            for (int i = 0; i < 2; i++) {
                if (ready[i]) continue;
                try {
                    HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + MANAGEMENT[i] + "/q/health/ready"))
                            .timeout(Duration.ofSeconds(2)).build();
                    ready[i] = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
                } catch (java.io.IOException notYet) {
                    // not listening yet
                }
                if (!pods.get(i).isAlive()) throw new AssertionError("pod " + i + " exited; see " + LOGS[i]);
            }
            if (System.nanoTime() > end) throw new AssertionError("not both ready within 60 s; see " + LOGS[0] + ", " + LOGS[1]);
            Thread.sleep(10);
        }
    }

    /** No Secret, and the configuration as the chart renders it (no caBundle). */
    private static void resetToNothing() {
        api.kubectl("-n", NAMESPACE, "delete", "secret", fullname + "-ca", fullname + "-tls", "--ignore-not-found");
        RealApiServer.Run replaced = api.kubectlWithInput(configurationYaml, "replace", "-f", "-");
        assertEquals(0, replaced.exit(), replaced.output());
        assertTrue(caBundles().stream().allMatch(List::isEmpty));
    }

    private static KubernetesClient noRetryClient() {
        Config config = Config.fromKubeconfig(api.kubeconfig().toFile());
        config.setRequestRetryBackoffLimit(0);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    private static java.util.Optional<X509Certificate> signingCa() throws Exception {
        return caCertificate("tls.crt");
    }

    private static java.util.Optional<X509Certificate> pendingCa() throws Exception {
        return caCertificate("pending.crt");
    }

    private static java.util.Optional<X509Certificate> caCertificate(String key) throws Exception {
        Secret ca = client.secrets().inNamespace(NAMESPACE).withName(fullname + "-ca").get();
        if (ca == null || ca.getData() == null || ca.getData().get(key) == null) return java.util.Optional.empty();
        return java.util.Optional.of(certificates(ca.getData().get(key)).get(0));
    }

    /** The live caBundle of every webhook of the configuration. */
    private static List<List<X509Certificate>> caBundles() {
        List<List<X509Certificate>> bundles = new ArrayList<>();
        for (MutatingWebhook webhook : client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(fullname)
                .get().getWebhooks()) {
            String bundle = webhook.getClientConfig().getCaBundle();
            try {
                bundles.add(bundle == null || bundle.isEmpty() ? List.of() : certificates(bundle));
            } catch (Exception e) {
                bundles.add(List.of());
            }
        }
        return bundles;
    }

    private static Secret pullSecret(String name, String password, String authPassword) {
        String document = "{\"auths\":{\"r.example\":{\"username\":\"alice\",\"password\":\"" + password
                + "\",\"auth\":\"" + auth(authPassword) + "\"}}}";
        return new SecretBuilder().withNewMetadata().withName(name).endMetadata().withType("kubernetes.io/dockerconfigjson")
                .withData(Map.of(".dockerconfigjson", Base64.getEncoder().encodeToString(document.getBytes(StandardCharsets.UTF_8))))
                .build();
    }

    private static String auth(String password) {
        return Base64.getEncoder().encodeToString(("alice:" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String storedAuth(Secret secret) {
        String document = new String(Base64.getDecoder().decode(secret.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
        int at = document.indexOf("\"auth\":\"") + 8;
        return document.substring(at, document.indexOf('"', at));
    }

    /** The certificate a pod serves to a new connection (trusting anything: it is inspected, not trusted). */
    private static X509Certificate served(int port) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[] {new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        }}, null);
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", port)) {
            socket.setSoTimeout(5_000);
            socket.startHandshake();
            return (X509Certificate) socket.getSession().getPeerCertificates()[0];
        }
    }

    private static boolean issuedBy(X509Certificate certificate, X509Certificate ca) {
        try {
            certificate.verify(ca.getPublicKey());
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static List<X509Certificate> certificates(String base64Pem) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        for (var c : CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(Base64.getDecoder().decode(base64Pem)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    private static String get(String url) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static void sleepUntil(Instant when) throws InterruptedException {
        long millis = Duration.between(Instant.now(), when).toMillis();
        if (millis > 0) Thread.sleep(millis);
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Duration timeout, String what, Check check) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (!check.holds()) {
            if (System.nanoTime() > end) throw new AssertionError(what + ": not within " + timeout);
            Thread.sleep(200);
        }
    }
}
