package dev.dockerconfigwebhook.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** What {@link PullSecretFixer} decided for one Secret. */
public final class FixResult {

    /** The API server adds every warning to the response; more than a screenful helps nobody. */
    static final int MAX_WARNINGS = 10;

    public enum Outcome {
        /** Allowed as submitted. */
        UNCHANGED,
        /** Allowed with {@link #dataKey()} replaced by {@link #patchedValue()}. */
        PATCHED,
        /** Refused (strict mode): {@link #denialMessage()} says why. */
        DENIED
    }

    private final Outcome outcome;
    private final Map<String, String> submittedData;
    private final String dataKey;
    private final String patchedValue;
    private final List<Finding> findings;

    private FixResult(Outcome outcome, Map<String, String> submittedData, String dataKey, String patchedValue,
            List<Finding> findings) {
        this.outcome = outcome;
        this.submittedData = submittedData;
        this.dataKey = dataKey;
        this.patchedValue = patchedValue;
        this.findings = findings;
    }

    static FixResult notAPullSecret(Map<String, String> data) {
        return new FixResult(Outcome.UNCHANGED, data, null, null, List.of());
    }

    static FixResult unchanged(Map<String, String> data, String key, List<Finding> findings) {
        return new FixResult(Outcome.UNCHANGED, data, key, null, findings);
    }

    static FixResult patched(Map<String, String> data, String key, String value, List<Finding> findings) {
        return new FixResult(Outcome.PATCHED, data, key, value, findings);
    }

    static FixResult denied(Map<String, String> data, String key, List<Finding> findings) {
        return new FixResult(Outcome.DENIED, data, key, null, findings);
    }

    public Outcome outcome() {
        return outcome;
    }

    /** {@code .dockerconfigjson} or {@code .dockercfg}; null when the Secret is not a pull secret. */
    public String dataKey() {
        return dataKey;
    }

    /** The new base64 value of {@link #dataKey()}; null unless {@link Outcome#PATCHED}. */
    public String patchedValue() {
        return patchedValue;
    }

    /** The Secret's data after the fix: the submitted map with at most the one key replaced. */
    public Map<String, String> data() {
        if (outcome != Outcome.PATCHED) {
            return submittedData;
        }
        Map<String, String> data = new LinkedHashMap<>(submittedData);
        data.put(dataKey, patchedValue);
        return Collections.unmodifiableMap(data);
    }

    public List<Finding> findings() {
        return findings;
    }

    /** The first {@code atMost} registries whose {@code auth} was set, as they may be shown (for logs). */
    public List<String> fixedRegistries(int atMost) {
        return findings.stream().filter(f -> f.category() == Finding.Category.FIXED).limit(atMost)
                .map(Finding::subject).collect(Collectors.toList());
    }

    /** How many registries had their {@code auth} set; cheaper than {@link #fixedRegistries(int)} for counting. */
    public int fixedCount() {
        return (int) findings.stream().filter(f -> f.category() == Finding.Category.FIXED).count();
    }

    /** One line per finding, each under 120 characters and free of credential values; at most {@value #MAX_WARNINGS}. */
    public List<String> warnings() {
        if (findings.size() <= MAX_WARNINGS) {
            return findings.stream().map(Finding::message).collect(Collectors.toList());
        }
        List<String> warnings = new ArrayList<>(MAX_WARNINGS);
        for (int i = 0; i < MAX_WARNINGS - 1; i++) {
            warnings.add(findings.get(i).message());
        }
        warnings.add("... and " + (findings.size() - MAX_WARNINGS + 1) + " more findings (" + fixedCount()
                + " registries fixed in total)");
        return warnings;
    }

    /** Names each registry that strict mode refused and why; null unless {@link Outcome#DENIED}. */
    public String denialMessage() {
        if (outcome != Outcome.DENIED) {
            return null;
        }
        return "strict mode refuses pull secrets whose credentials no auth can express: "
                + findings.stream().filter(f -> f.category() == Finding.Category.UNFIXABLE).limit(MAX_WARNINGS)
                        .map(Finding::message).collect(Collectors.joining("; "));
    }
}
