package dev.dockerconfigwebhook.core;

import java.util.Base64;

/** What {@link PullSecretFixer} decided for one Secret: exactly one of three outcomes, each with what it needs. */
public sealed interface FixResult {

    /** What the rules found, capped as the fixer was asked to keep them. */
    Findings findings();

    /** Allowed as submitted. {@code dataKey} is null when the Secret is not a pull secret. */
    record Unchanged(String dataKey, Findings findings) implements FixResult {
    }

    /** Allowed with {@code dataKey} replaced by {@code document} (the decoded Docker config). */
    record Patched(String dataKey, byte[] document, Findings findings) implements FixResult {
        /** The new value of {@code dataKey} as it goes into a Secret's {@code data}. */
        public String base64() {
            return Base64.getEncoder().encodeToString(document);
        }
    }

    /** Refused (strict mode): credentials that no {@code auth} can express. */
    record Denied(String dataKey, Findings findings) implements FixResult {
        /** Names each registry that strict mode refused and why. */
        public String message() {
            return "strict mode refuses pull secrets whose credentials no auth can express: "
                    + findings.unfixableSummary();
        }
    }
}
