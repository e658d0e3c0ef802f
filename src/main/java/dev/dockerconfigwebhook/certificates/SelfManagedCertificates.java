package dev.dockerconfigwebhook.certificates;

import dev.dockerconfigwebhook.observability.LogText;
import dev.dockerconfigwebhook.tls.CertificateSource;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code webhook.certificates.source=self}: the pods make and renew their own CA and serving certificate, as
 * Gatekeeper's and Kyverno's do, so that installing the webhook is one step.
 *
 * <p>Every {@code webhook.certificates.check-period} each replica reads the CA Secret and the TLS Secret of its own
 * namespace, applies {@link CertificatePlan} and writes what must change: a Secret that does not exist is created, one
 * that does is updated with the resourceVersion it was read at. When two replicas race, the API server takes exactly
 * one write; the other gets 409 Conflict, reads again and adopts what the winner wrote. The CA Secret is written before
 * the TLS Secret, so its bundle is trusted before anything signed with a new CA is served. Then the TLS Secret is
 * {@linkplain ServingCertificate#offer offered} to the HTTPS server, straight from the API: no volume, no kubelet sync.
 *
 * <p>RBAC: {@code create} on secrets in the namespace, {@code get} and {@code update} on the two names
 * (deploy/base/rbac.yaml). The Secrets carry {@code webhook.certificates.labels}, so an uninstall can select them.
 */
@ApplicationScoped
public class SelfManagedCertificates {

    private static final Logger LOG = Logger.getLogger(SelfManagedCertificates.class);
    /** Attempts per check when another replica wins a write: the loser reads again and adopts its result. */
    private static final int ATTEMPTS = 3;

    private final ServingCertificate serving;
    private final Instance<KubernetesClient> clients;
    /** Null unless {@code webhook.certificates.source=self}. */
    private final CertificatePlan.Settings settings;
    private final String secretName;
    private final String caSecretName;
    private final Map<String, String> labels;
    private final Duration period;
    private final Clock clock = Clock.systemUTC();
    private ScheduledExecutorService checker;
    private volatile String lastProblem = "";

    public SelfManagedCertificates(ServingCertificate serving, Instance<KubernetesClient> clients,
            @ConfigProperty(name = "webhook.certificates.source", defaultValue = "files") CertificateSource source,
            @ConfigProperty(name = "webhook.certificates.namespace") Optional<String> namespace,
            @ConfigProperty(name = "webhook.certificates.service", defaultValue = "dockerconfig-webhook") String service,
            @ConfigProperty(name = "webhook.certificates.secret", defaultValue = "dockerconfig-webhook-tls") String secretName,
            @ConfigProperty(name = "webhook.certificates.ca-secret", defaultValue = "dockerconfig-webhook-ca") String caSecretName,
            @ConfigProperty(name = "webhook.certificates.labels") Optional<String> labels,
            @ConfigProperty(name = "webhook.certificates.lifetime", defaultValue = "90d") Duration lifetime,
            @ConfigProperty(name = "webhook.certificates.ca-lifetime", defaultValue = "1095d") Duration caLifetime,
            @ConfigProperty(name = "webhook.certificates.overlap", defaultValue = "1h") Duration overlap,
            @ConfigProperty(name = "webhook.certificates.check-period", defaultValue = "10s") Duration period) {
        this.serving = serving;
        this.clients = clients;
        this.secretName = secretName;
        this.caSecretName = caSecretName;
        this.labels = parseLabels(labels.orElse(""));
        this.period = period;
        if (source != CertificateSource.SELF) {
            this.settings = null;
            return;
        }
        // Settings that cannot work stop the start with the reason: better than a pod that never becomes ready, or
        // renews every period.
        String inNamespace = namespace.filter(n -> !n.isBlank()).orElseGet(() -> clients.get().getNamespace());
        if (inNamespace == null || inNamespace.isBlank()) {
            throw new IllegalStateException("webhook.certificates.source=self needs the pod's namespace: set "
                    + "webhook.certificates.namespace (the Deployment sets it from the downward API)");
        }
        this.settings = new CertificatePlan.Settings(service, inNamespace, lifetime, caLifetime, overlap);
    }

    void start(@Observes StartupEvent event) {
        if (settings == null) {
            return;
        }
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "self-managed-certificates");
            thread.setDaemon(true);
            return thread;
        });
        LOG.infof("self-managed certificates: Secrets %s and %s in %s, serving certificate %s, CA %s, overlap %s",
                LogText.safe(caSecretName), LogText.safe(secretName), LogText.safe(settings.namespace()),
                shortly(settings.lifetime()), shortly(settings.caLifetime()), shortly(settings.overlap()));
        checker.scheduleWithFixedDelay(this::checkSafely, 0, Math.max(100, period.toMillis()), TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (checker != null) checker.shutdownNow();
    }

    private void checkSafely() {
        try {
            check();
        } catch (KubernetesClientException e) {
            problem(describe(e));
        } catch (RuntimeException e) {
            problem("certificate check failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** One look at both Secrets: writes what the plan says, then serves the TLS Secret. */
    void check() {
        KubernetesClient client = clients.get();
        String namespace = settings.namespace();
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Secret ca = get(client, caSecretName);
            Secret tls = get(client, secretName);
            CertificatePlan.Plan plan = CertificatePlan.plan(data(ca), data(tls), clock.instant(), settings);
            try {
                if (plan.ca().isPresent()) write(client, ca, caSecretName, plan.ca().get());
                if (plan.tls().isPresent()) tls = write(client, tls, secretName, plan.tls().get());
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409) {
                    LOG.debugf("certificate Secrets changed concurrently (another replica); reading again");
                    continue;
                }
                throw e;
            }
            plan.changes().forEach(change -> LOG.infof("self-managed certificates: %s", change));
            Map<String, byte[]> served = data(tls);
            serving.offer(served.get(CertificatePlan.CERT), served.get(CertificatePlan.KEY),
                    served.getOrDefault(CertificatePlan.CA_BUNDLE, new byte[0]),
                    "Secret " + namespace + "/" + secretName);
            if (!lastProblem.isEmpty()) LOG.info("self-managed certificates: the Secrets are readable and current again");
            lastProblem = "";
            return;
        }
        problem("the certificate Secrets kept changing under " + ATTEMPTS + " attempts; trying again next period");
    }

    private Secret get(KubernetesClient client, String name) {
        return client.secrets().inNamespace(settings.namespace()).withName(name).get();
    }

    /** Creates the Secret, or updates it with the resourceVersion it was read at: a concurrent write fails with 409. */
    private Secret write(KubernetesClient client, Secret current, String name, Map<String, byte[]> data) {
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((key, value) -> encoded.put(key, Base64.getEncoder().encodeToString(value)));
        if (current == null) {
            Secret created = new SecretBuilder().withNewMetadata().withName(name).withNamespace(settings.namespace())
                    .withLabels(labels).endMetadata().withType("kubernetes.io/tls").withData(encoded).build();
            return client.secrets().inNamespace(settings.namespace()).resource(created).create();
        }
        Map<String, String> merged = new LinkedHashMap<>(Optional.ofNullable(current.getMetadata().getLabels()).orElse(Map.of()));
        merged.putAll(labels);
        Secret updated = new SecretBuilder(current).editMetadata().withLabels(merged).endMetadata()
                .withData(encoded).build();
        return client.secrets().inNamespace(settings.namespace()).resource(updated).update();
    }

    private static Map<String, byte[]> data(Secret secret) {
        if (secret == null) return null;
        Map<String, byte[]> data = new LinkedHashMap<>();
        if (secret.getData() != null) {
            secret.getData().forEach((key, value) -> {
                try {
                    data.put(key, Base64.getDecoder().decode(value));
                } catch (IllegalArgumentException e) {
                    data.put(key, new byte[0]); // not base64 (not from the API server): unusable, made again
                }
            });
        }
        return data;
    }

    private String describe(KubernetesClientException e) {
        return switch (e.getCode()) {
            case -1, 0 -> "API server unreachable (" + LogText.rootCauseType(e) + ")";
            case 401, 403 -> "forbidden: the pod's service account needs create on secrets in namespace "
                    + LogText.safe(settings.namespace()) + " and get/update on " + LogText.safe(caSecretName)
                    + " and " + LogText.safe(secretName) + " (deploy/base/rbac.yaml)";
            default -> "HTTP " + e.getCode() + " from the API server";
        } + "; trying again every period";
    }

    private void problem(String what) {
        serving.unavailable("self-managed certificate: " + what);
        if (!what.equals(lastProblem)) {
            lastProblem = what;
            LOG.warnf("self-managed certificates: %s", what);
        }
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
        return labels;
    }
}
