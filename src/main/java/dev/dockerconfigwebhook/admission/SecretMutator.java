package dev.dockerconfigwebhook.admission;

import dev.dockerconfigwebhook.core.Finding;
import dev.dockerconfigwebhook.core.Findings;
import dev.dockerconfigwebhook.core.FixResult;
import dev.dockerconfigwebhook.core.PullSecretFixer;
import dev.dockerconfigwebhook.observability.LogText;
import dev.dockerconfigwebhook.observability.Outcome;
import org.jboss.logging.Logger;

import java.util.List;

/**
 * Adapts one review to {@link PullSecretFixer}: Secret CREATE and UPDATE go through the core; everything else is
 * allowed as it is. {@code request.oldObject} plays no part.
 */
public final class SecretMutator {

    private static final Logger LOG = Logger.getLogger(SecretMutator.class);
    private static final int MAX_LOGGED_REGISTRIES = 10;

    /** The answer plus what was decided, so the transport can count it without re-reading the response. */
    public record Decision(ReviewResponse response, Outcome outcome, int fixedRegistries) {
    }

    private final PullSecretFixer fixer;

    /** @param strict deny entries whose credentials no auth can express, instead of only warning */
    public SecretMutator(boolean strict) {
        // A webhook shows at most ten findings of a kind (warnings, log, denial): keeping more would only cost heap.
        this.fixer = new PullSecretFixer(strict, Findings.MAX_WARNINGS);
    }

    /**
     * Decides one review that {@link AdmissionReviewReader} accepted, and logs one line for it: at INFO when it changed
     * or refused something (patched, warned, denied), at DEBUG when it was allowed as it came (as Gatekeeper logs
     * decisions only with --log-denies); every review is counted in webhook_reviews_total either way.
     */
    public Decision mutate(ReviewRequest request) {
        String operation = request.operation();
        if (!("CREATE".equals(operation) || "UPDATE".equals(operation)) || request.secret() == null) {
            Decision allowed = new Decision(ReviewResponse.allowed(request.uid()), Outcome.UNCHANGED, 0);
            return logged(request, allowed, null);
        }
        ReviewRequest.SecretObject secret = request.secret();
        FixResult fix = fixer.fixEncoded(secret.type(), secret::data);
        Findings findings = fix.findings();
        List<String> warnings = findings.warnings();
        int fixed = findings.count(Finding.Category.FIXED);
        Decision decision;
        if (fix instanceof FixResult.Patched patched) {
            decision = new Decision(ReviewResponse.patched(request.uid(), patched.dataKey(), patched.document())
                    .withWarnings(warnings), Outcome.PATCHED, fixed);
        } else if (fix instanceof FixResult.Denied denied) {
            decision = new Decision(ReviewResponse.denied(request.uid(), denied.message()).withWarnings(warnings),
                    Outcome.DENIED, 0);
        } else {
            decision = new Decision(ReviewResponse.allowed(request.uid()).withWarnings(warnings),
                    findings.isEmpty() ? Outcome.UNCHANGED : Outcome.WARNED, 0);
        }
        return logged(request, decision, findings);
    }

    /** Names and registries only, each escaped and capped: never data, annotations or anything else from the object. */
    private static Decision logged(ReviewRequest request, Decision decision, Findings findings) {
        Logger.Level level = decision.outcome() == Outcome.UNCHANGED ? Logger.Level.DEBUG : Logger.Level.INFO;
        if (!LOG.isEnabled(level)) return decision;
        int fixed = decision.fixedRegistries();
        String shown = fixed == 0 ? "[]" : findings.fixedRegistries(MAX_LOGGED_REGISTRIES).stream()
                .map(LogText::safe).toList()
                + (fixed > MAX_LOGGED_REGISTRIES ? " and " + (fixed - MAX_LOGGED_REGISTRIES) + " more" : "");
        // Concatenation, not printf: this runs for every review.
        LOG.log(level, "review uid=" + LogText.safe(request.uid()) + " operation=" + LogText.safe(request.operation())
                + " namespace=" + LogText.safe(request.namespace()) + " name=" + LogText.safe(request.name())
                + " dryRun=" + request.dryRun() + " outcome=" + decision.outcome().label()
                + " registriesFixed=" + shown + " warnings=" + (findings == null ? 0 : findings.count()));
        return decision;
    }
}
