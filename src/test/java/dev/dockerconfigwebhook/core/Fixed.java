package dev.dockerconfigwebhook.core;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A {@link FixResult} seen as the Secret that results: the tests' view of one decision. */
record Fixed(FixResult result, Map<String, String> submitted) {

    enum Outcome { UNCHANGED, PATCHED, DENIED }

    /** Fixes {@code data} as the webhook does (ten findings of each category kept). */
    static Fixed fix(boolean strict, String type, Map<String, String> data) {
        return new Fixed(new PullSecretFixer(strict, Findings.MAX_WARNINGS).fix(type, data), data);
    }

    Outcome outcome() {
        if (result instanceof FixResult.Patched) return Outcome.PATCHED;
        if (result instanceof FixResult.Denied) return Outcome.DENIED;
        return Outcome.UNCHANGED;
    }

    List<String> warnings() {
        return result.findings().warnings();
    }

    List<String> fixedRegistries(int atMost) {
        return result.findings().fixedRegistries(atMost);
    }

    int fixedCount() {
        return result.findings().count(Finding.Category.FIXED);
    }

    /** The new base64 value of the data key; null unless patched. */
    String patchedValue() {
        return result instanceof FixResult.Patched patched ? patched.base64() : null;
    }

    String denialMessage() {
        return result instanceof FixResult.Denied denied ? denied.message() : null;
    }

    /** The Secret's data after the fix: the submitted map with at most the one key replaced. */
    Map<String, String> data() {
        if (!(result instanceof FixResult.Patched patched)) {
            return submitted;
        }
        Map<String, String> data = new LinkedHashMap<>(submitted);
        data.put(patched.dataKey(), patched.base64());
        return data;
    }
}
