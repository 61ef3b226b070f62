package io.jdmcache.sim.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.sim.trace.Trace;
import io.jdmcache.sim.trace.Workloads;
import org.junit.jupiter.api.Test;

/** The engine model: hits only while mapped, fills are promotions, discards, the cleaner, determinism. */
class EngineReplayTest {
    private static final int CACHE = 256;
    private static final java.util.function.LongConsumer NO_PROGRESS = n -> { };

    private static EngineReplay smq(int lag) {
        return new EngineReplay("smq", "smq", "smq", lag, 2000, 16, 2000, false);
    }

    @Test
    void replaysAreDeterministic() {
        Trace t = Workloads.zipf("z", CACHE * 32, 0.9, 0.3, 200_000, 5);
        assertThat(Workloads.zipf("z", CACHE * 32, 0.9, 0.3, 200_000, 5)).isEqualTo(t);
        assertThat(smq(0).details(t, CACHE, NO_PROGRESS)).isEqualTo(smq(0).details(t, CACHE, NO_PROGRESS));
        assertThat(smq(64).details(t, CACHE, NO_PROGRESS)).isEqualTo(smq(64).details(t, CACHE, NO_PROGRESS));
    }

    @Test
    void smqFillsTheCacheAndHitsOnlyWhatItHolds() {
        Trace t = Workloads.zipf("z", CACHE * 32, 1.2, 0.3, 200_000, 9);
        EngineReplay.Details d = smq(0).details(t, CACHE, NO_PROGRESS);
        assertThat(d.promotions()).isGreaterThanOrEqualTo(CACHE / 2);
        assertThat(d.promotions() - d.demotions()).as("never more mapped than the cache holds").isLessThanOrEqualTo(CACHE);
        assertThat(d.result().fills()).isEqualTo(d.promotions());
        SimResult opt = SimPolicies.byName("opt").run(t, CACHE, NO_PROGRESS);
        assertThat(d.result().hits()).isPositive().isLessThanOrEqualTo(opt.hits());
        SimResult empty = smq(0).run(t, 0, NO_PROGRESS);
        assertThat(empty.hits()).as("an empty cache never hits").isZero();
        assertThat(empty.fills()).isZero();
    }

    @Test
    void aDiscardDropsTheBlock() {
        // block 0 read until smq holds it, then discarded: the next read misses
        int n = 200_000;
        int[] e = new int[n + 2];
        for (int i = 0; i < n; i++) {
            e[i] = i % 4;
        }
        e[n] = ~0;
        e[n + 1] = 0;
        Trace t = new Trace("d", e, new boolean[e.length], 4, new int[0]);
        Trace noDiscard = new Trace("d", java.util.Arrays.copyOf(e, n), new boolean[n], 4, new int[0]);
        long before = smq(0).run(noDiscard, 8, NO_PROGRESS).hits();
        SimResult r = smq(0).run(t, 8, NO_PROGRESS);
        assertThat(before).as("smq holds the 4 blocks").isGreaterThan(n - 2000);
        assertThat(r.hits()).as("the access after the discard misses").isEqualTo(before);
        assertThat(r.accesses()).isEqualTo(n + 1);
    }

    @Test
    void aMigrationLagDelaysHits() {
        Trace t = Workloads.loop(CACHE, 100_000);
        EngineReplay.Details now = smq(0).details(t, CACHE, NO_PROGRESS);
        EngineReplay.Details late = smq(5000).details(t, CACHE, NO_PROGRESS);
        assertThat(late.result().hits()).isLessThanOrEqualTo(now.result().hits());
        assertThat(late.promotions()).isPositive();
    }

    @Test
    void theCleanerWritesBackWithoutPromotingAndServesWhatItHolds() {
        Trace t = Workloads.loop(CACHE, 100_000); // read-only: nothing is dirtied again
        EngineReplay.Details d = new EngineReplay("cleaner", "cleaner", "cleaner", 0, 2000, 16, 2000, true)
                .details(t, CACHE, NO_PROGRESS);
        assertThat(d.dirtyAtStart()).isEqualTo(CACHE);
        assertThat(d.dirtyAtEnd()).as("everything written back under continuous load").isZero();
        assertThat(d.writebacks()).isEqualTo(CACHE);
        assertThat(d.promotions()).isZero();
        assertThat(d.demotions()).isZero();
        long expectedHits = (long) t.length() * CACHE / t.blocks();
        assertThat(Math.abs(d.result().hits() - expectedHits)).as("serves the preloaded blocks").isLessThanOrEqualTo(CACHE);
    }

    @Test
    void idleGapsLetSmqCleanItsDirtyBlocks() {
        Trace t = Workloads.phased(CACHE, 200_000, 3);
        assertThat(smq(0).details(t, CACHE, NO_PROGRESS).writebacks()).as("write-backs in the idle gaps").isPositive();
    }

    @Test
    void wtlfuRunsThroughItsEngineClass() {
        SimPolicy w = SimPolicies.byName("wtlfu");
        assertThat(w.kind()).isEqualTo(SimPolicy.Kind.ENGINE);
        Trace z = Workloads.zipf("z", CACHE * 32, 0.9, 0.3, 200_000, 11);
        SimResult r = w.run(z, CACHE, NO_PROGRESS);
        SimResult lru = SimPolicies.byName("lru").run(z, CACHE, NO_PROGRESS);
        SimResult opt = SimPolicies.byName("opt").run(z, CACHE, NO_PROGRESS);
        assertThat(r.hits()).isGreaterThan(lru.hits()).isLessThanOrEqualTo(opt.hits());
        assertThat(r.fills()).as("fills no more than demand-fill LRU").isLessThan(lru.fills());
        assertThat(w.run(z, CACHE, NO_PROGRESS)).as("deterministic").isEqualTo(r);
        Trace loop = Workloads.loop(CACHE, 100_000);
        SimResult l = w.run(loop, CACHE, NO_PROGRESS);
        assertThat(SimPolicies.byName("lru").run(loop, CACHE, NO_PROGRESS).hits()).isZero();
        assertThat((double) l.hits() / l.accesses()).as("a loop larger than the cache still hits")
                .isGreaterThan(0.5 * CACHE / loop.blocks());
    }
}
