package dev.dockerconfigwebhook.server;

import com.sun.management.HotSpotDiagnosticMXBean;
import org.jboss.logging.Logger;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * Gives the heap room while large reviews are in flight and takes it back once they stop. At rest the JVM keeps the
 * free-ratio flags it was started with ({@code -XX:MinHeapFreeRatio=20 -XX:MaxHeapFreeRatio=40} in the deployment),
 * which hold RSS under normal traffic where BENCHMARKS.md measured it. The first large review switches them to
 * {@link #ROOMY_MIN_FREE}/{@link #ROOMY_MAX_FREE} (the JVM's defaults), so the old generation grows instead of
 * collecting fully every few young collections while 2.5 MB bodies are held: those chained full collections were the
 * longest stalls of normal reviews during a 1 MiB burst. {@link #QUIET_NANOS} after the last large review ends, the
 * start-up values come back and one full collection shrinks the heap to them.
 *
 * <p>Both flags are {@code manageable} (HotSpot reads them at every full collection), so this is what
 * {@code jcmd VM.set_flag} would do. Framework-free: {@link Flags} is the JVM, injected; {@link #onJvm} builds it.
 * Thread-safe: reviews start on event loops, {@link #tick} runs on a timer.
 */
public final class HeapRoom {

    static final int ROOMY_MIN_FREE = 40;
    static final int ROOMY_MAX_FREE = 70;
    /** Idle time after the last large review before the heap is given back: longer than the gaps inside a burst. */
    static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(5);

    private static final Logger LOG = Logger.getLogger(HeapRoom.class);

    /** The JVM's heap free-ratio flags and a full collection. */
    public interface Flags {
        int minHeapFreeRatio();

        int maxHeapFreeRatio();

        /** Sets both, in the order that keeps min ≤ max at every step (the JVM refuses anything else). */
        void set(int minFree, int maxFree);

        void collect();
    }

    private final Flags flags;
    private final int restingMin;
    private final int restingMax;
    private final boolean active;
    private boolean roomy;
    private long lastLarge;
    private int givenBack;

    public HeapRoom(Flags flags) {
        this.flags = flags;
        this.restingMin = flags.minHeapFreeRatio();
        this.restingMax = flags.maxHeapFreeRatio();
        // Started with ratios as roomy as ours (the JVM's defaults, say): nothing to switch.
        this.active = restingMin < ROOMY_MIN_FREE || restingMax < ROOMY_MAX_FREE;
    }

    /** A large review is starting (or has just been admitted): room now. */
    public synchronized void largeReviewStarting(long nowNanos) {
        lastLarge = nowNanos;
        if (active && !roomy) {
            flags.set(Math.max(restingMin, ROOMY_MIN_FREE), Math.max(restingMax, ROOMY_MAX_FREE));
            roomy = true;
        }
    }

    /**
     * Called periodically. When no large review has been in flight for {@link #QUIET_NANOS}, puts the start-up values
     * back and returns true: the caller then runs {@link #collect} (off the event loop), which shrinks the heap.
     */
    public synchronized boolean tick(boolean largeInFlight, long nowNanos) {
        if (largeInFlight) {
            lastLarge = nowNanos;
            return false;
        }
        if (!roomy || nowNanos - lastLarge < QUIET_NANOS) {
            return false;
        }
        flags.set(restingMin, restingMax);
        roomy = false;
        givenBack++;
        return true;
    }

    /**
     * Puts the start-up values back now, however recent the last large review: for the end of the start-up warm-up,
     * whose own full collection then shrinks the heap. Otherwise the give-back collection came 5 s after the
     * warm-up's last large review, just when a first real burst could arrive.
     */
    public synchronized void settle() {
        if (roomy) {
            flags.set(restingMin, restingMax);
            roomy = false;
        }
    }

    /** The full collection that shrinks the heap to the start-up ratios. */
    public void collect() {
        flags.collect();
    }

    synchronized boolean roomy() {
        return roomy;
    }

    synchronized int givenBack() {
        return givenBack;
    }

    /** This JVM's flags, or null when they cannot be changed (not HotSpot): then the heap keeps its start-up ratios. */
    public static Flags onJvm() {
        try {
            HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            if (vm == null || !vm.getVMOption("MinHeapFreeRatio").isWriteable()
                    || !vm.getVMOption("MaxHeapFreeRatio").isWriteable()) {
                return null;
            }
            return new Flags() {
                @Override
                public int minHeapFreeRatio() {
                    return Integer.parseInt(vm.getVMOption("MinHeapFreeRatio").getValue());
                }

                @Override
                public int maxHeapFreeRatio() {
                    return Integer.parseInt(vm.getVMOption("MaxHeapFreeRatio").getValue());
                }

                @Override
                public void set(int minFree, int maxFree) {
                    if (minFree > maxHeapFreeRatio()) {
                        vm.setVMOption("MaxHeapFreeRatio", Integer.toString(maxFree));
                        vm.setVMOption("MinHeapFreeRatio", Integer.toString(minFree));
                    } else {
                        vm.setVMOption("MinHeapFreeRatio", Integer.toString(minFree));
                        vm.setVMOption("MaxHeapFreeRatio", Integer.toString(maxFree));
                    }
                }

                @Override
                public void collect() {
                    System.gc(); // Serial: one full, compacting collection, which resizes the heap to the ratios
                }
            };
        } catch (RuntimeException | LinkageError e) {
            LOG.debugf("heap free ratios cannot be changed at run time here (%s)", e.getClass().getName());
            return null;
        }
    }
}
