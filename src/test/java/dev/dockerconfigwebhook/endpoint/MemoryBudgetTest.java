package dev.dockerconfigwebhook.endpoint;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The budget alone, without a server and with a clock the test moves: admission, fair queueing between clients,
 * stalled holders giving way, and release on every path by which a request ends.
 */
class MemoryBudgetTest {

    private static final Duration STALL_AFTER = Duration.ofMillis(500);

    private final AtomicLong now = new AtomicLong();
    private final List<String> events = new ArrayList<>();

    private MemoryBudget budget(long capacity, int maxWaiting) {
        return new MemoryBudget("test", capacity, STALL_AFTER, maxWaiting, now::get);
    }

    /** A reservation that records its grant and eviction as "name granted" / "name evicted". */
    private MemoryBudget.Reservation reserve(MemoryBudget budget, String client, String name, long bytes,
            AtomicBoolean waitingOnClient) {
        return budget.reserve(client, bytes, waitingOnClient::get, r -> events.add(name + " granted"),
                r -> events.add(name + " evicted"));
    }

    private MemoryBudget.Reservation reserve(MemoryBudget budget, String client, String name, long bytes) {
        return reserve(budget, client, name, bytes, new AtomicBoolean(true));
    }

    private void advance(Duration duration) {
        now.addAndGet(duration.toNanos());
    }

    @Test
    void oneClientIsServedFirstComeFirstServed() {
        MemoryBudget budget = budget(100, 64);
        MemoryBudget.Reservation a = reserve(budget, "api", "a", 60);
        MemoryBudget.Reservation b = reserve(budget, "api", "b", 50);
        MemoryBudget.Reservation c = reserve(budget, "api", "c", 10);
        assertEquals(List.of("a granted"), events, "c would fit, but b waits before it: first come, first served");
        assertEquals(60, budget.inUse());
        assertEquals(2, budget.waiting());
        assertTrue(a.granted());
        assertFalse(b.granted());

        a.release();
        assertEquals(List.of("a granted", "b granted", "c granted"), events, "one release lets in every waiter that fits");
        b.release();
        c.release();
        assertEquals(0, budget.inUse());
    }

    @Test
    void theClientWithTheLeastShareIsGrantedFirst() {
        MemoryBudget budget = budget(100, 64);
        reserve(budget, "attacker", "a1", 50);
        MemoryBudget.Reservation a2 = reserve(budget, "attacker", "a2", 50);
        reserve(budget, "attacker", "a3", 50);
        reserve(budget, "attacker", "a4", 50);
        reserve(budget, "api", "api", 50);
        advance(Duration.ofSeconds(1));
        a2.release();
        assertEquals(List.of("a1 granted", "a2 granted", "api granted"), events,
                "the API server, which held nothing, before the attacker's earlier requests (it held 100 bytes for 1 s)");
    }

    @Test
    void aClientWhoseRequestsWereCutIsNoNewcomer() {
        MemoryBudget budget = budget(100, 64);
        MemoryBudget.Reservation a1 = reserve(budget, "attacker", "a1", 100);
        reserve(budget, "attacker", "a2", 100);
        reserve(budget, "api", "api", 100);
        advance(Duration.ofSeconds(1));
        a1.release(); // cut: the attacker holds nothing now, but held 100 bytes for the last second
        assertEquals(List.of("a1 granted", "api granted"), events, "its earlier request waits behind the API server's");
    }

    @Test
    void aBusyClientWhoseReviewsComeAndGoKeepsASmallShare() {
        MemoryBudget budget = budget(100, 64);
        for (int i = 0; i < 1_000; i++) { // the API server: a thousand reviews of 50 bytes, 1 ms each
            reserve(budget, "api", "api" + i, 50).release();
            advance(Duration.ofMillis(1));
        }
        MemoryBudget.Reservation slow = reserve(budget, "attacker", "slow", 100);
        advance(Duration.ofSeconds(1)); // held for a second while it trickles in
        reserve(budget, "attacker", "next", 50);
        reserve(budget, "api", "review", 50);
        events.clear();
        slow.release();
        assertEquals(List.of("review granted", "next granted"), events,
                "about 50 byte-seconds of the API server against the attacker's 100: the API server goes first");
    }

    @Test
    void aClientStalledOnItsClientGivesWayToAnotherClientsReview() {
        MemoryBudget budget = budget(100, 64);
        reserve(budget, "attacker", "a1", 50);
        reserve(budget, "attacker", "a2", 50);
        reserve(budget, "api", "api", 50);
        budget.reclaim();
        assertEquals(List.of("a1 granted", "a2 granted"), events, "granted just now: not stalled yet");

        advance(STALL_AFTER);
        budget.reclaim();
        assertEquals(List.of("a1 granted", "a2 granted", "a1 evicted", "api granted"), events,
                "the oldest stalled reservation of the client holding most is taken back, just enough to fit");
        assertEquals(100, budget.inUse());
    }

    @Test
    void aReviewBeingDecidedIsNeverTakenBack() {
        MemoryBudget budget = budget(100, 64);
        AtomicBoolean waitingOnClient = new AtomicBoolean(false); // its body is in: the server is deciding it
        reserve(budget, "other", "decided", 100, waitingOnClient);
        reserve(budget, "api", "api", 50);
        advance(Duration.ofSeconds(5));
        budget.reclaim();
        assertEquals(List.of("decided granted"), events);
        waitingOnClient.set(true); // the answer is written and nobody reads it
        budget.reclaim();
        assertEquals(List.of("decided granted", "decided evicted", "api granted"), events);
    }

    @Test
    void nobodyIsTakenBackInFavourOfAClientWithAsLargeAShare() {
        MemoryBudget budget = budget(100, 64);
        reserve(budget, "api", "api1", 50);
        reserve(budget, "attacker", "a1", 50);
        reserve(budget, "attacker", "a2", 50);
        advance(Duration.ofSeconds(5));
        budget.reclaim();
        assertEquals(List.of("api1 granted", "a1 granted"), events,
                "the attacker has held as much as the API server, as long: its next request waits, nothing is taken back");
    }

    @Test
    void theClientWaitingWithMostGivesUpItsNewestPlace() {
        MemoryBudget budget = budget(100, 3);
        reserve(budget, "attacker", "holder", 100);
        reserve(budget, "attacker", "w1", 10);
        reserve(budget, "attacker", "w2", 10);
        reserve(budget, "attacker", "w3", 10);
        MemoryBudget.Reservation refused = reserve(budget, "attacker", "w4", 10);
        assertTrue(refused.refused(), "every place taken by its own client: refused");
        MemoryBudget.Reservation api = reserve(budget, "api", "api", 10);
        assertFalse(api.refused(), "the API server takes the attacker's newest place");
        assertEquals(List.of("holder granted", "w3 evicted"), events);
        assertEquals(3, budget.waiting());
    }

    @Test
    void aRequestLargerThanTheWholeBudgetRunsAlone() {
        MemoryBudget budget = budget(100, 64);
        MemoryBudget.Reservation huge = reserve(budget, "api", "huge", 1_000);
        assertEquals(100, huge.bytes(), "charged the whole capacity, never more");
        reserve(budget, "api", "small", 1);
        assertEquals(List.of("huge granted"), events, "nothing else while it runs");
        huge.release();
        assertEquals(List.of("huge granted", "small granted"), events);
    }

    @Test
    void cancellingAWaiterFreesTheQueueBehindIt() {
        MemoryBudget budget = budget(100, 64);
        MemoryBudget.Reservation holder = reserve(budget, "api", "holder", 90);
        MemoryBudget.Reservation big = reserve(budget, "api", "big", 50);
        MemoryBudget.Reservation small = reserve(budget, "api", "small", 10);
        assertTrue(big.cancel(), "it was waiting: cancelled (the caller answers 503)");
        assertEquals(List.of("holder granted", "small granted"), events, "the small one behind it now fits");
        assertFalse(small.cancel(), "granted: cannot be cancelled, must be released");
        small.release();
        holder.release();
        big.release(); // a second end is harmless
        assertEquals(0, budget.inUse());
        assertEquals(0, budget.waiting());
    }

    @Test
    void releaseIsIdempotentAndAnEvictedReservationGivesNothingBackTwice() {
        MemoryBudget budget = budget(100, 64);
        MemoryBudget.Reservation a = reserve(budget, "attacker", "a", 60);
        MemoryBudget.Reservation b = reserve(budget, "attacker", "b", 40);
        a.release();
        a.release();
        assertEquals(40, budget.inUse(), "releasing twice gives back only once");
        reserve(budget, "api", "api", 80);
        advance(STALL_AFTER);
        budget.reclaim();
        assertEquals(80, budget.inUse());
        b.release(); // the caller's own end after the eviction
        assertEquals(80, budget.inUse(), "evicted bytes were given back once, at the eviction");
    }

    /**
     * 10,000 uploads from 4 clients on 8 threads, ending every way an exchange can: answered, aborted while reading,
     * aborted while waiting, timed out while waiting (cancel) racing the grant, evicted while stalled. Nothing may
     * leak and nothing may be granted twice.
     */
    @Test
    void noBudgetLeaksAfterTenThousandAbandonedUploads() throws Exception {
        AtomicLong clock = new AtomicLong();
        MemoryBudget budget = new MemoryBudget("test", 1_000, STALL_AFTER, 64, () -> clock.addAndGet(1_000_000));
        ExecutorService threads = Executors.newFixedThreadPool(8);
        AtomicLong maxInUse = new AtomicLong();
        AtomicInteger grantedTwice = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(10_000);
        for (int i = 0; i < 10_000; i++) {
            int seed = i;
            threads.submit(() -> {
                Random random = new Random(seed);
                AtomicInteger grants = new AtomicInteger();
                MemoryBudget.Reservation reservation = budget.reserve("client-" + random.nextInt(4), 1 + random.nextInt(400),
                        random::nextBoolean, r -> {
                            if (grants.incrementAndGet() > 1) grantedTwice.incrementAndGet();
                            maxInUse.accumulateAndGet(budget.inUse(), Math::max);
                        }, r -> { });
                switch (random.nextInt(4)) {
                    case 0 -> reservation.release(); // answered or aborted, granted or not
                    case 1 -> {
                        if (!reservation.cancel()) reservation.release(); // the wait timer fired, racing a grant
                    }
                    case 2 -> {
                        budget.reclaim(); // someone's reclaim timer, maybe evicting this one
                        reservation.release();
                    }
                    default -> {
                        Thread.yield();
                        reservation.release();
                        reservation.release(); // abort and answer both ending it
                    }
                }
                done.countDown();
            });
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        threads.shutdown();
        assertEquals(0, budget.inUse(), "every byte came back");
        assertEquals(0, budget.waiting(), "nobody is left waiting");
        assertEquals(0, grantedTwice.get());
        assertTrue(maxInUse.get() <= budget.capacity(), "never more than the capacity: " + maxInUse.get());
    }
}
