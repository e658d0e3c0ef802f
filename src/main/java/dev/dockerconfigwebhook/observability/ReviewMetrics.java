package dev.dockerconfigwebhook.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.enterprise.context.ApplicationScoped;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Prometheus metrics of the admission path. Labels are a fixed set of outcomes and budget lanes only: never a
 * secret's name, namespace, registry or value (values would leak, names would explode cardinality).
 */
@ApplicationScoped
public class ReviewMetrics {

    private final MeterRegistry registry;
    private final Map<Outcome, Counter> reviews = new EnumMap<>(Outcome.class);
    private final Counter registriesFixed;
    private final Timer handling;

    public ReviewMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (Outcome outcome : Outcome.values()) {
            reviews.put(outcome, Counter.builder("webhook.reviews")
                    .description("Admission reviews handled, by outcome")
                    .tag("outcome", outcome.label())
                    .register(registry));
        }
        registriesFixed = Counter.builder("webhook.registries.fixed")
                .description("Registry entries whose auth was set from username/password")
                .register(registry);
        handling = Timer.builder("webhook.review.duration")
                .description("Time from a review's headers to its answer, budget wait and body upload included")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofNanos(50_000))
                .maximumExpectedValue(Duration.ofSeconds(5))
                .register(registry);
    }

    /** Exposes one lane of the request memory budget: bytes held now, and its capacity. */
    public void budget(String lane, LongSupplier inUse, long capacity) {
        Gauge.builder("webhook.memory.budget.used", inUse, s -> s.getAsLong()).strongReference(true)
                .description("Heap bytes reserved by reviews in flight").baseUnit("bytes").tag("lane", lane)
                .register(registry);
        Gauge.builder("webhook.memory.budget.capacity", () -> capacity)
                .description("Heap bytes reviews in flight may reserve").baseUnit("bytes").tag("lane", lane)
                .register(registry);
    }

    public void reviewed(Outcome outcome, int fixedRegistries, long startNanos) {
        reviews.get(outcome).increment();
        if (fixedRegistries > 0) {
            registriesFixed.increment(fixedRegistries);
        }
        handling.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }

    /** A request answered with an error status (bad_request or busy). */
    public void rejected(Outcome outcome) {
        reviews.get(outcome).increment();
    }
}
