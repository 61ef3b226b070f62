package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** wtlfu's own behaviour: admission, scans and loops, dirty blocks, the climber, hints and memory. */
class TinyLfuPolicyTest {
    private static final long ORIGIN = 1_000_000;

    private static TinyLfuPolicy create(int cacheBlocks) {
        return (TinyLfuPolicy) Policies.create("wtlfu", cacheBlocks, ORIGIN, 128, new FakeClock());
    }

    /** The engine's migration worker catching up: every work item done, successfully. */
    private static List<PolicyWork> drain(CachePolicy p) {
        List<PolicyWork> done = new ArrayList<>();
        for (Optional<PolicyWork> w = p.getBackgroundWork(false); w.isPresent(); w = p.getBackgroundWork(false)) {
            PolicyWork work = w.get();
            if (work.op() == WorkOp.WRITEBACK) {
                p.clearDirty(work.cblock());
            }
            p.completeBackgroundWork(work, true);
            done.add(work);
        }
        return done;
    }

    /** One access as the sim's engine model makes it: a hit, or a miss whose work completes at once. */
    private static boolean access(CachePolicy p, long ob, boolean write) {
        int c = p.lookup(ob, write ? IoDirection.WRITE : IoDirection.READ, false);
        if (c >= 0) {
            if (write) {
                p.setDirty(c);
            }
            return true;
        }
        drain(p);
        return false;
    }

    @Test
    void tunablesAreCheckedAndShown() {
        TinyLfuPolicy p = create(200);
        assertEquals("6 window_percent 0 adaptive_window 0 duel 1", p.emitConfigValues().statusText());
        assertEquals(0, p.windowMax());
        p.setConfigValue("window_percent", "10");
        p.setConfigValue("adaptive_window", "1");
        assertEquals(20, p.windowMax());
        assertEquals("6 window_percent 10 adaptive_window 1 duel 1", p.emitConfigValues().statusText());
        for (String[] bad : new String[][] {{"window_percent", "101"}, {"window_percent", "-1"}, {"window_percent", ""},
                {"adaptive_window", "2"}, {"adaptive_window", "yes"}, {"duel", "on"}}) {
            PolicyConfigException e = org.junit.jupiter.api.Assertions.assertThrows(PolicyConfigException.class,
                    () -> p.setConfigValue(bad[0], bad[1]));
            assertTrue(e.getMessage().startsWith("policy wtlfu: value '" + bad[1] + "' for '" + bad[0] + "'"),
                    e.getMessage());
        }
        PolicyConfigException e = org.junit.jupiter.api.Assertions.assertThrows(PolicyConfigException.class,
                () -> p.setConfigValue("migration_threshold", "5"));
        assertEquals("policy wtlfu: unknown tunable 'migration_threshold' (known: window_percent, adaptive_window, duel)",
                e.getMessage());
    }

    @Test
    void withAWindowEveryMissIsPromoted() {
        TinyLfuPolicy p = create(50);
        p.setConfigValue("window_percent", "20");
        p.setConfigValue("duel", "0");
        int fills = 0;
        for (int b = 0; b < 500; b++) {
            access(p, b, false);
        }
        for (int b = 1000; b < 1100; b++) {
            fills += access(p, b, false) ? 0 : 1;
            assertTrue(p.lookupMapping(b) >= 0, "a miss enters the window");
        }
        assertEquals(100, fills);
    }

    /** Every block read twice, 150 accesses apart, never again: only recency catches the second read. */
    private static double readTwice(TinyLfuPolicy p, int n) {
        long[] ring = new long[150];
        long hits = 0;
        long late = 0;
        for (int i = 0; i < n; i++) {
            long again = ring[i % 150];
            ring[i % 150] = i;
            access(p, i, false);
            if (i >= 150) {
                boolean hit = access(p, again, false);
                if (i >= n / 2 && hit) {
                    late++;
                }
            }
        }
        return late / (n / 2.0);
    }

    @Test
    void theDuelTurnsToLruWhenRecencyIsAllThereIs() {
        TinyLfuPolicy p = create(400);
        assertEquals(0, p.mode());
        double withDuel = readTwice(p, 100_000);
        assertEquals(TinyLfuPolicy.LRU_MODE, p.mode(), "LRU won the duel");
        assertEquals(400, p.windowMax(), "LRU is a window of the whole cache");
        TinyLfuPolicy noDuel = create(400);
        noDuel.setConfigValue("duel", "0");
        double without = readTwice(noDuel, 100_000);
        assertTrue(withDuel > 0.9 && without < 0.5, "second reads caught: " + withDuel + " with the duel, "
                + without + " without");
    }

    @Test
    void theDuelKeepsTinyLfuOnALoop() {
        TinyLfuPolicy p = create(64);
        long late = 0;
        for (int pass = 0; pass < 200; pass++) {
            for (int b = 0; b < 256; b++) {
                boolean hit = access(p, b, false);
                late += pass >= 100 && hit ? 1 : 0;
            }
        }
        assertTrue(p.mode() != TinyLfuPolicy.LRU_MODE, "LRU gets nothing on a loop: mode " + p.mode());
        assertTrue(late / (100.0 * 256) >= 0.2, "hit ratio " + late / (100.0 * 256));
    }

    @Test
    void aScanDoesNotFlushTheFrequentBlocks() {
        TinyLfuPolicy p = create(100);
        for (int round = 0; round < 10; round++) {
            for (int b = 0; b < 60; b++) {
                access(p, b, false);
            }
        }
        for (int b = 0; b < 60; b++) {
            assertTrue(p.lookupMapping(b) >= 0, "hot block " + b + " cached before the scan");
        }
        for (int b = 10_000; b < 15_000; b++) {
            access(p, b, false);
        }
        int kept = 0;
        for (int b = 0; b < 60; b++) {
            kept += p.lookupMapping(b) >= 0 ? 1 : 0;
        }
        assertTrue(kept >= 55, "a scan of 5,000 blocks seen once left only " + kept + " of 60 hot blocks");
        assertEquals(100, p.residency());
    }

    @Test
    void aLoopLargerThanTheCacheStillHits() {
        TinyLfuPolicy p = create(64);
        long hits = 0;
        long late = 0;
        for (int pass = 0; pass < 200; pass++) {
            for (int b = 0; b < 256; b++) {
                boolean hit = access(p, b, false);
                if (pass >= 100 && hit) {
                    late++;
                }
                hits += hit ? 1 : 0;
            }
        }
        double ratio = late / (100.0 * 256);
        // LRU (and any demand-fill policy) gets 0 on such a loop; OPT gets 63/256
        assertTrue(ratio >= 0.15, "hit ratio on a loop of 4x the cache: " + ratio);
        assertTrue(hits > 0);
    }

    @Test
    void aDirtyVictimIsWrittenBackBeforeItIsDemoted() {
        TinyLfuPolicy p = create(16);
        for (int b = 0; b < 16; b++) {
            access(p, b, false);
        }
        assertEquals(16, p.residency());
        for (int b = 0; b < 16; b++) {
            assertTrue(access(p, b, true), "write hit on " + b);
        }
        assertEquals(16, p.dirtyCount());
        // a block more frequent than any cached one misses: something has to go, and all are dirty
        for (int k = 0; k < 20; k++) {
            p.lookup(500, IoDirection.READ, false);
        }
        Map<Long, WorkOp> firstOp = new HashMap<>();
        List<PolicyWork> done = new ArrayList<>();
        for (int k = 0; k < 40 && p.lookupMapping(500) < 0; k++) {
            p.lookup(500, IoDirection.READ, false);
            for (PolicyWork w : drain(p)) {
                firstOp.putIfAbsent(w.oblock(), w.op());
                done.add(w);
            }
        }
        assertTrue(p.lookupMapping(500) >= 0, "the frequent block got in: " + done);
        for (PolicyWork w : done) {
            if (w.op() == WorkOp.DEMOTE) {
                assertEquals(WorkOp.WRITEBACK, firstOp.get(w.oblock()), "demoted before it was written back: " + w);
            }
        }
        assertTrue(done.stream().anyMatch(w -> w.op() == WorkOp.DEMOTE));
    }

    @Test
    void busyWritebacksKeepAQuarterOfTheCacheClean() {
        TinyLfuPolicy p = create(100);
        for (int b = 0; b < 100; b++) {
            access(p, b, false);
        }
        for (int b = 0; b < 100; b++) {
            p.setDirty(p.lookupMapping(b));
        }
        drain(p);
        assertEquals(75, p.dirtyCount(), "busy: written back until 25% are clean");
        for (Optional<PolicyWork> w = p.getBackgroundWork(true); w.isPresent(); w = p.getBackgroundWork(true)) {
            p.clearDirty(w.get().cblock());
            p.completeBackgroundWork(w.get(), true);
        }
        assertEquals(0, p.dirtyCount(), "idle: everything written back");
    }

    @Test
    void theWindowGrowsWhenRecencyPays() {
        // every block is read twice, 150 accesses apart, and never again: only a window that holds the last
        // 150 blocks catches the second read, so the climber must grow the window from its 1% start
        TinyLfuPolicy p = create(400);
        p.setConfigValue("duel", "0");
        p.setConfigValue("window_percent", "1");
        p.setConfigValue("adaptive_window", "1");
        int start = p.windowMax();
        assertEquals(4, start);
        long next = 0;
        long[] ring = new long[150];
        for (int i = 0; i < 400_000; i++) {
            long ob = next++ % ORIGIN;
            long again = ring[i % 150];
            ring[i % 150] = ob;
            access(p, ob, false);
            if (i >= 150) {
                access(p, again, false);
            }
        }
        assertTrue(p.windowMax() > start + 100, "window " + start + " -> " + p.windowMax());
    }

    @Test
    void hintsCarryRegionAndFrequencyToTheNextStart() {
        TinyLfuPolicy p = create(200);
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 50_000; i++) {
            access(p, (long) (Math.pow(r.nextDouble(), 3) * 2000), false);
        }
        List<long[]> saved = new ArrayList<>();
        p.forEachMapping((c, ob, d, hint) -> saved.add(new long[] {c, ob, hint}));
        assertEquals(200, saved.size());
        int[] perRegion = new int[3];
        TinyLfuPolicy q = create(200);
        TinyLfuPolicy cold = create(200);
        for (long[] m : saved) {
            int hint = (int) m[2];
            assertEquals(p.getHint((int) m[0]), hint);
            int region = (hint >>> 4) - 1;
            assertEquals(p.regionOf((int) m[0]), region);
            assertEquals(p.frequency(m[1]), hint & 15);
            perRegion[region]++;
            q.loadMapping(m[1], (int) m[0], false, hint, true);
            cold.loadMapping(m[1], (int) m[0], false, hint, false);
        }
        assertTrue(perRegion[TinyLfuPolicy.PROTECTED] > 0 && perRegion[TinyLfuPolicy.PROBATION] > 0,
                "regions " + java.util.Arrays.toString(perRegion));
        for (long[] m : saved) {
            int c = (int) m[0];
            assertEquals(p.regionOf(c), q.regionOf(c), "region of cache block " + c);
            assertTrue(q.frequency(m[1]) >= (m[2] & 15), "frequency of origin block " + m[1]);
            assertEquals(TinyLfuPolicy.PROBATION, cold.regionOf(c), "without hints every block is on probation");
        }
        // the frequencies matter: new blocks read twice each get into the cache loaded without hints (its
        // blocks have no frequency), not past the frequent blocks of the one loaded with them (with the duel off,
        // which would rightly turn both to LRU for a workload where every block is read twice in a row)
        q.setConfigValue("duel", "0");
        cold.setConfigValue("duel", "0");
        for (int b = 100_000; b < 101_000; b++) {
            for (int k = 0; k < 2; k++) {
                access(q, b, false);
                access(cold, b, false);
            }
        }
        int keptWithHints = 0;
        int keptCold = 0;
        for (long[] m : saved) {
            if ((m[2] & 15) >= 3) {
                keptWithHints += q.lookupMapping(m[1]) >= 0 ? 1 : 0;
                keptCold += cold.lookupMapping(m[1]) >= 0 ? 1 : 0;
            }
        }
        assertTrue(keptWithHints > keptCold, "with hints " + keptWithHints + ", without " + keptCold);
    }

    @Property(tries = 200)
    void regionsStayWithinTheirSizes(@ForAll @IntRange(min = 1, max = 300) int cacheBlocks,
                                     @ForAll @LongRange(min = 1, max = 5000) long span,
                                     @ForAll long seed) {
        TinyLfuPolicy p = create(cacheBlocks);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 3000; i++) {
            long ob = r.nextInt(4) == 0 ? r.nextLong(span) : (long) (Math.pow(r.nextDouble(), 4) * span);
            access(p, ob, r.nextInt(5) == 0);
            if (r.nextInt(100) == 0) {
                drainIdle(p);
            }
            int[] n = p.regionCounts();
            assertEquals(p.residency(), n[0] + n[1] + n[2], "every cached block is in exactly one region");
            assertTrue(p.residency() <= cacheBlocks);
        }
        // a change of mode relabels a few blocks a lookup: with the duel off (the window back to 0), the window
        // empties within cache blocks / 16 lookups
        p.setConfigValue("duel", "0");
        assertEquals(0, p.windowMax());
        long held = p.oblockOf(p.nextMapped(0));
        for (int i = 0; i <= cacheBlocks / 16 + 1; i++) {
            p.lookup(held, IoDirection.READ, false);
        }
        assertEquals(0, p.regionCounts()[0], "the window emptied");
        int mapped = 0;
        for (int c = p.nextMapped(0); c >= 0; c = p.nextMapped(c + 1)) {
            assertEquals(c, p.lookupMapping(p.oblockOf(c)));
            assertFalse(p.regionOf(c) < 0);
            mapped++;
        }
        assertEquals(p.residency(), mapped);
    }

    private static void drainIdle(CachePolicy p) {
        for (Optional<PolicyWork> w = p.getBackgroundWork(true); w.isPresent(); w = p.getBackgroundWork(true)) {
            if (w.get().op() == WorkOp.WRITEBACK) {
                p.clearDirty(w.get().cblock());
            }
            p.completeBackgroundWork(w.get(), true);
        }
    }

    @Test
    void memoryStaysWithin16BytesPerCacheBlockBesidesTheMapping() {
        int blocks = 10_000_000;
        CachePolicy p = Policies.create("wtlfu", blocks, 16L * blocks, 128, new FakeClock());
        MemoryFootprint f = p.memoryFootprint();
        // the mapping every policy keeps: origin block (4 bytes here), hash chain and buckets (5), flags (0.5)
        long mapping = 4L * blocks + (4L * blocks + 4L * (Integer.highestOneBit(blocks / 4 - 1) << 1)) + blocks / 2;
        long policyState = f.cacheEntryBytes() - mapping + f.hotspotBytes();
        double perBlock = (double) policyState / blocks;
        System.out.printf(java.util.Locale.ROOT, "wtlfu, %,d cache blocks: %.2f B/block of mapping, %.2f B/block of"
                        + " policy state (links %.2f, sketch %.2f), %.2f B/block in all%n", blocks,
                (double) mapping / blocks, perBlock, (double) (f.cacheEntryBytes() - mapping) / blocks,
                (double) f.hotspotBytes() / blocks, f.totalBytesPerCacheBlock());
        assertTrue(perBlock <= 16, "policy state per cache block: " + perBlock);
        assertTrue(f.trackerBytes() < 2 << 20, "fixed size: work tracking and the duel: " + f.trackerBytes());
        assertEquals(f.trackerBytes(), Policies.create("wtlfu", blocks / 100, 16L * blocks, 128, new FakeClock())
                .memoryFootprint().trackerBytes(), "independent of the cache's size");
    }
}
