package dev.dockerconfigwebhook.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What the rules found in one document. A crafted document can hold hundreds of thousands of entries, so a webhook
 * keeps only the first {@code keptPerCategory} findings of each category (enough for every message it writes: the
 * first {@value #MAX_WARNINGS} warnings, the first fixed registries for the log, the first unfixable ones for a
 * denial) and counts the rest. The audit keeps them all.
 */
public final class Findings {

    /** The API server adds every warning to the response; more than a screenful helps nobody. */
    public static final int MAX_WARNINGS = 10;

    /** Keeps every finding: for the audit, which reports each registry. */
    public static final int KEEP_ALL = Integer.MAX_VALUE;

    private static final Findings NONE = new Findings(List.of(), new int[Finding.Category.values().length]);

    private final List<Finding> kept;
    private final int[] counts;

    private Findings(List<Finding> kept, int[] counts) {
        this.kept = kept;
        this.counts = counts;
    }

    public static Findings none() {
        return NONE;
    }

    static Findings of(Finding finding) {
        return new Builder(1).add(finding).build();
    }

    /** The kept findings in document order: every finding, or the first of each category when capped. */
    public List<Finding> list() {
        return kept;
    }

    public int count() {
        int total = 0;
        for (int count : counts) total += count;
        return total;
    }

    public int count(Finding.Category category) {
        return counts[category.ordinal()];
    }

    public boolean isEmpty() {
        return count() == 0;
    }

    /** The first {@code atMost} registries whose {@code auth} was set, as they may be shown (for logs). */
    public List<String> fixedRegistries(int atMost) {
        return kept.stream().filter(f -> f.category() == Finding.Category.FIXED).limit(atMost)
                .map(Finding::subject).collect(Collectors.toList());
    }

    /** One line per finding, each under 120 characters and free of credential values; at most {@value #MAX_WARNINGS}. */
    public List<String> warnings() {
        int total = count();
        if (total <= MAX_WARNINGS) {
            return kept.stream().map(Finding::message).collect(Collectors.toList());
        }
        List<String> warnings = new ArrayList<>(MAX_WARNINGS);
        for (int i = 0; i < MAX_WARNINGS - 1; i++) {
            warnings.add(kept.get(i).message());
        }
        warnings.add("... and " + (total - MAX_WARNINGS + 1) + " more findings ("
                + count(Finding.Category.FIXED) + " registries fixed in total)");
        return warnings;
    }

    /** The unfixable registries and why, for a denial: at most {@value #MAX_WARNINGS}. */
    String unfixableSummary() {
        return kept.stream().filter(f -> f.category() == Finding.Category.UNFIXABLE).limit(MAX_WARNINGS)
                .map(Finding::message).collect(Collectors.joining("; "));
    }

    /** Collects findings in document order, keeping at most {@code keptPerCategory} of each category. */
    static final class Builder {
        private final int keptPerCategory;
        private final List<Finding> kept = new ArrayList<>();
        private final int[] counts = new int[Finding.Category.values().length];

        Builder(int keptPerCategory) {
            this.keptPerCategory = keptPerCategory;
        }

        /** Whether a finding of this kind would be kept: callers skip building its key text otherwise. */
        boolean keeps(Finding.Kind kind) {
            return counts[kind.category().ordinal()] < keptPerCategory;
        }

        /** Counts a finding without keeping it. */
        void count(Finding.Kind kind) {
            counts[kind.category().ordinal()]++;
        }

        Builder add(Finding finding) {
            if (keeps(finding.kind())) {
                kept.add(finding);
            }
            count(finding.kind());
            return this;
        }

        Findings build() {
            return new Findings(Collections.unmodifiableList(kept), counts.clone());
        }
    }
}
