package dev.dockerconfigwebhook.core;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The webhook's decision as a plain function of a Secret's {@code type} and {@code data}: the same input
 * always gives the same result, so it is idempotent and behaves identically under dry-run and re-apply.
 */
public final class PullSecretFixer {

    private final boolean strict;

    /** @param strict deny entries whose credentials no {@code auth} can express, instead of only warning */
    public PullSecretFixer(boolean strict) {
        this.strict = strict;
    }

    /**
     * @param secretType the Secret's {@code type}
     * @param data       the Secret's {@code data}, values base64 as on the wire; may be null
     */
    public FixResult fix(String secretType, Map<String, String> data) {
        Optional<PullSecretType> pullSecretType = PullSecretType.of(secretType);
        if (pullSecretType.isEmpty()) {
            return FixResult.notAPullSecret(data);
        }
        PullSecretType type = pullSecretType.get();
        String key = type.dataKey();
        String encoded = data == null ? null : data.get(key);
        if (encoded == null) {
            return FixResult.unchanged(data, key, List.of(new Finding(key, Finding.Kind.DOCUMENT_MISSING)));
        }
        byte[] document;
        try {
            document = Base64.getDecoder().decode(encoded);
        } catch (IllegalArgumentException notBase64) {
            return FixResult.unchanged(data, key, List.of(new Finding(key, Finding.Kind.DOCUMENT_NOT_BASE64)));
        }
        DockerConfigRepair.Result repaired = DockerConfigRepair.repair(document, type);
        if (strict && repaired.findings().stream().anyMatch(f -> f.category() == Finding.Category.UNFIXABLE)) {
            return FixResult.denied(data, key, repaired.findings());
        }
        if (!repaired.changed()) {
            return FixResult.unchanged(data, key, repaired.findings());
        }
        return FixResult.patched(data, key, Base64.getEncoder().encodeToString(repaired.document()),
                repaired.findings());
    }
}
