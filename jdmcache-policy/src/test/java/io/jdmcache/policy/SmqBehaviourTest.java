package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;

/** smq's individual rules, one scenario each. */
class SmqBehaviourTest {
    private final FakeClock clock = new FakeClock();

    private SmqPolicy smq(int cacheBlocks, long originBlocks) {
        return (SmqPolicy) Policies.create("smq", cacheBlocks, originBlocks, 128, clock);
    }

    /** Misses on {@code ob} with a tick (10 ms) between each, until smq queues work; returns the lookups it took. */
    private int heatUntilQueued(CachePolicy p, long ob) {
        for (int i = 1; i <= 200; i++) {
            if (p.lookup(ob, IoDirection.READ, false) == CachePolicy.MISS_WORK_QUEUED) {
                return i;
            }
            clock.advanceMillis(10);
            p.tick(false);
        }
        throw new AssertionError("no work queued for " + ob + " after 200 misses");
    }

    private static PolicyWork take(CachePolicy p, boolean idle) {
        Optional<PolicyWork> w = p.getBackgroundWork(idle);
        assertTrue(w.isPresent(), "work expected");
        return w.get();
    }

    @Test
    void nothingIsPromotedBeforeTheFirstTick() {
        SmqPolicy p = smq(64, 10_000);
        for (int i = 0; i < 1000; i++) {
            assertEquals(CachePolicy.MISS, p.lookup(5, IoDirection.READ, false));
        }
        assertEquals(64, p.promoteLevel(), "promote level starts out of reach");
        assertEquals(0, p.residency());
        assertTrue(p.getBackgroundWork(true).isEmpty());
    }

    @Test
    void aHotBlockIsPromotedIntoTheLowestFreeBlockAndEntersAtTheTop() {
        SmqPolicy p = smq(64, 10_000);
        int lookups = heatUntilQueued(p, 1234);
        assertTrue(lookups > 1, "a single miss is not enough: " + lookups);
        assertEquals(1, p.residency(), "the target block is reserved at once");
        assertEquals(CachePolicy.MISS, p.lookup(1234, IoDirection.READ, false), "no duplicate promotion");
        assertEquals(1, p.backgroundWorkInFlight());
        PolicyWork w = take(p, false);
        assertEquals(new PolicyWork(WorkOp.PROMOTE, 1234, 0), w);
        assertTrue(p.getBackgroundWork(false).isEmpty(), "issued once");
        assertTrue(p.lookup(1234, IoDirection.READ, false) < 0, "not mapped before completion");
        assertEquals(-1, p.lookupMapping(1234));
        p.completeBackgroundWork(w, true);
        assertEquals(0, p.lookup(1234, IoDirection.READ, false));
        assertEquals(0, p.lookupMapping(1234));
        assertEquals(1234, p.oblockOf(0));
        assertEquals(63, p.getHint(0), "newly promoted blocks enter at the top level");
        assertFalse(p.isDirty(0), "a completed promotion is clean");
        assertEquals(0, p.backgroundWorkInFlight());
    }

    @Test
    void aFailedPromotionFreesItsBlock() {
        SmqPolicy p = smq(8, 1000);
        heatUntilQueued(p, 3);
        PolicyWork w = take(p, false);
        p.completeBackgroundWork(w, false);
        assertEquals(0, p.residency());
        assertEquals(-1, p.oblockOf(w.cblock()));
        assertEquals(-1, p.lookupMapping(3));
        PolicyStateException twice = assertThrows(PolicyStateException.class, () -> p.completeBackgroundWork(w, true));
        assertEquals("origin block 3: no such background work in flight: promote(oblock=3, cblock=0)", twice.getMessage());
    }

    @Test
    void wholeBlockWritesArePromotedAtOnceWhileBlocksAreFree() {
        SmqPolicy p = smq(2, 1000);
        LookupResult r = p.lookupWithWork(7, IoDirection.WRITE, true);
        assertEquals(new LookupResult.Promote(new PolicyWork(WorkOp.PROMOTE, 7, 0)), r, "before any tick, as a copy is avoided");
        assertTrue(p.getBackgroundWork(true).isEmpty(), "the promotion went to the caller, not to the queue");
        assertEquals(CachePolicy.MISS_WORK_QUEUED, p.lookup(8, IoDirection.WRITE, true));
        assertEquals(LookupResult.MISS, p.lookupWithWork(9, IoDirection.WRITE, true), "no free block left");
        assertEquals(LookupResult.MISS, p.lookupWithWork(9, IoDirection.READ, true), "reads are not cheap promotions");
        p.completeBackgroundWork(((LookupResult.Promote) r).work(), true);
        p.setDirty(0);
        assertEquals(new LookupResult.Hit(0), p.lookupWithWork(7, IoDirection.WRITE, true));
        assertTrue(p.isDirty(0));
    }

    @Test
    void theTrackerHoldsAtMost4096Items() {
        SmqPolicy p = smq(10_000, 1_000_000);
        int queued = 0;
        for (int ob = 0; ob < 5000; ob++) {
            if (p.lookup(ob, IoDirection.WRITE, true) == CachePolicy.MISS_WORK_QUEUED) {
                queued++;
            }
        }
        assertEquals(SmqPolicy.MAX_BACKGROUND_WORK, queued);
        assertEquals(SmqPolicy.MAX_BACKGROUND_WORK, p.backgroundWorkInFlight());
        assertEquals(SmqPolicy.MAX_BACKGROUND_WORK, p.residency());
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < SmqPolicy.MAX_BACKGROUND_WORK; i++) {
            PolicyWork w = take(p, false);
            assertEquals(i, w.oblock(), "issued in the order queued");
            assertTrue(seen.add(w.oblock()));
            p.completeBackgroundWork(w, true);
        }
        assertTrue(p.getBackgroundWork(true).isEmpty());
        assertEquals(SmqPolicy.MAX_BACKGROUND_WORK, p.residency());
    }

    /** 16 clean blocks at levels 0..15 (block c holds origin 100 + c at level c); cache full. */
    private SmqPolicy fullOfCleanBlocks() {
        SmqPolicy p = smq(16, 100_000);
        for (int c = 0; c < 16; c++) {
            p.loadMapping(100 + c, c, false, c, true);
        }
        return p;
    }

    @Test
    void aFullCacheDemotesTheColdestCleanBlocksUntilAQuarterIsFreeOrGoing() {
        SmqPolicy p = fullOfCleanBlocks();
        p.setDirty(1);
        List<PolicyWork> demotions = new ArrayList<>();
        for (long ob = 5000; demotions.size() < 4; ob += 1000) {
            heatUntilQueued(p, ob);
            demotions.add(take(p, false));
        }
        // the first tick re-balanced 16 entries over 64 levels: each keeps its own level here
        List<PolicyWork> expected = List.of(new PolicyWork(WorkOp.DEMOTE, 100, 0), new PolicyWork(WorkOp.DEMOTE, 102, 2),
                new PolicyWork(WorkOp.DEMOTE, 103, 3), new PolicyWork(WorkOp.DEMOTE, 104, 4));
        assertEquals(expected, demotions, "lowest levels first, the dirty block 1 skipped");
        for (int i = 0; i < 20; i++) {
            assertEquals(CachePolicy.MISS, p.lookup(9000 + i * 1000, IoDirection.READ, false),
                    "a quarter of the cache is already being demoted");
        }
        for (PolicyWork d : demotions) {
            p.completeBackgroundWork(d, true);
            assertEquals(-1, p.lookupMapping(d.oblock()));
        }
        assertEquals(12, p.residency());
        heatUntilQueued(p, 77_000);
        PolicyWork promote = take(p, false);
        assertEquals(WorkOp.PROMOTE, promote.op());
        assertEquals(0, promote.cblock(), "the first freed block is reused first");
    }

    @Test
    void aFailedDemotionKeepsTheMapping() {
        SmqPolicy p = fullOfCleanBlocks();
        heatUntilQueued(p, 5000);
        PolicyWork d = take(p, false);
        assertEquals(WorkOp.DEMOTE, d.op());
        p.completeBackgroundWork(d, false);
        assertEquals(d.oblock(), p.oblockOf(d.cblock()));
        assertEquals(d.cblock(), p.lookup(d.oblock(), IoDirection.READ, false));
        assertEquals(16, p.residency());
    }

    /**
     * A 16-block cache filled by whole-block writes (every block clean at the top level, no re-balancing due for
     * a minute), blocks {@code 0..dirty-1} dirtied and aged past two write-back periods.
     */
    private SmqPolicy fullOfFreshBlocks(int dirty) {
        SmqPolicy p = smq(16, 100_000);
        clock.advanceMillis(1);
        p.tick(true); // the first re-balancing, on empty queues; the next is a minute away
        for (int ob = 0; ob < 16; ob++) {
            LookupResult r = p.lookupWithWork(ob, IoDirection.WRITE, true);
            p.completeBackgroundWork(((LookupResult.Promote) r).work(), true);
        }
        for (int c = 0; c < dirty; c++) {
            p.setDirty(c);
        }
        for (int c = 0; c < 16; c++) {
            assertEquals(63, p.getHint(c), "every block freshly promoted, at the top");
        }
        clock.advanceSeconds(11);
        p.tick(true);
        clock.advanceSeconds(11);
        p.tick(true);
        return p;
    }

    @Test
    void withNoCleanBlockInTheLowerHalfAWritebackIsQueuedInsteadOfADemotion() {
        SmqPolicy p = fullOfFreshBlocks(4);
        heatUntilQueued(p, 5000);
        PolicyWork w = take(p, false);
        assertEquals(WorkOp.WRITEBACK, w.op(), "no clean block to demote: clean a dirty one");
        assertTrue(w.cblock() < 4, "one of the dirty blocks: " + w);
    }

    @Test
    void cleaningABlockQueuedForWritebackWithdrawsTheWriteback() {
        SmqPolicy p = fullOfFreshBlocks(1);
        heatUntilQueued(p, 5000);
        assertEquals(1, p.backgroundWorkInFlight(), "the write-back of block 0 is queued");
        p.clearDirty(0);
        assertEquals(0, p.backgroundWorkInFlight(), "nothing left to write back");
        assertTrue(p.getBackgroundWork(false).isEmpty());
        assertEquals(0, p.lookup(0, IoDirection.READ, false));
    }

    @Test
    void writesToABlockQueuedForDemotionWithdrawTheDemotion() {
        SmqPolicy p = fullOfCleanBlocks();
        heatUntilQueued(p, 5000);
        assertEquals(1, p.backgroundWorkInFlight());
        p.setDirty(0);
        assertEquals(0, p.backgroundWorkInFlight(), "a dirty block is never demoted");
        assertTrue(p.isDirty(0));
        assertTrue(p.getBackgroundWork(false).isEmpty());
        assertEquals(0, p.lookup(100, IoDirection.READ, false));
    }

    @Test
    void writesToABlockBeingDemotedAreRefused() {
        SmqPolicy p = fullOfCleanBlocks();
        heatUntilQueued(p, 5000);
        PolicyWork d = take(p, false);
        PolicyStateException e = assertThrows(PolicyStateException.class, () -> p.setDirty(d.cblock()));
        assertEquals("cache block 0: cannot mark dirty: a demotion of it is in progress", e.getMessage());
        assertFalse(p.isDirty(d.cblock()));
        assertThrows(PolicyStateException.class, () -> p.invalidateMapping(d.cblock()));
        assertFalse(p.trySetDirty(d.cblock()), "asked without an exception: refused the same");
        assertEquals(Invalidation.BUSY, p.tryInvalidateMapping(d.cblock()));
        assertFalse(p.isDirty(d.cblock()));
        assertEquals(1, p.backgroundWorkInFlight(), "the refusals changed nothing");
        p.completeBackgroundWork(d, false); // the demotion failed: the block stays mapped
        assertTrue(p.trySetDirty(d.cblock()), "once the demotion completed the write may go on");
        assertTrue(p.isDirty(d.cblock()));
        assertEquals(Invalidation.DROPPED, p.tryInvalidateMapping(d.cblock()));
        assertEquals(Invalidation.NOT_MAPPED, p.tryInvalidateMapping(d.cblock()));
    }

    @Test
    void invalidateWithdrawsQueuedWorkAndFreesTheBlock() {
        SmqPolicy p = fullOfCleanBlocks();
        heatUntilQueued(p, 5000);
        assertTrue(p.invalidateMapping(0));
        assertEquals(0, p.backgroundWorkInFlight());
        assertEquals(15, p.residency());
        assertEquals(-1, p.lookupMapping(100));
        assertFalse(p.invalidateMapping(0), "already gone");
        assertEquals(0, p.getHint(0));
    }

    @Test
    void busyWritebackOnlyBelowAQuarterCleanAndOnlyOfOldBlocks() {
        SmqPolicy p = smq(100, 100_000);
        for (int c = 0; c < 100; c++) {
            p.loadMapping(c, c, c < 75, 20, true);
        }
        assertTrue(p.getBackgroundWork(false).isEmpty(), "25% clean: the target is met while busy");
        p.setDirty(75);
        PolicyWork w = take(p, false);
        assertEquals(WorkOp.WRITEBACK, w.op());
        assertTrue(w.cblock() < 75, "a loaded (old) dirty block, not the one just dirtied");
        assertTrue(p.getBackgroundWork(false).isEmpty(), "the write-back in flight counts as clean");
        p.clearDirty(w.cblock());
        p.completeBackgroundWork(w, true);
        assertEquals(75, p.dirtyCount());
        assertTrue(p.getBackgroundWork(false).isEmpty());
        Set<Integer> written = new HashSet<>();
        Optional<PolicyWork> next;
        while ((next = p.getBackgroundWork(true)).isPresent()) {
            assertTrue(written.add(next.get().cblock()));
            p.clearDirty(next.get().cblock());
            p.completeBackgroundWork(next.get(), true);
        }
        assertEquals(75, written.size(), "idle: everything dirty, the fresh block too");
        assertEquals(0, p.dirtyCount());
    }

    @Test
    void writingToABlockQueuedForWritebackKeepsTheWriteback() {
        SmqPolicy p = smq(4, 1000);
        p.loadMapping(1, 0, true, 0, true);
        PolicyWork w = take(p, true);
        p.clearDirty(0);
        p.completeBackgroundWork(w, true);
        p.setDirty(0);
        clock.advanceSeconds(1);
        p.tick(true);
        assertEquals(WorkOp.WRITEBACK, take(p, true).op());
    }

    @Test
    void loadedHintsPlaceEntriesAndUnhintedOnesSpread() {
        SmqPolicy p = smq(2000, 1_000_000);
        p.loadMapping(1, 0, false, 70, true);
        p.loadMapping(2, 1, false, -1, true);
        p.loadMapping(3, 2, true, 17, true);
        assertEquals(63, p.getHint(0), "clamped");
        assertEquals(63, p.getHint(1), "hints are unsigned");
        assertEquals(17, p.getHint(2));
        Set<Integer> levels = new HashSet<>();
        for (int c = 3; c < 2000; c++) {
            p.loadMapping(10 + c, c, false, 99, false);
            assertEquals(SmqPolicy.pseudoRandomLevel(c), p.getHint(c));
            levels.add(p.getHint(c));
        }
        assertEquals(64, levels.size(), "blocks without hints cover every level");
        assertEquals(2000, p.residency());
        assertEquals(1, p.dirtyCount());
    }

    @Test
    void loadingIntoUsedBlocksOrMappedOriginsIsRefused() {
        SmqPolicy p = smq(8, 1000);
        p.loadMapping(5, 0, false, 0, false);
        PolicyStateException used = assertThrows(PolicyStateException.class, () -> p.loadMapping(6, 0, false, 0, false));
        assertEquals("cache block 0: cannot load mapping to origin block 6: already in use by origin block 5", used.getMessage());
        PolicyStateException twice = assertThrows(PolicyStateException.class, () -> p.loadMapping(5, 1, false, 0, false));
        assertEquals("origin block 5: cannot load into cache block 1: already mapped to cache block 0", twice.getMessage());
        assertEquals(1, p.residency());
        PolicyStateException unmapped = assertThrows(PolicyStateException.class, () -> p.setDirty(3));
        assertEquals("cache block 3: cannot mark dirty: not mapped", unmapped.getMessage());
        assertThrows(PolicyStateException.class, () -> p.clearDirty(3));
    }

    @Test
    void hitsLiftABlockOneLevelPerCachePeriod() {
        SmqPolicy p = smq(8, 1000);
        p.loadMapping(1, 0, false, 10, true);
        p.loadMapping(2, 1, false, 11, true);
        for (int i = 0; i < 5; i++) {
            assertEquals(0, p.lookup(1, IoDirection.READ, false));
        }
        assertEquals(11, p.getHint(0), "one level per period however many hits");
        assertEquals(10, p.getHint(1), "the block it passed drops to its level");
    }

    @Test
    void withoutMigrationsNothingIsPromotedOrDemotedButWritebacksGoOn() {
        SmqPolicy p = fullOfCleanBlocks();
        p.setDirty(15);
        p.allowMigrations(false);
        for (int i = 0; i < 100; i++) {
            assertEquals(CachePolicy.MISS, p.lookup(5000, IoDirection.WRITE, true));
            clock.advanceMillis(100);
            p.tick(false);
        }
        PolicyWork w = take(p, true);
        assertEquals(new PolicyWork(WorkOp.WRITEBACK, 115, 15), w);
        p.allowMigrations(true);
        p.clearDirty(15);
        p.completeBackgroundWork(w, true);
        heatUntilQueued(p, 6000);
        assertEquals(WorkOp.DEMOTE, take(p, false).op());
    }

    @Test
    void hotspotRegionsShrinkToFitTheOrigin() {
        assertEquals(16, smq(4096, 131_072).cacheBlocksPerHotspotBlock());
        assertEquals(8, smq(4096, 10_000).cacheBlocksPerHotspotBlock());
        assertEquals(1, smq(100, 500).cacheBlocksPerHotspotBlock());
    }

    @Test
    void mappingCursorAndVisitorSeeTheSameBlocks() {
        SmqPolicy p = smq(10, 1000);
        p.loadMapping(50, 3, true, 5, true);
        p.loadMapping(40, 7, false, 6, true);
        heatUntilQueued(p, 999);
        assertEquals(3, p.residency(), "one block reserved by the promotion");
        assertEquals(3, p.nextMapped(0));
        assertEquals(7, p.nextMapped(4));
        assertEquals(-1, p.nextMapped(8));
        List<String> seen = new ArrayList<>();
        p.forEachMapping((c, ob, d, h) -> seen.add(c + ">" + ob + (d ? "d" : "c") + h));
        assertEquals(List.of("3>50d" + p.getHint(3), "7>40c" + p.getHint(7)), seen);
    }
}
