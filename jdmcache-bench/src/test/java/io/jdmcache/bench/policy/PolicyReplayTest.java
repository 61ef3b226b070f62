package io.jdmcache.bench.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The engine model: hits only while mapped, the cleaner's behaviour, determinism. */
class PolicyReplayTest {
    private static final int CACHE = 256;

    private static PolicyReplay smq(int lag) {
        return new PolicyReplay("smq", "smq", lag, 2000, 16, 2000, false);
    }

    @Test
    void replaysAreDeterministic() {
        Trace t = Workloads.zipf("z", CACHE * 32, 0.9, 0.3, 200_000, 5);
        assertEquals(Workloads.zipf("z", CACHE * 32, 0.9, 0.3, 200_000, 5), t, "same seed, same trace");
        assertEquals(smq(0).replay(t, CACHE), smq(0).replay(t, CACHE));
        assertEquals(smq(64).replay(t, CACHE), smq(64).replay(t, CACHE));
    }

    @Test
    void smqFillsTheCacheAndHitsOnlyWhatItHolds() {
        Trace t = Workloads.zipf("z", CACHE * 32, 1.2, 0.3, 200_000, 9);
        ReplayResult r = smq(0).replay(t, CACHE);
        assertTrue(r.promotions() >= CACHE / 2, "promotions " + r.promotions());
        assertTrue(r.promotions() - r.demotions() <= CACHE, "never more mapped than the cache holds");
        assertTrue(r.hits() > 0 && r.hitRatio() < new BeladyReplay().replay(t, CACHE).hitRatio() + 0.05);
        ReplayResult empty = smq(0).replay(t, 0);
        assertEquals(0, empty.hits(), "an empty cache never hits");
        assertEquals(0, empty.promotions());
    }

    @Test
    void aMigrationLagDelaysHits() {
        Trace t = Workloads.loop(CACHE, 100_000);
        ReplayResult now = smq(0).replay(t, CACHE);
        ReplayResult late = smq(5000).replay(t, CACHE);
        assertTrue(late.hits() <= now.hits(), "blocks arrive later with a lag: " + late.hits() + " vs " + now.hits());
        assertTrue(late.promotions() > 0);
    }

    @Test
    void theCleanerWritesBackWithoutPromotingAndServesWhatItHolds() {
        Trace t = Workloads.loop(CACHE, 100_000); // read-only: nothing is dirtied again
        ReplayResult r = new PolicyReplay("cleaner", "cleaner", 0, 2000, 16, 2000, true).replay(t, CACHE);
        assertEquals(CACHE, r.dirtyAtStart());
        assertEquals(0, r.dirtyAtEnd(), "everything written back under continuous load");
        assertEquals(CACHE, r.writebacks());
        assertEquals(0, r.promotions());
        assertEquals(0, r.demotions());
        long expectedHits = (long) t.length() * CACHE / t.originBlocks();
        assertTrue(Math.abs(r.hits() - expectedHits) <= CACHE, "serves the preloaded blocks: " + r.hits());
    }

    @Test
    void idleGapsLetSmqCleanItsDirtyBlocks() {
        Trace t = Workloads.phased(CACHE, 200_000, 3);
        ReplayResult r = smq(0).replay(t, CACHE);
        assertTrue(r.writebacks() > 0, "write-backs happen in the idle gaps");
    }
}
