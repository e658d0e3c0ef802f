package dev.dockerconfigwebhook.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The arrays of large reviews' bodies, without a server: size classes, reuse, the idle bound, and clearing. */
class BodyArraysTest {

    private static final int MIB = 1024 * 1024;

    @ParameterizedTest(name = "{0} B -> {1} B")
    @CsvSource({
            "0, 0",
            "8, 8",
            "9, 9",                        // step 1 below 16
            "65537, 73728",                // step 8 KiB above 64 KiB
            "100000, 106496",
            "2460854, 2621440",            // a 1 MiB secret's UPDATE review: 2.5 MiB
            "2621440, 2621440",            // a size class is its own class
            "4194303, 4194304",            // rounding up may reach the next power of two
            "8388608, 8388608",            // the 8 MiB body limit
    })
    void sizeClassesAreAtMostAnEighthLarger(long body, long array) {
        assertEquals(array, BodyArrays.arrayLength(body));
        assertEquals(array, BodyArrays.arrayLength(array), "fixed point: a kept array is found by its own length");
    }

    @Test
    void everyLengthUpToTheBodyLimitFitsAndWastesAtMostAnEighth() {
        for (long body = 1; body <= Limits.MAX_BODY_BYTES; body += 997) {
            long array = BodyArrays.arrayLength(body);
            assertTrue(array >= body && array - body <= body / 8, body + " -> " + array);
        }
    }

    @Test
    void aGivenBackArrayIsTakenAgainBySimilarSizesOnly() {
        BodyArrays arrays = new BodyArrays(8L * MIB);
        byte[] first = arrays.take(2_460_854);
        assertEquals(2_621_440, first.length);
        arrays.give(first);
        assertEquals(2_621_440, arrays.idleBytes());

        byte[] other = arrays.take(1_000_000);
        assertNotSame(first, other, "another size class: a new array");
        byte[] again = arrays.take(2_500_000);
        assertSame(first, again, "same size class: the kept one");
        assertEquals(0, arrays.idleBytes());
        assertEquals(1, arrays.reused());
    }

    @Test
    void keepsNoMoreThanItsIdleCapacity() {
        BodyArrays arrays = new BodyArrays(6 * MIB);
        byte[] a = arrays.take(2_460_854);
        byte[] b = arrays.take(2_460_854);
        byte[] c = arrays.take(2_460_854);
        arrays.give(a);
        arrays.give(b);
        arrays.give(c);
        assertEquals(2 * 2_621_440, arrays.idleBytes(), "the third would pass 6 MiB: dropped for the collector");

        byte[] huge = arrays.take((int) Limits.MAX_BODY_BYTES);
        arrays.give(huge);
        assertEquals(2 * 2_621_440, arrays.idleBytes(), "larger than the room left: dropped");
    }

    @Test
    void onlyArraysItHandedOutAreKept() {
        BodyArrays arrays = new BodyArrays(8L * MIB);
        arrays.give(new byte[2_621_440]); // a size class, but not one of ours
        assertEquals(0, arrays.idleBytes());
    }

    /**
     * An array given back twice must not be handed to two reviews: ReviewExchange once gave one back from its worker
     * and again from its answer (when the answer came at once), and two uploads were written into one array.
     */
    @Test
    void aSecondGiveOfTheSameArrayIsIgnored() {
        BodyArrays arrays = new BodyArrays(8L * MIB);
        byte[] once = arrays.take(2_460_854);
        arrays.give(once);
        arrays.give(once);
        assertEquals(2_621_440, arrays.idleBytes(), "kept once");
        byte[] first = arrays.take(2_460_854);
        byte[] second = arrays.take(2_460_854);
        assertSame(once, first);
        assertNotSame(first, second, "two takers, two arrays");
    }

    @Test
    void clearDropsWhatIsKeptAndWhatIsInUse() {
        BodyArrays arrays = new BodyArrays(8L * MIB);
        byte[] kept = arrays.take(2_460_854);
        byte[] held = arrays.take(2_460_854);
        arrays.give(kept);
        arrays.clear();
        assertEquals(0, arrays.idleBytes());
        arrays.give(held);
        assertEquals(0, arrays.idleBytes(), "in use when cleared: dropped when given back");
        byte[] next = arrays.take(2_460_854);
        assertTrue(next != kept && next != held, "cleared: a new array");
    }

    /** Taken on event loops, given back on workers: an array is never handed to two holders at once. */
    @Test
    void concurrentTakeAndGiveNeverShareAnArray() throws Exception {
        BodyArrays arrays = new BodyArrays(16L * MIB);
        ExecutorService threads = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                byte mark = (byte) (t + 1);
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 2_000; i++) {
                        byte[] array = arrays.take(300_000 + (i % 3) * 100_000);
                        array[0] = mark;
                        array[array.length - 1] = mark;
                        Thread.onSpinWait();
                        if (array[0] != mark || array[array.length - 1] != mark) {
                            throw new AssertionError("an array was held by two takers at once");
                        }
                        arrays.give(array);
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        assertTrue(arrays.reused() > 0);
        assertTrue(arrays.idleBytes() <= 16L * MIB);
    }
}
