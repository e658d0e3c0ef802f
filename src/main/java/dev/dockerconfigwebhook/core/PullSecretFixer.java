package dev.dockerconfigwebhook.core;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The webhook's decision as a plain function of a Secret's {@code type} and {@code data}: the same input
 * always gives the same result, so it is idempotent and behaves identically under dry-run and re-apply.
 */
public final class PullSecretFixer {

    /**
     * The API server refuses a Secret whose data exceeds 1 MiB (checked after mutating admission), so a larger
     * document can never be stored: it is left unparsed, and a fix is never allowed to grow a document past it.
     */
    public static final int MAX_DOCUMENT_BYTES = 1024 * 1024;

    private final boolean strict;
    private final int keptFindingsPerCategory;

    /**
     * @param strict                  deny entries whose credentials no {@code auth} can express, instead of only warning
     * @param keptFindingsPerCategory how many findings of each category to keep ({@link Findings#KEEP_ALL} for all)
     */
    public PullSecretFixer(boolean strict, int keptFindingsPerCategory) {
        this.strict = strict;
        this.keptFindingsPerCategory = keptFindingsPerCategory;
    }

    /**
     * @param secretType the Secret's {@code type}
     * @param data       the Secret's {@code data}, values base64 as on the wire; may be null
     */
    public FixResult fix(String secretType, Map<String, String> data) {
        return fixEncoded(secretType, key -> {
            String value = data == null ? null : data.get(key);
            // Base64 is ASCII; any other character becomes '?', which is not base64 either.
            return value == null ? null : ByteBuffer.wrap(value.getBytes(StandardCharsets.ISO_8859_1));
        });
    }

    /**
     * @param secretType the Secret's {@code type}
     * @param base64Data the base64 value of a data key as bytes, or null where the key is absent
     */
    public FixResult fixEncoded(String secretType, Function<String, ByteBuffer> base64Data) {
        Optional<PullSecretType> pullSecretType = PullSecretType.of(secretType);
        if (pullSecretType.isEmpty()) {
            return new FixResult.Unchanged(null, Findings.none());
        }
        PullSecretType type = pullSecretType.get();
        String key = type.dataKey();
        ByteBuffer encoded = base64Data.apply(key);
        if (encoded == null) {
            return unchanged(key, Finding.Kind.DOCUMENT_MISSING);
        }
        if (decodedLength(encoded) > MAX_DOCUMENT_BYTES) {
            return unchanged(key, Finding.Kind.DOCUMENT_TOO_LARGE);
        }
        byte[] document;
        try {
            ByteBuffer decoded = Base64.getDecoder().decode(encoded.duplicate());
            document = decoded.hasArray() && decoded.arrayOffset() == 0 && decoded.remaining() == decoded.array().length
                    ? decoded.array() : copy(decoded);
        } catch (IllegalArgumentException notBase64) {
            return unchanged(key, Finding.Kind.DOCUMENT_NOT_BASE64);
        }
        DockerConfigRepair.Result repaired = DockerConfigRepair.repair(document, type, keptFindingsPerCategory);
        if (strict && repaired.findings().count(Finding.Category.UNFIXABLE) > 0) {
            return new FixResult.Denied(key, repaired.findings());
        }
        if (!repaired.changed()) {
            return new FixResult.Unchanged(key, repaired.findings());
        }
        return new FixResult.Patched(key, repaired.document(), repaired.findings());
    }

    private static FixResult unchanged(String key, Finding.Kind kind) {
        return new FixResult.Unchanged(key, Findings.of(new Finding(key, kind)));
    }

    /** How many bytes the base64 in {@code encoded} decodes to (when it is valid), without decoding it. */
    private static long decodedLength(ByteBuffer encoded) {
        int length = encoded.remaining();
        int end = encoded.position() + length;
        int padding = 0;
        while (padding < 2 && length - padding > 0 && encoded.get(end - 1 - padding) == '=') padding++;
        int significant = length - padding;
        return (long) significant / 4 * 3 + (significant % 4 == 0 ? 0 : significant % 4 - 1);
    }

    private static byte[] copy(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.get(bytes);
        return bytes;
    }
}
