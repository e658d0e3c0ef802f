package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.core.FixResult;
import dev.dockerconfigwebhook.core.PullSecretFixer;
import dev.dockerconfigwebhook.observability.ReviewMetrics.Outcome;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Status;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionRequest;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionResponse;
import io.fabric8.kubernetes.api.model.admission.v1.AdmissionReview;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * Adapts one AdmissionReview to {@link PullSecretFixer}: Secret CREATE and UPDATE go through the core;
 * everything else is allowed as it is. {@code request.oldObject} plays no part.
 */
@ApplicationScoped
public class SecretMutator {

    private static final Logger LOG = Logger.getLogger(SecretMutator.class);
    private static final int MAX_LOGGED_REGISTRIES = 10;

    /** The answer plus what was decided, so the transport can count it without re-reading the response. */
    public record Decision(AdmissionReview review, Outcome outcome, int fixedRegistries) {
    }

    private final PullSecretFixer fixer;

    public SecretMutator(@ConfigProperty(name = "webhook.strict", defaultValue = "false") boolean strict) {
        this.fixer = new PullSecretFixer(strict);
    }

    /** Decides one review that {@link AdmissionReviewReader} accepted. */
    public Decision mutate(AdmissionReview review) {
        AdmissionRequest request = review.getRequest();
        AdmissionResponse response = new AdmissionResponse();
        response.setUid(request.getUid());
        response.setAllowed(true);
        FixResult fix = null;
        int fixed = 0;
        Outcome outcome = Outcome.UNCHANGED;
        String operation = request.getOperation();
        if (("CREATE".equals(operation) || "UPDATE".equals(operation)) && request.getObject() instanceof Secret) {
            Secret secret = (Secret) request.getObject();
            fix = fixer.fix(secret.getType(), secret.getData());
            fixed = fix.fixedCount();
            List<String> warnings = fix.warnings();
            if (!warnings.isEmpty()) {
                response.setWarnings(warnings);
            }
            switch (fix.outcome()) {
                case PATCHED:
                    response.setPatchType("JSONPatch");
                    response.setPatch(Base64.getEncoder().encodeToString(replaceDataPatch(fix.dataKey(), fix.patchedValue())));
                    outcome = Outcome.PATCHED;
                    break;
                case DENIED:
                    response.setAllowed(false);
                    response.setStatus(denial(fix.denialMessage()));
                    outcome = Outcome.DENIED;
                    break;
                default:
                    outcome = fix.findings().isEmpty() ? Outcome.UNCHANGED : Outcome.WARNED;
                    break;
            }
        }
        log(request, outcome, fix, fixed);
        AdmissionReview answer = new AdmissionReview();
        answer.setApiVersion(review.getApiVersion());
        answer.setKind(review.getKind());
        answer.setResponse(response);
        return new Decision(answer, outcome, fixed);
    }

    /**
     * One {@code replace} of one data key, as UTF-8 bytes built in one array (the value can be a 1.4 MB string).
     * The key is {@code .dockerconfigjson} or {@code .dockercfg} and the value base64: neither needs JSON escaping.
     */
    static byte[] replaceDataPatch(String dataKey, String base64Value) {
        String pointer = "/data/" + dataKey.replace("~", "~0").replace("/", "~1");
        byte[] head = ("[{\"op\":\"replace\",\"path\":\"" + pointer + "\",\"value\":\"").getBytes(StandardCharsets.UTF_8);
        byte[] tail = "\"}]".getBytes(StandardCharsets.UTF_8);
        byte[] value = base64Value.getBytes(StandardCharsets.ISO_8859_1);
        byte[] patch = new byte[head.length + value.length + tail.length];
        System.arraycopy(head, 0, patch, 0, head.length);
        System.arraycopy(value, 0, patch, head.length, value.length);
        System.arraycopy(tail, 0, patch, head.length + value.length, tail.length);
        return patch;
    }

    private static Status denial(String message) {
        // 403 with reason Forbidden, as controller-runtime's admission.Denied answers.
        return new StatusBuilder().withCode(403).withReason("Forbidden").withMessage(message).build();
    }

    /** Names and registries only: never data, annotations or anything else from the object. */
    private static void log(AdmissionRequest request, Outcome outcome, FixResult fix, int fixed) {
        String shown = fixed == 0 ? "[]" : fix.fixedRegistries(MAX_LOGGED_REGISTRIES).toString()
                + (fixed > MAX_LOGGED_REGISTRIES ? " and " + (fixed - MAX_LOGGED_REGISTRIES) + " more" : "");
        // Concatenation, not printf: this runs for every review on the event loop.
        LOG.info("review uid=" + request.getUid() + " operation=" + request.getOperation()
                + " namespace=" + request.getNamespace() + " name=" + request.getName()
                + " dryRun=" + Boolean.TRUE.equals(request.getDryRun()) + " outcome=" + outcome.name().toLowerCase()
                + " registriesFixed=" + shown + " warnings=" + (fix == null ? 0 : fix.findings().size()));
    }
}
