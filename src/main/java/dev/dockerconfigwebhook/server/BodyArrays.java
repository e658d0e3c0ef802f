package dev.dockerconfigwebhook.server;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The arrays that hold the bodies of large reviews, kept for the next large review instead of left to the collector.
 * A body array lives from its first byte until its review is decided, which for an upload at the client's pace spans
 * several young collections. So during a burst each new one was copied into the old generation and died there, and
 * a 16 × 1 MiB burst ran 4-6 full collections (28-42 ms each) as the old generation grew for them. Reused arrays
 * reach the old generation once and stay: 1-2 full collections per such burst (BENCHMARKS.md, "Reused body arrays").
 *
 * <p>Arrays come in size classes at most an eighth larger than what they hold ({@link #arrayLength}), so that a
 * review of a similar size finds one; the memory budget charges a review for its array's length. At most
 * {@link #idleCapacity()} bytes are kept while no review uses them (heap outside the budget, so bounded), and
 * {@link #clear()} drops them all once large reviews stop, just before {@link HeapRoom}'s collection gives the heap
 * back; on a JVM whose heap ratios HeapRoom cannot change, they stay. Framework-free and thread-safe: arrays are taken
 * on event loops and given back on the large-review workers.
 */
public final class BodyArrays {

    private final long idleCapacity;
    private final List<byte[]> idle = new ArrayList<>();
    /** Arrays handed out and not yet given back: only these are taken back, and each once. */
    private final Set<byte[]> inUse = Collections.newSetFromMap(new IdentityHashMap<>());
    private long idleBytes;
    private long reused;

    public BodyArrays(long idleCapacity) {
        this.idleCapacity = idleCapacity;
    }

    /**
     * Whether a body of {@code bodyBytes} (as declared before it is read) goes in an array from here: a large review's.
     * Small ones get an array of their own, which dies young; so do bodies of unknown length.
     */
    public static boolean holds(long bodyBytes) {
        return bodyBytes > Limits.SMALL_BODY_BYTES;
    }

    /**
     * The length of the array that holds a body of {@code bodyBytes}: rounded up to an eighth of the largest power of
     * two not above it (at most 1/8 more; 2,460,854 bytes, a 1 MiB secret's UPDATE review, take 2.5 MiB).
     */
    public static long arrayLength(long bodyBytes) {
        if (bodyBytes <= 8) {
            return Math.max(bodyBytes, 0);
        }
        long step = Long.highestOneBit(bodyBytes) / 8;
        return (bodyBytes + step - 1) / step * step;
    }

    /** An array of {@link #arrayLength}{@code (bodyBytes)}: a kept one when there is one, else a new one. */
    public byte[] take(int bodyBytes) {
        int length = (int) arrayLength(bodyBytes);
        synchronized (this) {
            for (int i = idle.size() - 1; i >= 0; i--) {
                if (idle.get(i).length == length) {
                    byte[] kept = idle.remove(i);
                    idleBytes -= length;
                    reused++;
                    inUse.add(kept);
                    return kept;
                }
            }
        }
        byte[] fresh = new byte[length]; // outside the lock: zeroing 2.5 MiB takes a while
        synchronized (this) {
            inUse.add(fresh);
        }
        return fresh;
    }

    /**
     * The review that held {@code array} is done with it (nothing may read or write it afterwards): kept when there is
     * idle room, dropped otherwise. Only an array handed out by {@link #take} and not given back yet counts: a second
     * give of the same array is ignored, so that two reviews can never be handed one array (an earlier version of
     * ReviewExchange gave one back twice when its answer came at once, and two uploads were written into one array).
     */
    public synchronized void give(byte[] array) {
        if (!inUse.remove(array) || idleBytes + array.length > idleCapacity) {
            return;
        }
        idle.add(array);
        idleBytes += array.length;
    }

    /**
     * Drops every kept array, and forgets those in use, which are then dropped when given back: called when no large
     * review is in flight, so the next collection frees them all.
     */
    public synchronized void clear() {
        idle.clear();
        idleBytes = 0;
        inUse.clear();
    }

    public long idleCapacity() {
        return idleCapacity;
    }

    public synchronized long idleBytes() {
        return idleBytes;
    }

    /** How many arrays were handed out again rather than made (tests). */
    public synchronized long reused() {
        return reused;
    }
}
