package dev.dockerconfigwebhook.http;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * A fixed number of heap bytes shared by requests in flight. A request reserves its whole cost before the first byte
 * of its body is read and gives it back when its answer has been written or it is abandoned, so the heap that
 * requests can hold at once never exceeds {@link #capacity()} — however many arrive, however slowly they send.
 *
 * <p>All-or-nothing reservations granted first come, first served: a request never holds part of its cost while
 * waiting for the rest, so requests cannot starve each other into a deadlock. Framework-free: callers bring their own
 * timers (a waiting reservation is {@link Reservation#cancel() cancelled} when it has waited long enough) and their
 * own threads ({@code onGranted} runs on the thread that released the bytes, or the caller's when granted at once).
 */
public final class MemoryBudget {

    private final String name;
    private final long capacity;
    private long inUse;
    private final ArrayDeque<Reservation> waiting = new ArrayDeque<>();

    public MemoryBudget(String name, long capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity must be positive: " + capacity);
        this.name = name;
        this.capacity = capacity;
    }

    public String name() {
        return name;
    }

    public long capacity() {
        return capacity;
    }

    public synchronized long inUse() {
        return inUse;
    }

    public synchronized int waiting() {
        return waiting.size();
    }

    /**
     * Reserves {@code bytes} (at most the whole capacity, so that any request can run alone). Granted at once when
     * nothing waits and it fits; otherwise queued, and {@code onGranted} is called when it is granted.
     */
    public Reservation reserve(long bytes, Consumer<Reservation> onGranted) {
        Reservation reservation = new Reservation(Math.min(Math.max(bytes, 0), capacity), onGranted);
        boolean grantedNow;
        synchronized (this) {
            grantedNow = waiting.isEmpty() && inUse + reservation.bytes <= capacity;
            if (grantedNow) {
                inUse += reservation.bytes;
                reservation.state = State.GRANTED;
            } else {
                waiting.addLast(reservation);
            }
        }
        if (grantedNow) {
            onGranted.accept(reservation);
        }
        return reservation;
    }

    /** Ends a reservation; with {@code onlyIfWaiting}, only one still waiting (returns whether it ended it). */
    private boolean end(Reservation reservation, boolean onlyIfWaiting) {
        ArrayDeque<Reservation> granted = new ArrayDeque<>();
        synchronized (this) {
            if (onlyIfWaiting && reservation.state != State.WAITING) {
                return false;
            }
            if (reservation.state == State.GRANTED) {
                inUse -= reservation.bytes;
            } else if (reservation.state == State.WAITING) {
                waiting.remove(reservation); // cancelled while waiting: it may have blocked the head
            }
            reservation.state = State.RELEASED;
            while (!waiting.isEmpty() && inUse + waiting.peekFirst().bytes <= capacity) {
                Reservation next = waiting.removeFirst();
                inUse += next.bytes;
                next.state = State.GRANTED;
                granted.add(next);
            }
        }
        for (Reservation next : granted) {
            next.onGranted.accept(next);
        }
        return true;
    }

    private enum State { WAITING, GRANTED, RELEASED }

    /** One request's share of the budget. */
    public final class Reservation {
        private final long bytes;
        private final Consumer<Reservation> onGranted;
        private State state = State.WAITING;

        private Reservation(long bytes, Consumer<Reservation> onGranted) {
            this.bytes = bytes;
            this.onGranted = onGranted;
        }

        public long bytes() {
            return bytes;
        }

        /** Whether the bytes are this request's now (and not yet given back). */
        public boolean granted() {
            synchronized (MemoryBudget.this) {
                return state == State.GRANTED;
            }
        }

        /**
         * Gives the bytes back, or leaves the queue if still waiting. Idempotent: safe from every path by which a
         * request can end (answered, aborted, timed out).
         */
        public void release() {
            end(this, false);
        }

        /** Leaves the queue if still waiting and returns true; false once granted (then {@link #release()} it). */
        public boolean cancel() {
            return end(this, true);
        }
    }
}
