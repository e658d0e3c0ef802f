package dev.dockerconfigwebhook.endpoint;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A fixed number of heap bytes shared by requests in flight, fairly between clients. A request reserves its whole
 * cost before the first byte of its body is read and gives it back when its answer has been written or it is
 * abandoned, so the heap that requests can hold at once never exceeds {@link #capacity()}, however many arrive and
 * however slowly they send or read.
 *
 * <p>Fair between clients (a client is whatever the caller names one: a remote address):
 * <ul>
 * <li><b>Grant order:</b> all-or-nothing reservations; the waiting one whose client has the least <em>share</em> goes
 * first (first come, first served among equals). A client's share is the memory it has held over time, in byte-seconds:
 * what it holds now times how long, plus what it held lately (decaying by half every {@link #USAGE_HALF_LIFE}). A
 * busy client whose reviews come and go in milliseconds (the API server) has a small share however many it sends; a
 * client that holds memory while sending or reading slowly has a large one, and one whose requests are cut and come
 * straight back does not count as a newcomer. A request never holds part of its cost while waiting for the rest, so requests cannot starve
 * each other into a deadlock.</li>
 * <li><b>Stalled holders give way:</b> when the next reservation does not fit, reservations of clients that hold
 * something and have a larger share than its client, granted at least {@code stallAfter} ago and waiting on their client (its body has not all arrived,
 * or its answer is written and unread: the caller says which, a review being decided never is), are taken back, the
 * largest holder's oldest first, until it fits. Their {@code onEvicted} runs: the caller cuts those requests. So a client that holds
 * reservations cannot make another client's request wait for them longer than {@code stallAfter}.</li>
 * <li><b>Waiting places:</b> at most {@code maxWaiting} reservations wait. When all are taken, a newcomer whose client
 * waits with fewer than another client takes the newest place of the client waiting with most (that one is evicted:
 * refused); otherwise the newcomer is {@linkplain Reservation#refused() refused}.</li>
 * </ul>
 *
 * <p>Framework-free: callers bring their own timers ({@link #reclaim()} while something waits; a waiting reservation
 * is {@link Reservation#cancel() cancelled} when it has waited long enough) and their own threads (callbacks run on
 * the thread that freed the bytes, or the caller's; never under the budget's lock).
 */
public final class MemoryBudget {

    /** How fast the memory a client held stops counting towards its share. */
    static final Duration USAGE_HALF_LIFE = Duration.ofSeconds(2);
    private static final long HALF_LIFE_NANOS = USAGE_HALF_LIFE.toNanos();
    /** Clients remembered for their share beyond this many are forgotten once their share is negligible. */
    private static final int REMEMBERED_CLIENTS = 1024;

    private final String name;
    private final long capacity;
    private final long stallAfterNanos;
    private final int maxWaiting;
    private final LongSupplier nanoClock;
    private long inUse;
    private long sequence;
    /** Byte-seconds held lately per client (by reservations that ended), decayed to {@link Usage#at}. */
    private final Map<Object, Usage> usage = new HashMap<>();
    private final Set<Reservation> granted = new LinkedHashSet<>();
    private final List<Reservation> waiting = new ArrayList<>();

    public MemoryBudget(String name, long capacity, Duration stallAfter, int maxWaiting, LongSupplier nanoClock) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity must be positive: " + capacity);
        this.name = name;
        this.capacity = capacity;
        this.stallAfterNanos = stallAfter.toNanos();
        this.maxWaiting = maxWaiting;
        this.nanoClock = nanoClock;
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
     * Reserves {@code bytes} (at most the whole capacity, so that any request can run alone) for {@code client}.
     * Granted at once when nothing waits and it fits; otherwise queued ({@code onGranted} is called when it is
     * granted), or refused when every waiting place is taken by clients waiting with no more than this one.
     * {@code onEvicted} is called if the reservation is taken back: granted but stalled, or waiting and displaced.
     * {@code waitingOnClient} says, once granted, whether the request now waits on its client (body or answer) rather
     * than on the server; only then can it be taken back.
     */
    public Reservation reserve(Object client, long bytes, BooleanSupplier waitingOnClient, Consumer<Reservation> onGranted,
            Consumer<Reservation> onEvicted) {
        Reservation reservation = new Reservation(client, Math.min(Math.max(bytes, 0), capacity), waitingOnClient,
                onGranted, onEvicted);
        List<Reservation> grantedNow = new ArrayList<>();
        List<Reservation> evicted = new ArrayList<>();
        synchronized (this) {
            reservation.order = sequence++;
            if (waiting.isEmpty() && inUse + reservation.bytes <= capacity) {
                grant(reservation);
                grantedNow.add(reservation);
            } else if (waiting.size() < maxWaiting) {
                waiting.add(reservation);
            } else {
                Reservation displaced = newestOfMostWaiting(client);
                if (displaced == null) {
                    reservation.state = State.REFUSED;
                } else {
                    waiting.remove(displaced);
                    displaced.state = State.RELEASED;
                    evicted.add(displaced);
                    waiting.add(reservation);
                }
            }
        }
        notifyAll(grantedNow, evicted);
        return reservation;
    }

    /**
     * Takes back stalled reservations as far as the next waiting reservation needs, and grants what then fits. Call
     * it while something waits (a timer of about {@code stallAfter}); it does nothing when nothing waits.
     */
    public void reclaim() {
        List<Reservation> evicted = new ArrayList<>();
        List<Reservation> grantedNow = new ArrayList<>();
        synchronized (this) {
            long now = nanoClock.getAsLong();
            Reservation next = next();
            while (next != null && inUse + next.bytes > capacity) {
                Reservation victim = stalledVictimFor(next.client, now);
                if (victim == null) break;
                take(victim);
                victim.state = State.RELEASED;
                evicted.add(victim);
            }
            grantWaiting(grantedNow);
        }
        notifyAll(grantedNow, evicted);
    }

    /** Ends a reservation; with {@code onlyIfWaiting}, only one still waiting (returns whether it ended it). */
    private boolean end(Reservation reservation, boolean onlyIfWaiting) {
        List<Reservation> grantedNow = new ArrayList<>();
        synchronized (this) {
            if (onlyIfWaiting && reservation.state != State.WAITING) {
                return false;
            }
            if (reservation.state == State.GRANTED) {
                take(reservation);
            } else if (reservation.state == State.WAITING) {
                waiting.remove(reservation); // cancelled while waiting: it may have blocked the head
            }
            if (reservation.state != State.REFUSED) reservation.state = State.RELEASED;
            grantWaiting(grantedNow);
        }
        notifyAll(grantedNow, List.of());
        return true;
    }

    /** Grants, in fair order, every waiting reservation that fits, stopping at the first that does not. */
    private void grantWaiting(List<Reservation> grantedNow) {
        Reservation next = next();
        while (next != null && inUse + next.bytes <= capacity) {
            waiting.remove(next);
            grant(next);
            grantedNow.add(next);
            next = next();
        }
    }

    /** The waiting reservation whose client has the least share; the earliest among equals. */
    private Reservation next() {
        if (waiting.isEmpty()) return null;
        Map<Object, Double> shares = shares(nanoClock.getAsLong());
        Reservation best = null;
        double bestShare = 0;
        for (Reservation r : waiting) {
            double share = shares.getOrDefault(r.client, 0.0);
            if (best == null || share < bestShare || share == bestShare && r.order < best.order) {
                best = r;
                bestShare = share;
            }
        }
        return best;
    }

    /** Every client's share now: byte-seconds held lately, plus what it holds times how long it has held it. */
    private Map<Object, Double> shares(long now) {
        Map<Object, Double> shares = new HashMap<>();
        usage.forEach((client, past) -> shares.put(client, past.at(now, HALF_LIFE_NANOS)));
        for (Reservation r : granted) shares.merge(r.client, byteSeconds(r, now), Double::sum);
        return shares;
    }

    private static double byteSeconds(Reservation r, long now) {
        return r.bytes * ((now - r.grantedAt) / 1e9);
    }

    /**
     * The oldest stalled reservation of the client with the largest share, if that share is larger than
     * {@code client}'s.
     */
    private Reservation stalledVictimFor(Object client, long now) {
        Map<Object, Double> shares = shares(now);
        double floor = shares.getOrDefault(client, 0.0);
        Reservation victim = null;
        double victimShare = 0;
        for (Reservation r : granted) {
            if (r.client.equals(client) || now - r.grantedAt < stallAfterNanos || !r.waitingOnClient.getAsBoolean()) {
                continue;
            }
            double clientShare = shares.get(r.client);
            if (clientShare <= floor) continue;
            if (victim == null || clientShare > victimShare || clientShare == victimShare && r.order < victim.order) {
                victim = r;
                victimShare = clientShare;
            }
        }
        return victim;
    }

    /**
     * The newest waiting reservation of the client waiting with most, if it waits with at least two more than
     * {@code client} (so that giving its place away leaves it no worse off than the newcomer).
     */
    private Reservation newestOfMostWaiting(Object client) {
        Map<Object, Integer> counts = new HashMap<>();
        for (Reservation r : waiting) counts.merge(r.client, 1, Integer::sum);
        Object most = null;
        int mostCount = 0;
        for (Map.Entry<Object, Integer> e : counts.entrySet()) {
            if (e.getValue() > mostCount) {
                most = e.getKey();
                mostCount = e.getValue();
            }
        }
        if (most == null || most.equals(client) || mostCount < counts.getOrDefault(client, 0) + 2) return null;
        Reservation newest = null;
        for (Reservation r : waiting) {
            if (r.client.equals(most) && (newest == null || r.order > newest.order)) newest = r;
        }
        return newest;
    }

    private void grant(Reservation reservation) {
        long now = nanoClock.getAsLong();
        inUse += reservation.bytes;
        reservation.state = State.GRANTED;
        reservation.grantedAt = now;
        granted.add(reservation);
    }

    /** Byte-seconds one client held, halving every half-life. */
    private static final class Usage {
        private double byteSeconds;
        private long at;

        double at(long now, long halfLife) {
            return byteSeconds * Math.pow(0.5, (double) (now - at) / halfLife);
        }

        void add(double held, long now, long halfLife) {
            byteSeconds = at(now, halfLife) + held;
            at = now;
        }
    }

    private void take(Reservation reservation) {
        long now = nanoClock.getAsLong();
        usage.computeIfAbsent(reservation.client, c -> new Usage()).add(byteSeconds(reservation, now), now, HALF_LIFE_NANOS);
        if (usage.size() > REMEMBERED_CLIENTS) {
            Set<Object> holding = new HashSet<>();
            granted.forEach(r -> holding.add(r.client));
            usage.entrySet().removeIf(e -> !holding.contains(e.getKey()) && e.getValue().at(now, HALF_LIFE_NANOS) < 1);
        }
        inUse -= reservation.bytes;
        granted.remove(reservation);
    }

    private static void notifyAll(List<Reservation> grantedNow, List<Reservation> evicted) {
        for (Reservation r : evicted) r.onEvicted.accept(r);
        for (Reservation r : grantedNow) r.onGranted.accept(r);
    }

    private enum State { WAITING, GRANTED, RELEASED, REFUSED }

    /** One request's share of the budget. */
    public final class Reservation {
        private final Object client;
        private final long bytes;
        private final BooleanSupplier waitingOnClient;
        private final Consumer<Reservation> onGranted;
        private final Consumer<Reservation> onEvicted;
        private State state = State.WAITING;
        private long order;
        private long grantedAt;

        private Reservation(Object client, long bytes, BooleanSupplier waitingOnClient, Consumer<Reservation> onGranted,
                Consumer<Reservation> onEvicted) {
            this.client = client;
            this.bytes = bytes;
            this.waitingOnClient = waitingOnClient;
            this.onGranted = onGranted;
            this.onEvicted = onEvicted;
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

        /** Whether it was refused at once: every waiting place was taken (the caller answers 503). */
        public boolean refused() {
            synchronized (MemoryBudget.this) {
                return state == State.REFUSED;
            }
        }

        /**
         * Gives the bytes back, or leaves the queue if still waiting. Idempotent: safe from every path by which a
         * request can end (answered, aborted, timed out, evicted).
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
