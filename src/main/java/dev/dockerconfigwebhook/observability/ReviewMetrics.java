package dev.dockerconfigwebhook.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Prometheus metrics of the admission path. Labels are a fixed set of outcomes only: never a secret's
 * name, namespace, registry or value (values would leak, names would explode cardinality).
 */
@ApplicationScoped
public class ReviewMetrics {

    /** How a review ended, as counted in {@code webhook_reviews_total{outcome=...}}. */
    public enum Outcome {
        /** allowed as submitted, nothing to say */
        UNCHANGED,
        /** allowed with a patch (possibly with warnings too) */
        PATCHED,
        /** allowed unchanged, with warnings (unfixable or broken entries) */
        WARNED,
        /** refused in strict mode */
        DENIED,
        /** not an AdmissionReview: answered 4xx */
        BAD_REQUEST
    }

    private final Map<Outcome, Counter> reviews = new EnumMap<>(Outcome.class);
    private final Counter registriesFixed;
    private final Timer handling;

    public ReviewMetrics(MeterRegistry registry) {
        for (Outcome outcome : Outcome.values()) {
            reviews.put(outcome, Counter.builder("webhook.reviews")
                    .description("Admission reviews handled, by outcome")
                    .tag("outcome", outcome.name().toLowerCase())
                    .register(registry));
        }
        registriesFixed = Counter.builder("webhook.registries.fixed")
                .description("Registry entries whose auth was set from username/password")
                .register(registry);
        handling = Timer.builder("webhook.review.duration")
                .description("Time to read, decide and answer one admission review")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(50_000))
                .maximumExpectedValue(Duration.ofSeconds(5))
                .register(registry);
    }

    public void reviewed(Outcome outcome, int fixedRegistries, long startNanos) {
        reviews.get(outcome).increment();
        if (fixedRegistries > 0) {
            registriesFixed.increment(fixedRegistries);
        }
        handling.record(System.nanoTime() - startNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    public void badRequest() {
        reviews.get(Outcome.BAD_REQUEST).increment();
    }
}
