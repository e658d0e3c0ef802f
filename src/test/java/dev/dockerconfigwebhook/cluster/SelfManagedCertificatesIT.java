package dev.dockerconfigwebhook.cluster;

import dev.dockerconfigwebhook.packaged.PackagedWebhook;
import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Self-managed certificates on a real API server, with the packaged jar started twice as the Deployment's two
 * replicas would be (its JAVA_OPTS, its WEBHOOK_CERTIFICATES_* settings, a kubeconfig instead of a service account):
 * both start from no Secret, exactly one CA results, both serve certificates of it, their caBundle keepers make the API
 * server trust it, and a pull-secret write is fixed. Then, with lifetimes of seconds, a renewal and a whole CA rotation
 * happen while a writer changes a pull secret's password every 0.5 s through both replicas: no write may fail.
 *
 * <p>The API server calls the replicas by URL (https://localhost:PORT), one webhook per replica in one configuration,
 * so every write goes through both. The "Service" is named localhost so that the certificate's bare-name SAN (the
 * Service's name, as for any install) matches that URL.
 */
@RequiresRealApiServer
class SelfManagedCertificatesIT {

    private static final String NAMESPACE = "self-it";
    private static final String SECRETS = "self-it-secrets";
    private static final String CONFIG = "self-it-hook";
    private static final String TLS_SECRET = "self-it-tls";
    private static final String CA_SECRET = "self-it-ca";
    // Serving 20 s (renewed with 6.7 s left), CA 60 s (the next one after 40 s, signing after 50 s), overlap 10 s.
    private static final Map<String, String> LIFETIMES = Map.of("WEBHOOK_CERTIFICATES_LIFETIME", "20s",
            "WEBHOOK_CERTIFICATES_CA_LIFETIME", "60s", "WEBHOOK_CERTIFICATES_OVERLAP", "10s");

    private static final List<Process> replicas = new ArrayList<>();
    private static RealApiServer api;

    @AfterAll
    static void stop() {
        replicas.forEach(Process::destroy);
        if (api != null) api.kubectl("delete", "mutatingwebhookconfiguration", CONFIG, "--ignore-not-found");
    }

    @Test
    void twoReplicasFromNothingShareOneCaAndRotateWithoutAFailedWrite() throws Exception {
        api = RealApiServer.shared();
        assertEquals(0, api.kubectl("create", "namespace", NAMESPACE).exit());
        // Labelled by hand: 1.20 does not yet label namespaces with kubernetes.io/metadata.name.
        assertEquals(0, api.kubectlWithInput("""
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: %s
                  labels: {dockerconfig-webhook-it: self}
                """.formatted(SECRETS), "apply", "-f", "-").exit());
        int[] ports = {PackagedWebhook.freePort(), PackagedWebhook.freePort()};
        int[] management = {PackagedWebhook.freePort(), PackagedWebhook.freePort()};
        Path[] logs = {Path.of("target/it-logs/self-managed-a.log"), Path.of("target/it-logs/self-managed-b.log")};
        for (int i = 0; i < 2; i++) { // both launched before either is ready: they race for the Secrets
            Map<String, String> env = new HashMap<>(LIFETIMES);
            env.putAll(Map.of("QUARKUS_HTTP_SSL_PORT", String.valueOf(ports[i]),
                    "QUARKUS_MANAGEMENT_PORT", String.valueOf(management[i]), "KUBECONFIG", api.kubeconfig().toString(),
                    "WEBHOOK_CERTIFICATES_SOURCE", "self", "WEBHOOK_CERTIFICATES_NAMESPACE", NAMESPACE,
                    "WEBHOOK_CERTIFICATES_SERVICE", "localhost", "WEBHOOK_CERTIFICATES_SECRET", TLS_SECRET,
                    "WEBHOOK_CERTIFICATES_CA_SECRET", CA_SECRET, "WEBHOOK_CERTIFICATES_CHECK_PERIOD", "1s"));
            env.putAll(Map.of("WEBHOOK_CERTIFICATES_LABELS", "app.kubernetes.io/instance=self-it,dockerconfig-webhook/skip=true",
                    "WEBHOOK_CA_BUNDLE_CONFIGURATION", CONFIG, "WEBHOOK_CA_BUNDLE_CHECK_PERIOD", "1s"));
            replicas.add(PackagedWebhook.launchAsDeployed(logs[i], env));
        }
        for (int i = 0; i < 2; i++) PackagedWebhook.awaitReady(replicas.get(i), management[i], logs[i]);

        try (KubernetesClient client = api.client()) {
            Secret ca = client.secrets().inNamespace(NAMESPACE).withName(CA_SECRET).get();
            X509Certificate firstCa = certificates(ca.getData().get("tls.crt")).get(0);
            assertEquals("self-it", ca.getMetadata().getLabels().get("app.kubernetes.io/instance"), "labelled for uninstall");
            int created = 0;
            for (Path log : logs) created += (int) Files.readAllLines(log).stream().filter(l -> l.contains("created a CA")).count();
            assertEquals(1, created, "exactly one replica made the CA; the other adopted it");
            for (int port : ports) {
                assertTrue(signedBy(served(port), firstCa), "replica on " + port + " serves a certificate of the one CA");
            }

            // Both webhooks of the configuration start without caBundle: the replicas' keepers fill it.
            assertEquals(0, api.kubectlWithInput(configuration(ports), "apply", "-f", "-").exit());
            awaitTrue(Duration.ofSeconds(20), "caBundle filled", () -> client.admissionRegistration().v1()
                    .mutatingWebhookConfigurations().withName(CONFIG).get().getWebhooks().stream()
                    .allMatch(w -> w.getClientConfig().getCaBundle() != null));

            Secret pull = client.secrets().inNamespace(SECRETS).resource(pullSecret("old", auth("old"))).create();
            assertEquals(auth("old"), storedAuth(pull));
            pull = client.secrets().inNamespace(SECRETS).withName("rotating").edit(s -> withDocument(s, "new", auth("old")));
            assertEquals(auth("new"), storedAuth(pull), "a password change alone gets the right auth");

            // Renewal and a CA rotation under a writer: one password change every 0.5 s, each checked.
            AtomicInteger writes = new AtomicInteger();
            List<String> failures = new ArrayList<>();
            Set<String> servedSerials = new HashSet<>();
            X509Certificate currentCa = firstCa;
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < end) {
                String password = "p" + writes.incrementAndGet();
                try {
                    Secret written = client.secrets().inNamespace(SECRETS).withName("rotating")
                            .edit(s -> withDocument(s, password, auth("stale")));
                    if (!auth(password).equals(storedAuth(written))) failures.add("write " + writes + ": not fixed");
                } catch (RuntimeException e) {
                    failures.add("write " + writes + ": " + e.getMessage());
                }
                for (int port : ports) servedSerials.add(served(port).getSerialNumber().toString(16));
                currentCa = certificates(client.secrets().inNamespace(NAMESPACE).withName(CA_SECRET).get()
                        .getData().get("tls.crt")).get(0);
                boolean rotated = !currentCa.equals(firstCa);
                if (rotated && signedBy(served(ports[0]), currentCa) && signedBy(served(ports[1]), currentCa)
                        && servedSerials.size() >= 3) {
                    break;
                }
                Thread.sleep(500);
            }
            assertEquals(List.of(), failures, "no write failed during renewal and CA rotation");
            assertTrue(!currentCa.equals(firstCa), "the CA was rotated within 90 s; see " + logs[0]);
            assertTrue(servedSerials.size() >= 3, "serving certificates renewed: " + servedSerials.size() + " seen");
            assertTrue(writes.get() >= 60, "the writer kept writing: " + writes);
            for (int port : ports) assertTrue(signedBy(served(port), currentCa), "both replicas serve the new CA's");
            String log = Files.readString(logs[0]) + Files.readString(logs[1]);
            assertTrue(log.contains("the next CA signs from now on"), "the rotation was done by the replicas");
        }
    }

    private static String configuration(int[] ports) {
        StringBuilder yaml = new StringBuilder("""
                apiVersion: admissionregistration.k8s.io/v1
                kind: MutatingWebhookConfiguration
                metadata:
                  name: %s
                webhooks:
                """.formatted(CONFIG));
        for (int i = 0; i < ports.length; i++) {
            yaml.append("""
                      - name: replica-%d.self-it.dockerconfig-webhook.dev
                        admissionReviewVersions: ["v1"]
                        clientConfig:
                          url: https://localhost:%d/mutate
                        rules:
                          - apiGroups: [""]
                            apiVersions: ["v1"]
                            resources: ["secrets"]
                            operations: ["CREATE", "UPDATE"]
                        namespaceSelector:
                          matchLabels: {dockerconfig-webhook-it: self}
                        sideEffects: None
                        reinvocationPolicy: IfNeeded
                        timeoutSeconds: 5
                        failurePolicy: Fail
                    """.formatted(i, ports[i]));
        }
        return yaml.toString();
    }

    private static Secret pullSecret(String password, String auth) {
        return withDocument(new SecretBuilder().withNewMetadata().withName("rotating").endMetadata()
                .withType("kubernetes.io/dockerconfigjson").build(), password, auth);
    }

    /** The secret with a new password and the given (stale) auth, as `kubectl edit` of the password alone writes it. */
    private static Secret withDocument(Secret secret, String password, String auth) {
        String document = "{\"auths\":{\"r.example\":{\"username\":\"alice\",\"password\":\"" + password
                + "\",\"auth\":\"" + auth + "\"}}}";
        return new SecretBuilder(secret).withData(Map.of(".dockerconfigjson",
                Base64.getEncoder().encodeToString(document.getBytes(StandardCharsets.UTF_8)))).build();
    }

    private static String auth(String password) {
        return Base64.getEncoder().encodeToString(("alice:" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String storedAuth(Secret secret) {
        String document = new String(Base64.getDecoder().decode(secret.getData().get(".dockerconfigjson")), StandardCharsets.UTF_8);
        int at = document.indexOf("\"auth\":\"") + 8;
        return document.substring(at, document.indexOf('"', at));
    }

    /** The certificate a replica serves to a new connection (trusting anything: it is inspected, not trusted). */
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

    private static boolean signedBy(X509Certificate certificate, X509Certificate ca) {
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
