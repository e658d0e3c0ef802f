package dev.dockerconfigwebhook.cabundle;

import dev.dockerconfigwebhook.observability.LogText;
import dev.dockerconfigwebhook.tls.CertificateSource;
import dev.dockerconfigwebhook.tls.ServingCertificate;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhook;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.MutatingWebhookConfiguration;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.WebhookClientConfig;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the webhook's own {@code caBundle} able to verify the certificate this pod serves, so that deleting and
 * re-applying the MutatingWebhookConfiguration, a reinstall, or a lost patch heals within one check period instead of
 * failing every pull-secret write until someone reruns a script.
 *
 * <p>Every {@code webhook.ca-bundle.check-period} it reads the one configuration named
 * {@code webhook.ca-bundle.configuration} (RBAC allows nothing else: {@code get} and {@code update} on that name) and,
 * where a webhook's bundle does not trust the served certificate, appends the CAs of its {@code ca.crt}
 * ({@link CaBundle#judge}; with self-managed certificates every CA of it, so a new CA is trusted before it signs). The update carries the resourceVersion it read: a concurrent change wins and is looked at
 * again next period. It talks to the API server through the Quarkus-managed fabric8 client (in-cluster configuration,
 * service-account tokens re-read as the kubelet rotates them), created only when the keeper is on. It never removes a CA (see {@link CaBundle}). {@code webhook.ca-bundle.keep=false} turns it off.
 */
@ApplicationScoped
public class CaBundleKeeper {

    private static final Logger LOG = Logger.getLogger(CaBundleKeeper.class);

    private final ServingCertificate serving;
    private final Instance<KubernetesClient> clients;
    private final boolean keep;
    private final String configurationName;
    private final boolean selfManaged;
    private final Duration period;
    private ScheduledExecutorService checker;
    /** The last state logged: each distinct one is said once, not every period. */
    private volatile String lastState = "";

    public CaBundleKeeper(ServingCertificate serving, Instance<KubernetesClient> clients,
            @ConfigProperty(name = "webhook.ca-bundle.keep", defaultValue = "true") boolean keep,
            @ConfigProperty(name = "webhook.ca-bundle.configuration", defaultValue = "dockerconfig-webhook") String configurationName,
            @ConfigProperty(name = "webhook.certificates.source", defaultValue = "files") CertificateSource source,
            @ConfigProperty(name = "webhook.ca-bundle.check-period", defaultValue = "10s") Duration period) {
        this.serving = serving;
        this.clients = clients;
        this.keep = keep;
        this.configurationName = configurationName;
        this.selfManaged = source == CertificateSource.SELF;
        this.period = period;
    }

    void start(@Observes StartupEvent event) {
        if (!keep) {
            LOG.info("caBundle keeper off (webhook.ca-bundle.keep=false): caBundle is managed outside the pods");
            return;
        }
        checker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "ca-bundle-keeper");
            thread.setDaemon(true);
            return thread;
        });
        long millis = Math.max(100, period.toMillis());
        checker.scheduleWithFixedDelay(this::checkSafely, 0, millis, TimeUnit.MILLISECONDS);
    }

    void stop(@Observes ShutdownEvent event) {
        if (checker != null) checker.shutdownNow();
    }

    private void checkSafely() {
        try {
            check();
        } catch (RuntimeException e) {
            say("error", "caBundle check failed (" + e.getClass().getSimpleName() + "); retrying every period");
        }
    }

    /** One look at the configuration; updates it when a webhook in it does not trust the served certificate. */
    void check() {
        Optional<X509Certificate> served = serving.current();
        if (served.isEmpty()) {
            return; // not serving anything yet: nothing to be trusted for (readiness says why)
        }
        List<X509Certificate> caCrt = serving.caCertificates();
        KubernetesClient client = clients.get();
        MutatingWebhookConfiguration configuration;
        try {
            configuration = client.admissionRegistration().v1().mutatingWebhookConfigurations()
                    .withName(configurationName).get();
        } catch (KubernetesClientException e) {
            reportApiError("read", e);
            return;
        }
        if (configuration == null) {
            say("absent", "MutatingWebhookConfiguration " + LogText.safe(configurationName)
                    + " not found; checking again every period");
            return;
        }
        int added = 0;
        List<String> unhealable = new ArrayList<>();
        for (MutatingWebhook webhook : configuration.getWebhooks()) {
            if (webhook.getClientConfig() == null) webhook.setClientConfig(new WebhookClientConfig());
            WebhookClientConfig clientConfig = webhook.getClientConfig();
            String current = clientConfig.getCaBundle();
            byte[] bundle = current == null || current.isEmpty() ? new byte[0] : decode(current);
            CaBundle.Verdict verdict = CaBundle.judge(bundle, served.get(), caCrt, selfManaged);
            if (verdict instanceof CaBundle.Heal heal) {
                clientConfig.setCaBundle(Base64.getEncoder().encodeToString(heal.bundle()));
                added += heal.added();
            } else if (verdict instanceof CaBundle.CannotHeal cannot) {
                unhealable.add(LogText.safe(webhook.getName()) + ": " + cannot.reason());
            }
        }
        if (!unhealable.isEmpty()) {
            say("cannot:" + unhealable, "caBundle does not trust the serving certificate and its ca.crt "
                    + "cannot fix it (" + String.join("; ", unhealable) + ")");
        }
        if (added == 0) {
            if (unhealable.isEmpty()) say("trusted", null);
            return;
        }
        try {
            // An update, not a patch: it carries the resourceVersion read above, so a concurrent change fails with 409.
            client.resource(configuration).update();
            lastState = "healed";
            LOG.infof("caBundle of MutatingWebhookConfiguration %s did not trust the serving certificate or a CA of its "
                    + "ca.crt: added %d CA certificate(s)", LogText.safe(configurationName), added);
        } catch (KubernetesClientException e) {
            reportApiError("update", e);
        }
    }

    private void reportApiError(String verb, KubernetesClientException e) {
        int code = e.getCode();
        if (code == 409) {
            LOG.debugf("caBundle %s: changed concurrently; checking again next period", verb);
            return;
        }
        String what = switch (code) {
            case -1, 0 -> "API server unreachable (" + LogText.rootCauseType(e) + ")";
            case 401, 403 -> "forbidden: the pod's service account needs get and update on "
                    + "mutatingwebhookconfigurations/" + LogText.safe(configurationName)
                    + " (deploy/base/rbac.yaml), or set webhook.ca-bundle.keep=false";
            default -> "HTTP " + code;
        };
        say(verb + ":" + code, "caBundle cannot be checked (" + verb + " MutatingWebhookConfiguration "
                + LogText.safe(configurationName) + "): " + what + "; retrying every period");
    }

    /** Logs {@code message} when the state differs from the last one logged; null only records the state. */
    private void say(String state, String message) {
        if (state.equals(lastState)) {
            return;
        }
        boolean recovered = state.equals("trusted") && !lastState.isEmpty() && !lastState.equals("healed");
        lastState = state;
        if (message != null) {
            LOG.warn(message);
        } else if (recovered) {
            LOG.info("caBundle trusts the serving certificate again");
        }
    }

    private static byte[] decode(String base64) {
        try {
            return Base64.getDecoder().decode(base64);
        } catch (IllegalArgumentException e) {
            return new byte[0]; // not base64: trusts nothing, so it is healed like an empty one
        }
    }
}
