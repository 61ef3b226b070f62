package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The cleaner writes back every dirty block, busy or idle, and never promotes or demotes. */
class CleanerTest {
    private static final int CACHE = 512;
    private static final int ORIGIN = 100_000;

    private final FakeClock clock = new FakeClock();
    private final CachePolicy cleaner = Policies.create("cleaner", CACHE, ORIGIN, 128, clock);

    private void loadAllDirty() {
        for (int c = 0; c < CACHE; c++) {
            cleaner.loadMapping(10L * c, c, true, c % 64, c % 3 != 0);
        }
        assertEquals(CACHE, cleaner.dirtyCount());
    }

    /** The engine's worker: takes work until none, writes it back; returns the cache blocks written. */
    private Set<Integer> drain(boolean idle) {
        Set<Integer> written = new HashSet<>();
        Optional<PolicyWork> w;
        while ((w = cleaner.getBackgroundWork(idle)).isPresent()) {
            PolicyWork work = w.get();
            assertEquals(WorkOp.WRITEBACK, work.op(), "the cleaner only writes back: " + work);
            assertEquals(cleaner.oblockOf(work.cblock()), work.oblock());
            assertTrue(cleaner.isDirty(work.cblock()), "write-back of a clean block " + work);
            assertTrue(written.add(work.cblock()), "written back twice: " + work);
            cleaner.clearDirty(work.cblock());
            cleaner.completeBackgroundWork(work, true);
        }
        return written;
    }

    @Test
    void writesBackEveryDirtyBlockEvenWhenBusy() {
        loadAllDirty();
        Set<Integer> written = drain(false);
        assertEquals(CACHE, written.size(), "loaded mappings are eligible at once, also when busy");
        assertEquals(0, cleaner.dirtyCount());
        assertEquals(CACHE, cleaner.residency(), "nothing was demoted");
        for (int c = 0; c < CACHE; c++) {
            assertEquals(10L * c, cleaner.oblockOf(c));
        }
    }

    @Test
    void blocksDirtiedWhileBusyAreWrittenBackAfterAWritebackPeriod() {
        loadAllDirty();
        drain(false);
        // the first tick re-balances the queues (as every minute); moved blocks land behind the sentinels
        clock.advanceMillis(1);
        cleaner.tick(true);
        for (int c = 0; c < CACHE; c += 2) {
            cleaner.setDirty(c);
        }
        assertTrue(drain(false).isEmpty(), "busy: freshly dirtied blocks wait for a write-back period");
        clock.advanceSeconds(11);
        cleaner.tick(true);
        clock.advanceSeconds(11);
        cleaner.tick(true);
        assertEquals(CACHE / 2, drain(false).size(), "after two sentinel rotations (no re-balancing) they go, busy or not");
        assertEquals(0, cleaner.dirtyCount());
    }

    @Test
    void writesBackFreshlyDirtiedBlocksAtOnceWhenIdle() {
        loadAllDirty();
        drain(true);
        cleaner.setDirty(7);
        assertEquals(Set.of(7), drain(true));
    }

    @Test
    void neverPromotesWhateverTheTrafficOrTheEngineSays() {
        cleaner.allowMigrations(true);
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            long ob = r.nextInt(64);
            int got = i % 2 == 0 ? cleaner.lookup(ob, IoDirection.WRITE, true)
                    : lookupWithWork(ob);
            assertEquals(CachePolicy.MISS, got, "miss on " + ob);
            if (i % 100 == 0) {
                clock.advanceMillis(300);
                cleaner.tick(true);
                assertTrue(cleaner.getBackgroundWork(i % 200 == 0).isEmpty());
            }
        }
        assertEquals(0, cleaner.residency());
    }

    private int lookupWithWork(long ob) {
        LookupResult r = cleaner.lookupWithWork(ob, IoDirection.WRITE, true);
        assertFalse(r instanceof LookupResult.Promote, "cleaner promoted " + r);
        return r instanceof LookupResult.Miss m && !m.backgroundQueued() ? CachePolicy.MISS : -99;
    }

    @Test
    void hitsStillHitAndWritesDirtyAgain() {
        loadAllDirty();
        drain(true);
        assertEquals(5, cleaner.lookup(50, IoDirection.READ, false));
        cleaner.setDirty(5);
        assertEquals(1, cleaner.dirtyCount());
        assertEquals(Set.of(5), drain(true));
    }
}
