package dev.dockerconfigwebhook.observability;

import org.jboss.logging.Logger;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One log line per interval for an event a client can cause at will (a reset stream, a refused request): the first
 * occurrence is logged at once, the rest are counted and summed up in the next line, so a flood costs one line per
 * interval. The exact counts are in the metrics.
 */
public final class Throttled {

    private final Logger log;
    private final Logger.Level level;
    private final long intervalNanos;
    private final AtomicLong lastLogged;
    private final AtomicInteger suppressed = new AtomicInteger();

    public Throttled(Logger log, Logger.Level level, long interval, TimeUnit unit) {
        this.log = log;
        this.level = level;
        this.intervalNanos = unit.toNanos(interval);
        this.lastLogged = new AtomicLong(System.nanoTime() - intervalNanos - 1);
    }

    /** Logs {@code message} (a fixed text, or one made of escaped values) unless a line went out this interval. */
    public void log(String message) {
        long now = System.nanoTime();
        long last = lastLogged.get();
        if (now - last <= intervalNanos || !lastLogged.compareAndSet(last, now)) {
            suppressed.incrementAndGet();
            return;
        }
        int more = suppressed.getAndSet(0);
        log.log(level, more == 0 ? message
                : message + " (and " + more + " more since the last such line, " + TimeUnit.NANOSECONDS.toSeconds(intervalNanos) + " s or more ago)");
    }
}
