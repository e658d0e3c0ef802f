package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.certificates.CertificatePlan.Observed;
import dev.dockerconfigwebhook.certificates.CertificatePlan.SecretState;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Steady;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Step;
import dev.dockerconfigwebhook.certificates.CertificatePlan.Target;
import dev.dockerconfigwebhook.certificates.CertificatePlan.WriteCaBundle;
import dev.dockerconfigwebhook.certificates.CertificatePlan.WriteCaSecret;
import dev.dockerconfigwebhook.certificates.CertificatePlan.WriteTlsSecret;
import dev.dockerconfigwebhook.observability.LogText;
import dev.dockerconfigwebhook.config.WebhookConfig;
import dev.dockerconfigwebhook.config.WebhookConfig.Source;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import dev.dockerconfigwebhook.tls.ServingCertificate.Trust;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The one reconcile loop of a pod: its serving certificate, and the trust the API server gives it.
 *
 * <p>Every {@code webhook.certificates.check-period} (every second while the pod is not trusted yet) a Vert.x timer
 * runs one round on a worker thread ({@code executeBlocking}); the next round is armed when this one ends, so rounds
 * never overlap.
 * <ul>
 * <li>{@code webhook.certificates.source=self}: reads the CA Secret, the TLS Secret and the live caBundle of its
 * MutatingWebhookConfiguration, asks {@link CertificatePlan} for the next step, carries it out, reads everything back
 * and asks again, until the plan is {@link Steady}; then serves what the plan chose. Writes carry the resourceVersion
 * they read (creates fail if the object exists), so of two replicas racing the API server takes one write; the other
 * gets 409, reads again and adopts it.</li>
 * <li>{@code files}: re-reads the mounted certificate files and, with {@code webhook.ca-bundle.keep}, sets every
 * webhook's caBundle to exactly the CAs of the mounted {@code ca.crt} once one of them issued the served certificate.</li>
 * </ul>
 * Each round ends by recording whether the live caBundle trusts what is served ({@link ServingCertificate#trust}):
 * readiness and {@code webhook_ca_bundle_trusted} read it.
 *
 * <p>The Secrets it creates carry {@code webhook.certificates.labels} (an uninstall selects them) and annotations that
 * keep Argo CD from pruning them, and never {@code app.kubernetes.io/instance}: label-tracking GitOps tools would claim
 * them as theirs and delete them as not in Git. Secrets made by earlier versions are relabelled.
 *
 * <p>RBAC (deploy/base/rbac.yaml): {@code create} on secrets in the namespace, {@code get}/{@code update} on the two
 * Secret names and on the one MutatingWebhookConfiguration.
 */
@ApplicationScoped
public class CertificateReconciler {

    private static final Logger LOG = Logger.getLogger(CertificateReconciler.class);
    /** Steps per round: a first install takes four writes; 409s from a racing replica each cost one more. */
    private static final int STEPS = 16;
    /** The round after one that left the pod untrusted or waiting comes this soon (or after the period, if shorter). */
    private static final Duration RETRY = Duration.ofSeconds(1);
    /** Label-tracking GitOps tools (Argo CD before 3.0, and many after) claim every object that carries it. */
    static final String CLAIMED_LABEL = "app.kubernetes.io/instance";
    /** Argo CD: never report these Secrets as extraneous, never prune them (they are not in Git by design). */
    static final Map<String, String> ANNOTATIONS = Map.of("argocd.argoproj.io/compare-options", "IgnoreExtraneous",
            "argocd.argoproj.io/sync-options", "Prune=false");

    private final Vertx vertx;
    private final ServingCertificate serving;
    private final Instance<KubernetesClient> clients;
    private final Source source;
    private final boolean keepCaBundle;
    private final String configurationName;
    /** Null unless {@code webhook.certificates.source=self}. */
    private final CertificatePlan.Settings settings;
    private final String secretName;
    private final String caSecretName;
    private final Map<String, String> labels;
    private final Duration period;
    private final Clock clock = Clock.systemUTC();
    private volatile boolean stopped;
    private volatile long timer = -1;
    /** The last caBundle read: when a read fails, what is served stays judged by it. */
    private Optional<CaBundles> lastBundles = Optional.empty();
    /** The last problem logged: each distinct one is said once, not every round. */
    private volatile String lastProblem = "";

    public CertificateReconciler(Vertx vertx, ServingCertificate serving, Instance<KubernetesClient> clients,
            WebhookConfig config) {
        WebhookConfig.Certificates certificates = config.certificates();
        this.vertx = vertx;
        this.serving = serving;
        this.clients = clients;
        this.source = certificates.source();
        this.keepCaBundle = config.caBundle().keep();
        this.configurationName = config.caBundle().configuration();
        this.secretName = certificates.secret();
        this.caSecretName = certificates.caSecret();
        this.labels = parseLabels(certificates.labels().orElse(""));
        this.period = certificates.checkPeriod();
        if (source != Source.SELF) {
            this.settings = null;
            return;
        }
        // Settings that cannot work stop the start with the reason: better than a pod that never becomes ready.
        if (!keepCaBundle) {
            throw new IllegalStateException("webhook.certificates.source=self needs webhook.ca-bundle.keep=true: the "
                    + "pods serve a certificate only once the caBundle they keep trusts it");
        }
        String inNamespace = certificates.namespace().filter(n -> !n.isBlank()).orElseGet(() -> clients.get().getNamespace());
        if (inNamespace == null || inNamespace.isBlank()) {
            throw new IllegalStateException("webhook.certificates.source=self needs the pod's namespace: set "
                    + "webhook.certificates.namespace (the Deployment sets it from the downward API)");
        }
        this.settings = new CertificatePlan.Settings(certificates.service(), inNamespace, certificates.lifetime(),
                certificates.caLifetime(), certificates.overlap());
    }

    void start(@Observes StartupEvent event) {
        if (settings != null) {
            LOG.infof("self-managed certificates: Secrets %s and %s in %s, serving certificate %s, CA %s, overlap %s; "
                    + "caBundle of MutatingWebhookConfiguration %s", LogText.safe(caSecretName), LogText.safe(secretName),
                    LogText.safe(settings.namespace()), shortly(settings.lifetime()), shortly(settings.caLifetime()),
                    shortly(settings.overlap()), LogText.safe(configurationName));
        } else if (!keepCaBundle) {
            LOG.info("caBundle keeper off (webhook.ca-bundle.keep=false): caBundle is managed outside the pods");
        }
        arm(Duration.ZERO);
    }

    void stop(@Observes ShutdownEvent event) {
        stopped = true;
        vertx.cancelTimer(timer);
    }

    /** One round now, on a worker thread; the next is armed when it ends. */
    private void arm(Duration delay) {
        if (stopped) return;
        timer = vertx.setTimer(Math.max(1, delay.toMillis()), id -> vertx.executeBlocking(() -> {
            round();
            return null;
        }, false).onComplete(done -> arm(settled() ? period : min(period, RETRY))));
    }

    private boolean settled() {
        Trust trust = serving.trust();
        return serving.current().isPresent() && (!trust.checked() || trust.trusted()) && lastProblem.isEmpty();
    }

    /** One round; never throws (a failed round is retried). */
    void round() {
        try {
            if (settings != null) {
                reconcileSelfManaged();
            } else {
                serving.reloadFiles();
                if (keepCaBundle) keepMountedTrust();
            }
        } catch (KubernetesClientException e) {
            problem(describe("API call", e));
        } catch (RuntimeException e) {
            problem("certificate round failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    private void reconcileSelfManaged() {
        KubernetesClient client = clients.get();
        Set<Target> blocked = EnumSet.noneOf(Target.class);
        List<String> problems = new ArrayList<>();
        for (int step = 0; step < STEPS; step++) {
            Secret ca = get(client, caSecretName);
            Secret tls = get(client, secretName);
            BundleRead read = readBundles(client);
            if (read.problem() != null && !problems.contains(read.problem())) problems.add(read.problem());
            Observed seen = new Observed(state(ca), state(tls), read.bundles(), read.problem() == null,
                    serving.held(), blocked, clock.instant());
            Step next = CertificatePlan.next(seen, settings);
            try {
                if (next instanceof Steady steady) {
                    steady.serve().ifPresent(s -> serving.offer(s.cert(), s.key(), s.ca(),
                            "Secret " + settings.namespace() + "/" + secretName));
                    List<String> all = new ArrayList<>(problems);
                    all.addAll(steady.waiting());
                    settle(read.bundles(), all);
                    return;
                } else if (next instanceof WriteCaSecret write) {
                    writeSecret(client, ca, caSecretName, write.data());
                } else if (next instanceof WriteTlsSecret write) {
                    writeSecret(client, tls, secretName, write.data());
                } else if (next instanceof WriteCaBundle write) {
                    writeBundles(client, read.configuration(), write.cas());
                }
                LOG.infof("self-managed certificates: %s", next.why());
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    LOG.debugf("certificate objects changed concurrently (another replica); reading again");
                    continue;
                }
                Target target = next instanceof WriteCaSecret ? Target.CA_SECRET
                        : next instanceof WriteTlsSecret ? Target.TLS_SECRET : Target.CA_BUNDLE;
                blocked.add(target);
                String problem = describe("write " + what(target), e);
                if (!problems.contains(problem)) problems.add(problem);
            }
        }
        problems.add("the certificate objects kept changing for " + STEPS + " steps; trying again");
        settle(lastBundles, problems);
    }

    /** Files: caBundle becomes exactly the mounted ca.crt's CAs, once one of them issued the served certificate. */
    private void keepMountedTrust() {
        KubernetesClient client = clients.get();
        Optional<X509Certificate> served = serving.current();
        List<String> problems = new ArrayList<>();
        BundleRead read = readBundles(client);
        if (read.problem() != null) problems.add(read.problem());
        if (served.isPresent() && read.configuration() != null) {
            List<X509Certificate> caCrt = serving.caCertificates();
            Optional<String> cannot = cannotTrust(served.get(), caCrt);
            if (cannot.isPresent()) {
                problems.add("caBundle is not changed: " + cannot.get());
            } else if (!read.bundles().orElseThrow().holdsExactly(caCrt)) {
                try {
                    writeBundles(client, read.configuration(), caCrt);
                    LOG.infof("caBundle of MutatingWebhookConfiguration %s set to the %d CA(s) of ca.crt",
                            LogText.safe(configurationName), caCrt.size());
                    read = readBundles(client);
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 409) problems.add(describe("write caBundle", e));
                }
            }
        }
        settle(read.bundles(), problems);
    }

    /** Why no caBundle made of {@code caCrt} can trust {@code served}, if none can. */
    static Optional<String> cannotTrust(X509Certificate served, List<X509Certificate> caCrt) {
        if (caCrt.isEmpty()) return Optional.of("ca.crt has no certificate");
        if (!new CaBundles(List.of(caCrt)).trusts(served)) {
            return Optional.of("no certificate in ca.crt issued the serving certificate");
        }
        return Optional.empty();
    }

    /** Records whether caBundle trusts what is served, and logs a problem that is new (or that the last one ended). */
    private void settle(Optional<CaBundles> bundles, List<String> problems) {
        Optional<X509Certificate> served = serving.current();
        boolean trusted = served.isPresent() && bundles.map(b -> b.trusts(served.get())).orElse(false);
        List<String> all = new ArrayList<>();
        if (!trusted) all.add(untrustedBecause(served, bundles));
        problems.stream().filter(p -> !all.contains(p)).forEach(all::add);
        serving.trust(new Trust(true, trusted, String.join("; ", all), bundles.map(CaBundles::largest).orElse(0)));
        problem(String.join("; ", all));
    }

    /** Why what is served (if anything) is not trusted: the part readiness reports missing. */
    private String untrustedBecause(Optional<X509Certificate> served, Optional<CaBundles> bundles) {
        if (served.isEmpty()) {
            return settings == null ? serving.problem().orElse("no serving certificate loaded")
                    : "no certificate that caBundle trusts yet";
        }
        String configuration = "MutatingWebhookConfiguration " + LogText.safe(configurationName);
        return bundles.isEmpty() ? configuration + " not found"
                : "the caBundle of " + configuration + " does not trust the served certificate";
    }

    private record BundleRead(MutatingWebhookConfiguration configuration, Optional<CaBundles> bundles, String problem) {
    }

    /** The live caBundles; when the read fails, the last ones read and the problem. */
    private BundleRead readBundles(KubernetesClient client) {
        MutatingWebhookConfiguration configuration;
        try {
            configuration = client.admissionRegistration().v1().mutatingWebhookConfigurations()
                    .withName(configurationName).get();
        } catch (KubernetesClientException e) {
            return new BundleRead(null, lastBundles, describe("read caBundle", e));
        }
        if (configuration == null) {
            lastBundles = Optional.empty();
            return new BundleRead(null, lastBundles, null);
        }
        List<byte[]> pems = new ArrayList<>();
        for (MutatingWebhook webhook : configuration.getWebhooks()) {
            String bundle = webhook.getClientConfig() == null ? null : webhook.getClientConfig().getCaBundle();
            pems.add(decode(bundle));
        }
        lastBundles = Optional.of(CaBundles.ofPem(pems));
        return new BundleRead(configuration, lastBundles, null);
    }

    /** Every webhook's caBundle becomes {@code cas}; the update carries the resourceVersion read (409 if it moved). */
    private void writeBundles(KubernetesClient client, MutatingWebhookConfiguration configuration,
            List<X509Certificate> cas) {
        String bundle = Base64.getEncoder().encodeToString(CertificateMaker.pem(cas).getBytes(StandardCharsets.US_ASCII));
        for (MutatingWebhook webhook : configuration.getWebhooks()) {
            if (webhook.getClientConfig() == null) webhook.setClientConfig(new WebhookClientConfig());
            webhook.getClientConfig().setCaBundle(bundle);
        }
        client.resource(configuration).update();
    }

    private Secret get(KubernetesClient client, String name) {
        return client.secrets().inNamespace(settings.namespace()).withName(name).get();
    }

    /** Creates the Secret, or updates it with the resourceVersion it was read at: a concurrent write fails with 409. */
    private void writeSecret(KubernetesClient client, Secret current, String name, Map<String, byte[]> data) {
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((key, value) -> encoded.put(key, Base64.getEncoder().encodeToString(value)));
        if (current == null) {
            Secret created = new SecretBuilder().withNewMetadata().withName(name).withNamespace(settings.namespace())
                    .withLabels(labels).withAnnotations(ANNOTATIONS).endMetadata().withType("kubernetes.io/tls")
                    .withData(encoded).build();
            client.secrets().inNamespace(settings.namespace()).resource(created).create();
            return;
        }
        Map<String, String> mergedLabels = new LinkedHashMap<>(Optional.ofNullable(current.getMetadata().getLabels()).orElse(Map.of()));
        mergedLabels.remove(CLAIMED_LABEL);
        mergedLabels.putAll(labels);
        Map<String, String> mergedAnnotations = new LinkedHashMap<>(
                Optional.ofNullable(current.getMetadata().getAnnotations()).orElse(Map.of()));
        mergedAnnotations.putAll(ANNOTATIONS);
        Secret updated = new SecretBuilder(current).editMetadata().withLabels(mergedLabels)
                .withAnnotations(mergedAnnotations).endMetadata().withData(encoded).build();
        client.secrets().inNamespace(settings.namespace()).resource(updated).update();
    }

    /** The Secret's decoded data, and whether it already carries the labels and annotations wanted. */
    private SecretState state(Secret secret) {
        if (secret == null) return null;
        Map<String, byte[]> data = new LinkedHashMap<>();
        if (secret.getData() != null) {
            secret.getData().forEach((key, value) -> data.put(key, decode(value)));
        }
        Map<String, String> has = Optional.ofNullable(secret.getMetadata().getLabels()).orElse(Map.of());
        Map<String, String> annotated = Optional.ofNullable(secret.getMetadata().getAnnotations()).orElse(Map.of());
        boolean current = !has.containsKey(CLAIMED_LABEL) && has.entrySet().containsAll(labels.entrySet())
                && annotated.entrySet().containsAll(ANNOTATIONS.entrySet());
        return new SecretState(data, current);
    }

    private static byte[] decode(String base64) {
        if (base64 == null || base64.isEmpty()) return new byte[0];
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            return new byte[0]; // not base64 (not from the API server): unusable, made again
        }
    }

    private String what(Target target) {
        return switch (target) {
            case CA_SECRET -> "Secret " + LogText.safe(caSecretName);
            case TLS_SECRET -> "Secret " + LogText.safe(secretName);
            case CA_BUNDLE -> "caBundle";
        };
    }

    private String describe(String action, KubernetesClientException e) {
        return action + ": " + switch (e.getCode()) {
            case -1, 0 -> "API server unreachable (" + LogText.rootCauseType(e) + ")";
            case 401, 403 -> "forbidden (the service account needs the rules of deploy/base/rbac.yaml: get/update on "
                    + "mutatingwebhookconfigurations/" + LogText.safe(configurationName)
                    + (settings == null ? "" : ", create on secrets and get/update on " + LogText.safe(caSecretName)
                            + " and " + LogText.safe(secretName) + " in " + LogText.safe(settings.namespace())) + ")";
            default -> "HTTP " + e.getCode() + " from the API server";
        };
    }

    /** Logs {@code what} at WARN when it differs from the last problem logged; empty means all is well again. */
    private void problem(String what) {
        if (what.equals(lastProblem)) return;
        String before = lastProblem;
        lastProblem = what;
        if (!what.isEmpty()) {
            LOG.warnf("certificates: %s; trying again", what);
        } else if (!before.isEmpty()) {
            LOG.info("certificates: the served certificate is trusted by caBundle and nothing waits any more");
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** A duration as the settings write it: 90d, 1h, 20s. */
    static String shortly(Duration duration) {
        long seconds = duration.getSeconds();
        if (seconds > 0 && duration.getNano() == 0) {
            if (seconds % 86_400 == 0) return seconds / 86_400 + "d";
            if (seconds % 3_600 == 0) return seconds / 3_600 + "h";
            if (seconds % 60 == 0) return seconds / 60 + "m";
            return seconds + "s";
        }
        return duration.toString();
    }

    /** {@code key=value,key=value}, as the Deployment passes the release's labels. */
    static Map<String, String> parseLabels(String text) {
        Map<String, String> labels = new LinkedHashMap<>();
        for (String item : text.split(",")) {
            if (item.isBlank()) continue;
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("webhook.certificates.labels takes key=value,key=value; "
                        + "an item has no key=value: " + LogText.safe(item.strip()));
            }
            labels.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
        }
        if (labels.containsKey(CLAIMED_LABEL)) {
            throw new IllegalArgumentException("webhook.certificates.labels must not set " + CLAIMED_LABEL
                    + ": label-tracking GitOps tools would claim the Secrets and prune them");
        }
        return labels;
    }
}
