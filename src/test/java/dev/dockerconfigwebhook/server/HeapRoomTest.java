package dev.dockerconfigwebhook.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeapRoomTest {

    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    /** The JVM's two flags, as a record of what was set. */
    private static final class FakeFlags implements HeapRoom.Flags {
        int min;
        int max;
        final List<String> calls = new ArrayList<>();

        FakeFlags(int min, int max) {
            this.min = min;
            this.max = max;
        }

        @Override public int minHeapFreeRatio() { return min; }
        @Override public int maxHeapFreeRatio() { return max; }
        @Override public void set(int minFree, int maxFree) {
            min = minFree;
            max = maxFree;
            calls.add("set " + minFree + "/" + maxFree);
        }
        @Override public void collect() { calls.add("collect"); }
    }

    @Test
    void aBurstGetsRoomAndTheHeapIsGivenBackOnceAfterFiveQuietSeconds() {
        FakeFlags flags = new FakeFlags(20, 40);
        HeapRoom room = new HeapRoom(flags);
        assertFalse(room.tick(false, 100 * SECOND), "nothing to give back before any large review");

        room.largeReviewStarting(0);
        room.largeReviewStarting(SECOND / 2); // a second one of the same burst: already roomy
        assertEquals(List.of("set 40/70"), flags.calls);

        assertFalse(room.tick(true, 2 * SECOND), "still in flight");
        assertFalse(room.tick(false, 6 * SECOND), "4 s since the last one was seen in flight");
        assertTrue(room.roomy());
        assertTrue(room.tick(false, 7 * SECOND), "5 s quiet: give back");
        room.collect();
        assertEquals(List.of("set 40/70", "set 20/40", "collect"), flags.calls);
        assertFalse(room.tick(false, 60 * SECOND), "given back once, not on every tick");
        assertEquals(1, room.givenBack());

        room.largeReviewStarting(61 * SECOND); // the next burst
        assertEquals("set 40/70", flags.calls.get(flags.calls.size() - 1));
        assertEquals(40, flags.min);
        assertEquals(70, flags.max);
    }

    @Test
    void aLargeReviewStartingDuringTheQuietPeriodPostponesTheGiveBack() {
        FakeFlags flags = new FakeFlags(20, 40);
        HeapRoom room = new HeapRoom(flags);
        room.largeReviewStarting(0);
        room.largeReviewStarting(4 * SECOND);
        assertFalse(room.tick(false, 8 * SECOND));
        assertTrue(room.tick(false, 9 * SECOND));
    }

    @ParameterizedTest(name = "started with {0}/{1}: roomy {2}/{3}, active {4}")
    @CsvSource({
            "20, 40, 40, 70, true",   // the deployment's flags
            "10, 30, 40, 70, true",
            "30, 90, 40, 90, true",   // a roomier maximum is kept
            "40, 70, 40, 70, false",  // the JVM's defaults: nothing to switch
            "50, 80, 50, 80, false",
    })
    void roomIsNeverTighterThanTheStartUpFlags(int min, int max, int roomyMin, int roomyMax, boolean active) {
        FakeFlags flags = new FakeFlags(min, max);
        HeapRoom room = new HeapRoom(flags);
        room.largeReviewStarting(0);
        assertEquals(roomyMin, flags.min);
        assertEquals(roomyMax, flags.max);
        assertEquals(active, room.tick(false, 10 * SECOND));
        assertEquals(min, flags.min, "back to the start-up values");
        assertEquals(max, flags.max);
    }

    @Test
    void settlingPutsTheStartUpValuesBackAtOnceAndLeavesNothingToGiveBackLater() {
        FakeFlags flags = new FakeFlags(20, 40);
        HeapRoom room = new HeapRoom(flags);
        room.settle();
        assertEquals(List.of(), flags.calls, "not roomy: nothing to put back");

        room.largeReviewStarting(0); // the warm-up's large reviews
        room.settle(); // at its end, well within the quiet period
        assertEquals(List.of("set 40/70", "set 20/40"), flags.calls);
        assertFalse(room.roomy());
        assertFalse(room.tick(false, 60 * SECOND), "no give-back collection pending");
        assertEquals(0, room.givenBack());

        room.largeReviewStarting(61 * SECOND); // the first real burst gets room as any other
        assertEquals("set 40/70", flags.calls.get(flags.calls.size() - 1));
    }

    @Test
    void theJvmAdapterSetsBothFlagsInEitherDirection() {
        HeapRoom.Flags jvm = HeapRoom.onJvm();
        assertNotNull(jvm, "HotSpot: both flags are manageable");
        int min = jvm.minHeapFreeRatio();
        int max = jvm.maxHeapFreeRatio();
        try {
            jvm.set(80, 90); // above the current maximum: the maximum must move first
            assertEquals(80, jvm.minHeapFreeRatio());
            assertEquals(90, jvm.maxHeapFreeRatio());
            jvm.set(10, 20); // below the current minimum: the minimum must move first
            assertEquals(10, jvm.minHeapFreeRatio());
            assertEquals(20, jvm.maxHeapFreeRatio());
        } finally {
            jvm.set(min, max);
        }
        assertEquals(min, jvm.minHeapFreeRatio());
        assertEquals(max, jvm.maxHeapFreeRatio());
    }
}
