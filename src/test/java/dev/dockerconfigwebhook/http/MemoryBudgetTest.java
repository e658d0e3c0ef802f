package dev.dockerconfigwebhook.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The budget alone, without a server: admission, queueing, and release on every path by which a request ends. */
class MemoryBudgetTest {

    @Test
    void grantsAtOnceWhatFitsAndQueuesTheRestInOrder() {
        MemoryBudget budget = new MemoryBudget("test", 100);
        List<String> granted = new ArrayList<>();
        MemoryBudget.Reservation a = budget.reserve(60, r -> granted.add("a"));
        MemoryBudget.Reservation b = budget.reserve(50, r -> granted.add("b"));
        MemoryBudget.Reservation c = budget.reserve(10, r -> granted.add("c"));
        assertEquals(List.of("a"), granted, "c would fit, but b waits before it: first come, first served");
        assertEquals(60, budget.inUse());
        assertEquals(2, budget.waiting());
        assertTrue(a.granted());
        assertFalse(b.granted());

        a.release();
        assertEquals(List.of("a", "b", "c"), granted, "one release lets every waiter that now fits in, in order");
        assertEquals(60, budget.inUse());
        b.release();
        c.release();
        assertEquals(0, budget.inUse());
    }

    @Test
    void aRequestLargerThanTheWholeBudgetRunsAlone() {
        MemoryBudget budget = new MemoryBudget("test", 100);
        AtomicInteger granted = new AtomicInteger();
        MemoryBudget.Reservation huge = budget.reserve(1_000, r -> granted.incrementAndGet());
        assertEquals(1, granted.get());
        assertEquals(100, huge.bytes(), "charged the whole capacity, never more");
        budget.reserve(1, r -> granted.incrementAndGet());
        assertEquals(1, granted.get(), "nothing else while it runs");
        huge.release();
        assertEquals(2, granted.get());
    }

    @Test
    void cancellingAWaiterFreesTheQueueBehindIt() {
        MemoryBudget budget = new MemoryBudget("test", 100);
        MemoryBudget.Reservation holder = budget.reserve(90, r -> { });
        AtomicInteger granted = new AtomicInteger();
        MemoryBudget.Reservation big = budget.reserve(50, r -> granted.incrementAndGet());
        MemoryBudget.Reservation small = budget.reserve(10, r -> granted.incrementAndGet());
        assertEquals(0, granted.get());
        assertTrue(big.cancel(), "it was waiting: cancelled (the caller answers 503)");
        assertEquals(1, granted.get(), "the small one behind it now fits");
        assertFalse(small.cancel(), "granted: cannot be cancelled, must be released");
        small.release();
        holder.release();
        big.release(); // a second end is harmless
        assertEquals(0, budget.inUse());
        assertEquals(0, budget.waiting());
    }

    @Test
    void releaseIsIdempotent() {
        MemoryBudget budget = new MemoryBudget("test", 100);
        MemoryBudget.Reservation a = budget.reserve(40, r -> { });
        MemoryBudget.Reservation b = budget.reserve(40, r -> { });
        a.release();
        a.release();
        assertEquals(40, budget.inUse(), "releasing twice gives back only once");
        b.release();
        assertEquals(0, budget.inUse());
    }

    /**
     * 10,000 uploads from 8 threads, ending every way an exchange can: answered, aborted while reading, aborted while
     * waiting, timed out while waiting (cancel) racing the grant. Nothing may leak and nothing may be granted twice.
     */
    @Test
    void noBudgetLeaksAfterTenThousandAbandonedUploads() throws Exception {
        MemoryBudget budget = new MemoryBudget("test", 1_000);
        ExecutorService threads = Executors.newFixedThreadPool(8);
        AtomicLong maxInUse = new AtomicLong();
        AtomicInteger grantedTwice = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(10_000);
        for (int i = 0; i < 10_000; i++) {
            int seed = i;
            threads.submit(() -> {
                Random random = new Random(seed);
                AtomicInteger grants = new AtomicInteger();
                MemoryBudget.Reservation reservation = budget.reserve(1 + random.nextInt(400), r -> {
                    if (grants.incrementAndGet() > 1) grantedTwice.incrementAndGet();
                    maxInUse.accumulateAndGet(budget.inUse(), Math::max);
                });
                switch (random.nextInt(3)) {
                    case 0 -> reservation.release(); // answered or aborted, granted or not
                    case 1 -> {
                        if (!reservation.cancel()) reservation.release(); // the wait timer fired, racing a grant
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
