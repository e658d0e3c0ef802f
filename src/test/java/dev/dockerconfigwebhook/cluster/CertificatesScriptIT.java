package dev.dockerconfigwebhook.cluster;

import dev.dockerconfigwebhook.testing.RealApiServer;
import dev.dockerconfigwebhook.testing.RequiresRealApiServer;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * certs/generate.sh --apply against a real API server: each run from a separate copy of the script with no local
 * state (as from another machine), checked after every step with openssl against the live caBundle.
 */
@RequiresRealApiServer
class CertificatesScriptIT {

    private static RealApiServer api;
    private static KubernetesClient client;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        api = RealApiServer.shared();
        client = api.client();
    }

    @AfterAll
    static void close() {
        client.close();
    }

    @Test
    void twoMachinesWithNoSharedStateRenewUnderTheSameCa() throws Exception {
        Cluster c = cluster("certs-two");
        Path machineA = checkout("a");
        Path machineB = checkout("b");

        RealApiServer.Run first = c.generate(machineA);
        assertEquals(0, first.exit(), first.output());
        assertTrue(first.output().contains("created CA"), first.output());
        String ca = c.caCertificate();
        String servedByA = c.servedCertificate();
        c.assertTrusted(servedByA);
        assertFalse(Files.exists(machineA.resolve("certs/out")), "with --apply no key is kept on the machine");

        RealApiServer.Run second = c.generate(machineB);
        assertEquals(0, second.exit(), second.output());
        assertTrue(second.output().contains("using the CA in secret"), second.output());
        assertEquals(ca, c.caCertificate(), "the second machine used the CA in the cluster");
        assertNotEquals(servedByA, c.servedCertificate(), "a new serving certificate");
        c.assertTrusted(servedByA); // pods that have not reloaded yet
        c.assertTrusted(c.servedCertificate());
        assertEquals(1, c.caBundleSize());
    }

    @Test
    void caRotationNeverDropsACaAServedCertificateChainsToHoweverOftenAStepIsRepeated() throws Exception {
        Cluster c = cluster("certs-rotate");
        List<String> everServed = new ArrayList<>();
        List<List<String>> steps = List.of(List.of(), List.of(), List.of("--new-ca"), List.of("--new-ca"), List.of(),
                List.of("--promote-ca"), List.of("--promote-ca"), List.of(), List.of("--new-ca"), List.of("--promote-ca"),
                List.of("--new-ca"), List.of("--promote-ca"));
        List<String> signingCas = new ArrayList<>();
        int machine = 0;
        for (List<String> step : steps) {
            RealApiServer.Run run = c.generate(checkout("m" + machine++), step.toArray(String[]::new));
            assertEquals(0, run.exit(), step + "\n" + run.output());
            everServed.add(c.servedCertificate());
            if (!signingCas.contains(c.caCertificate())) signingCas.add(c.caCertificate());
            for (String served : everServed) {
                c.assertTrusted(served); // every certificate a pod may still serve, in this --retire-after window
            }
            assertEquals(c.caBundle(), c.secretCaCrt(), "the TLS Secret's ca.crt is what the API server trusts");
        }
        assertEquals(4, signingCas.size(), "three rotations");
        assertEquals(4, c.caBundleSize(), "the signing CA and the three retired ones, all still in their window");

        // Once the window has passed (0 s here), the retired CAs go; the current certificate stays trusted.
        RealApiServer.Run late = c.generate(checkout("late"), "--retire-after", "0");
        assertEquals(0, late.exit(), late.output());
        assertTrue(late.output().contains("dropped the retired CA"), late.output());
        assertEquals(1, c.caBundleSize());
        c.assertTrusted(c.servedCertificate());
        assertFalse(c.trusts(everServed.get(0)));
    }

    @Test
    void aLocalCaFromBeforeTheCaMovedIntoTheClusterIsKept() throws Exception {
        Cluster c = cluster("certs-migrate");
        Path old = checkout("old");
        // The layout of earlier versions: the CA only in certs/out, the pods serving a certificate of it.
        RealApiServer.Run local = api.run(old, Map.of(), "bash", "certs/generate.sh", "--namespace", c.namespace);
        assertEquals(0, local.exit(), local.output());
        String localCa = Files.readString(old.resolve("certs/out/ca.crt"));

        RealApiServer.Run apply = c.generate(old);
        assertEquals(0, apply.exit(), apply.output());
        assertTrue(apply.output().contains("moving the local CA"), apply.output());
        assertEquals(localCa.strip(), c.caCertificate().strip());
    }

    @Test
    void aCertificateServedUnderAnUnknownCaStaysTrustedWhileANewCaTakesOver() throws Exception {
        Cluster c = cluster("certs-foreign");
        // Another tool issued what the pods serve now, and caBundle trusts it; this cluster has no CA Secret.
        Path other = checkout("other");
        assertEquals(0, api.run(other, Map.of(), "bash", "certs/generate.sh", "--namespace", c.namespace).exit());
        Path out = other.resolve("certs/out");
        api.kubectl("-n", c.namespace, "create", "secret", "generic", "dockerconfig-webhook-tls", "--type=kubernetes.io/tls",
                "--from-file=tls.crt=" + out.resolve("tls.crt"), "--from-file=tls.key=" + out.resolve("tls.key"));
        String foreignServed = c.servedCertificate();
        api.kubectl("patch", "mutatingwebhookconfiguration", c.webhook, "--type=json", "-p",
                "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\""
                        + Base64.getEncoder().encodeToString(Files.readAllBytes(out.resolve("ca-bundle.crt"))) + "\"}]");

        RealApiServer.Run apply = c.generate(checkout("fresh"));
        assertEquals(0, apply.exit(), apply.output());
        assertTrue(apply.output().contains("created CA"), apply.output());
        c.assertTrusted(foreignServed);
        c.assertTrusted(c.servedCertificate());
    }

    @Test
    void bundleWithoutTheWebhookConfigurationStillWritesTheSecrets() throws Exception {
        Cluster c = cluster("certs-noconfig");
        api.kubectl("delete", "mutatingwebhookconfiguration", c.webhook);
        RealApiServer.Run run = c.generate(checkout("x"));
        assertEquals(0, run.exit(), run.output());
        assertTrue(run.output().contains("not found yet: install next"), run.output());
        assertTrue(c.secretCaCrt().contains("BEGIN CERTIFICATE"));
    }

    @Test
    void aHelmReleaseUnderOtherNamesIsRefusedWithTheCommandForItAndReachedWithRelease() throws Exception {
        String namespace = "certs-helm";
        assertEquals(0, api.kubectl("create", "namespace", namespace).exit());
        // What `helm install acme` leaves in the namespace: a Deployment named after the release, labelled with it.
        RealApiServer.Run deployment = api.kubectlWithInput("""
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: acme-dockerconfig-webhook
                  namespace: %s
                  labels: {app.kubernetes.io/part-of: dockerconfig-webhook, app.kubernetes.io/instance: acme}
                spec:
                  selector: {matchLabels: {app: x}}
                  template:
                    metadata: {labels: {app: x}}
                    spec: {containers: [{name: x, image: x}]}
                """.formatted(namespace), "create", "-f", "-");
        assertEquals(0, deployment.exit(), deployment.output());
        Path checkout = checkout("helm");

        RealApiServer.Run defaults = api.run(checkout, Map.of(), "bash", "certs/generate.sh", "--apply", "--namespace", namespace);
        assertEquals(2, defaults.exit(), defaults.output());
        assertTrue(defaults.output().contains("certs/generate.sh --apply --namespace " + namespace + " --release acme"),
                defaults.output());
        assertEquals(List.of(), client.secrets().inNamespace(namespace).list().getItems(), "nothing was written");

        RealApiServer.Run release = api.run(checkout, Map.of(), "bash", "certs/generate.sh", "--apply", "--namespace",
                namespace, "--release", "acme");
        assertEquals(0, release.exit(), release.output());
        for (String name : List.of("acme-dockerconfig-webhook-tls", "acme-dockerconfig-webhook-ca")) {
            Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
            assertEquals("acme", secret.getMetadata().getLabels().get("dockerconfig-webhook/release"),
                    name + " is selected by the release's uninstall");
            assertNull(secret.getMetadata().getLabels().get("app.kubernetes.io/instance"), name + ": no GitOps tool claims it");
            assertEquals("Prune=false", secret.getMetadata().getAnnotations().get("argocd.argoproj.io/sync-options"));
        }
        String served = new String(Base64.getDecoder().decode(client.secrets().inNamespace(namespace)
                .withName("acme-dockerconfig-webhook-tls").get().getData().get("tls.crt")), StandardCharsets.US_ASCII);
        Path leaf = Files.writeString(tmp.resolve("acme.crt"), served);
        Process subject = new ProcessBuilder("openssl", "x509", "-in", leaf.toString(), "-noout", "-subject").start();
        String text = new String(subject.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(text.contains("acme-dockerconfig-webhook." + namespace + ".svc"), text);
    }

    /** A copy of the repository's certs/ in its own folder: a machine with a fresh clone and nothing else. */
    private Path checkout(String name) throws IOException {
        Path root = Files.createDirectories(tmp.resolve(name).resolve("certs")).getParent();
        Files.copy(Path.of("certs/generate.sh"), root.resolve("certs/generate.sh"));
        return root;
    }

    private Cluster cluster(String namespace) {
        RealApiServer.Run ns = api.kubectl("create", "namespace", namespace);
        assertEquals(0, ns.exit(), ns.output());
        String webhook = namespace + "-hook";
        RealApiServer.Run config = api.createWebhookConfiguration(webhook, """
                    clientConfig:
                      url: https://127.0.0.1:1/mutate
                """);
        assertEquals(0, config.exit(), config.output());
        return new Cluster(namespace, webhook, tmp);
    }

    /** One install's namespace and webhook configuration, read back through the API. */
    private record Cluster(String namespace, String webhook, Path tmp) {

        RealApiServer.Run generate(Path checkout, String... extra) {
            List<String> command = new ArrayList<>(List.of("bash", "certs/generate.sh", "--apply",
                    "--namespace", namespace, "--webhook-config", webhook));
            command.addAll(List.of(extra));
            return api.run(checkout, Map.of(), command.toArray(String[]::new));
        }

        String caCertificate() {
            return data("dockerconfig-webhook-ca", "tls.crt");
        }

        String servedCertificate() {
            return data("dockerconfig-webhook-tls", "tls.crt");
        }

        String secretCaCrt() {
            return data("dockerconfig-webhook-tls", "ca.crt");
        }

        String caBundle() {
            String bundle = client.admissionRegistration().v1().mutatingWebhookConfigurations().withName(webhook).get()
                    .getWebhooks().get(0).getClientConfig().getCaBundle();
            return bundle == null ? "" : new String(Base64.getDecoder().decode(bundle), StandardCharsets.US_ASCII);
        }

        int caBundleSize() {
            return caBundle().split("BEGIN CERTIFICATE", -1).length - 1;
        }

        boolean trusts(String certificate) throws IOException, InterruptedException {
            Path bundle = Files.createTempFile(tmp, "bundle", ".crt");
            Path leaf = Files.createTempFile(tmp, "leaf", ".crt");
            Files.writeString(bundle, caBundle());
            Files.writeString(leaf, certificate);
            Process verify = new ProcessBuilder("openssl", "verify", "-no-CApath", "-CAfile", bundle.toString(),
                    leaf.toString()).redirectErrorStream(true).start();
            verify.getInputStream().readAllBytes();
            return verify.waitFor() == 0;
        }

        void assertTrusted(String certificate) throws IOException, InterruptedException {
            assertTrue(trusts(certificate), "caBundle of " + webhook + " must verify a certificate pods may serve");
        }

        private String data(String secret, String key) {
            Secret found = client.secrets().inNamespace(namespace).withName(secret).get();
            if (found == null || found.getData() == null || !found.getData().containsKey(key)) {
                throw new AssertionError("no " + key + " in secret " + namespace + "/" + secret);
            }
            return new String(Base64.getDecoder().decode(found.getData().get(key)), StandardCharsets.US_ASCII);
        }
    }
}
