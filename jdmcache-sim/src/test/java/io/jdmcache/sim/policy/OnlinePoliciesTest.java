package io.jdmcache.sim.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;

import io.jdmcache.sim.trace.Trace;
import io.jdmcache.sim.trace.Workloads;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The policies implemented after their papers, each on small traces with known results: the papers' worked
 * examples and invariants, scan and loop resistance where the paper claims it, and the rules every cache obeys
 * (a hit is an access of a held block, never more held than the capacity, a discarded block is gone).
 */
class OnlinePoliciesTest {
    private static final List<String> DEMAND_FILL = List.of("lru", "arc", "lirs", "2q", "s3fifo", "sieve");
    private static final java.util.function.LongConsumer NO_PROGRESS = n -> { };

    private static OnlineCache cache(String name, int capacity, int blocks) {
        return ((OnlinePolicy) SimPolicies.byName(name)).create(capacity, blocks);
    }

    /** Accesses each block in turn; returns the hits. */
    private static int run(OnlineCache c, int... blocks) {
        int hits = 0;
        for (int b : blocks) {
            hits += c.access(b, false) ? 1 : 0;
        }
        return hits;
    }

    private static int[] range(int from, int to) {
        return java.util.stream.IntStream.range(from, to).toArray();
    }

    @Property(tries = 60)
    void everyCacheHitsExactlyWhatItHoldsAndStaysInItsSize(@ForAll long seed, @ForAll @IntRange(min = 0, max = 30) int cap,
                                                             @ForAll @IntRange(min = 1, max = 120) int blocks) {
        for (String name : List.of("lru", "arc", "lirs", "2q", "s3fifo", "sieve", "caffeine")) {
            OnlineCache c = cache(name, cap, blocks);
            SplittableRandom r = new SplittableRandom(seed);
            long misses = 0;
            for (int i = 0; i < 1500; i++) {
                int b = r.nextInt(4) == 0 ? r.nextInt(blocks) : r.nextInt(Math.max(1, blocks / 4));
                if (r.nextInt(25) == 0) {
                    c.discard(b);
                    assertThat(c.contains(b)).as(name + ": discarded block gone").isFalse();
                    continue;
                }
                boolean held = c.contains(b);
                boolean hit = c.access(b, r.nextBoolean());
                assertThat(hit).as(name + ": hit iff held, access " + i).isEqualTo(held);
                misses += hit ? 0 : 1;
                if (DEMAND_FILL.contains(name) && cap > 0) {
                    assertThat(c.contains(b)).as(name + ": a demand-fill cache holds what was just accessed").isTrue();
                }
                assertThat(c.size()).as(name + ": size").isLessThanOrEqualTo(cap);
            }
            if (DEMAND_FILL.contains(name)) {
                assertThat(c.fills()).as(name + ": every miss fills").isEqualTo(cap == 0 ? 0 : misses);
            }
        }
    }

    // ------------------------------------------------------------------ ARC

    @Property(tries = 100)
    void arcKeepsThePapersInvariants(@ForAll long seed, @ForAll @IntRange(min = 1, max = 20) int c) {
        Arc arc = new Arc(c, 200);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 3000; i++) {
            arc.access(r.nextInt(3) == 0 ? r.nextInt(200) : r.nextInt(c * 2), false);
            int t1 = arc.listSize(Arc.T1);
            int t2 = arc.listSize(Arc.T2);
            int b1 = arc.listSize(Arc.B1);
            int b2 = arc.listSize(Arc.B2);
            assertThat(t1 + t2).isLessThanOrEqualTo(c);
            assertThat(t1 + b1).isLessThanOrEqualTo(c);
            assertThat(t1 + t2 + b1 + b2).isLessThanOrEqualTo(2 * c);
            assertThat(arc.target()).isBetween(0.0, (double) c);
        }
    }

    @Test
    void aScanDoesNotFlushArcsFrequentList() {
        Arc arc = new Arc(100, 100_000);
        int[] hot = range(0, 50);
        run(arc, hot);
        run(arc, hot); // now in T2
        assertThat(arc.listSize(Arc.T2)).isEqualTo(50);
        run(arc, range(1000, 11_000)); // a one-pass scan of 10,000 new blocks
        assertThat(run(arc, hot)).as("the frequent blocks survive the scan").isEqualTo(50);
        Lru lru = new Lru(100, 100_000);
        run(lru, hot);
        run(lru, hot);
        run(lru, range(1000, 11_000));
        assertThat(run(lru, hot)).as("where LRU loses them").isZero();
    }

    // ------------------------------------------------------------------ LIRS

    @Test
    void lirsHoldsItsLirSetThroughALoopLargerThanTheCache() {
        // the paper's motivating case: a loop over more blocks than the cache; LRU gets nothing, LIRS keeps its
        // Llirs blocks and hits them every round
        int cache = 200;
        int span = 250;
        Trace loop = Workloads.loop(cache, 100 * span); // a loop over 1.25 x 200 blocks
        assertThat(loop.blocks()).isEqualTo(span);
        SimResult lirs = SimPolicies.byName("lirs").run(loop, cache, NO_PROGRESS);
        int llirs = cache - cache / 100;
        assertThat(lirs.hits()).as("about Llirs hits a round after the first").isBetween(98L * llirs, 100L * llirs);
        assertThat(SimPolicies.byName("lru").run(loop, cache, NO_PROGRESS).hits()).isZero();
    }

    @Property(tries = 100)
    void lirsKeepsItsInvariants(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int c) {
        Lirs lirs = new Lirs(c, 2000);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < 4000; i++) {
            int b = r.nextInt(3) == 0 ? r.nextInt(2000) : r.nextInt(c + c / 2 + 1);
            if (r.nextInt(50) == 0) {
                lirs.discard(b);
            } else {
                lirs.access(b, false);
            }
            assertThat(lirs.lirCount()).isLessThanOrEqualTo(lirs.lirTarget());
            assertThat(lirs.stackBottomIsLir()).as("stack pruning").isTrue();
            assertThat(lirs.size()).isLessThanOrEqualTo(c);
        }
    }

    @Test
    void aHirBlockReusedWithinTheStackBecomesLir() {
        // cache 100: Llirs 99, Lhirs 1. Blocks 0-98 fill the LIR set; 500 comes in as resident HIR; 501 evicts it
        // (500 stays in S as a non-resident HIR); a new access of 500 finds it in S: it becomes LIR, and the
        // bottom LIR block (0) becomes a resident HIR block
        Lirs lirs = new Lirs(100, 1000);
        run(lirs, range(0, 99));
        assertThat(lirs.lirCount()).isEqualTo(99);
        run(lirs, 500, 501);
        assertThat(lirs.contains(500)).isFalse();
        assertThat(lirs.access(500, false)).isFalse(); // evicts 501, the resident HIR block, to make room
        assertThat(lirs.lirCount()).isEqualTo(99);
        assertThat(lirs.contains(501)).isFalse();
        assertThat(lirs.contains(0)).as("0 is a resident HIR block now, the next to go").isTrue();
        run(lirs, 600);
        assertThat(lirs.contains(0)).isFalse();
        assertThat(lirs.contains(500)).as("500 is LIR now").isTrue();
        assertThat(lirs.contains(600)).isTrue();
        assertThat(run(lirs, range(1, 99))).as("the LIR set is intact").isEqualTo(98);
    }

    // ------------------------------------------------------------------ 2Q

    @Test
    void twoQIgnoresCorrelatedReferencesAndPromotesOnASecondChance() {
        TwoQ q = new TwoQ(8, 1000); // Kin 2, Kout 4
        assertThat(run(q, 1, 1, 1)).as("re-accesses while in A1in hit").isEqualTo(2);
        assertThat(q.listSize(TwoQ.AM)).as("but do not make the block hot").isZero();
        run(q, range(100, 108)); // fills the cache, then pushes 1 out of A1in into A1out
        assertThat(q.contains(1)).isFalse();
        assertThat(q.listSize(TwoQ.A1OUT)).isPositive();
        assertThat(q.access(1, false)).isFalse();
        assertThat(q.listSize(TwoQ.AM)).as("a miss remembered in A1out goes to Am").isEqualTo(1);
        run(q, range(200, 300)); // a scan passes through A1in
        assertThat(q.contains(1)).as("Am is untouched by the scan").isTrue();
    }

    // ------------------------------------------------------------------ S3-FIFO

    @Test
    void s3FifoDemotesOneHitWondersQuicklyAndKeepsWhatWasReused() {
        S3Fifo s = new S3Fifo(20, 10_000); // small 2, main 18, ghost 18
        run(s, 1, 1, 1); // 1 is in S with frequency 2
        run(s, range(100, 120)); // the cache fills (all in S); at 119 S is evicted: 1 (freq 2 > 1) moves to M, 100
        // (freq 0) leaves into G
        assertThat(s.listSize(S3Fifo.MAIN)).isEqualTo(1);
        assertThat(s.contains(1)).isTrue();
        assertThat(s.contains(100)).isFalse();
        run(s, range(1000, 1100)); // a scan: each block enters S and leaves for G
        assertThat(s.contains(1)).as("the reused block survives the scan in M").isTrue();
        assertThat(s.listSize(S3Fifo.GHOST)).isEqualTo(18);
        // S holds the 19 newest (1081-1099), G the 18 evicted before them (1063-1080)
        int g = 1075;
        assertThat(s.contains(g)).isFalse();
        s.access(g, false);
        assertThat(s.listSize(S3Fifo.MAIN)).as("a ghost hit is inserted into M").isEqualTo(2);
        s.access(1050, false);
        assertThat(s.listSize(S3Fifo.MAIN)).as("a block forgotten by G goes to S").isEqualTo(2);
    }

    // ------------------------------------------------------------------ SIEVE

    @Test
    void sieveFollowsThePapersHand() {
        Sieve s = new Sieve(3, 10);
        run(s, 0, 1, 2); // queue (head to tail): 2 1 0
        assertThat(s.access(0, false)).isTrue(); // 0 visited
        s.access(3, false); // hand starts at the tail: 0 visited -> cleared, 1 evicted; hand stays at 2
        assertThat(s.contains(1)).isFalse();
        assertThat(s.contains(0)).isTrue();
        s.access(4, false); // hand at 2, not visited: evicted, hand moves to 3
        assertThat(s.contains(2)).isFalse();
        assertThat(s.contains(0) && s.contains(3) && s.contains(4)).isTrue();
        s.access(3, false);
        s.access(5, false); // hand at 3: visited -> cleared, then 4 (toward the head) evicted
        assertThat(s.contains(4)).isFalse();
        assertThat(s.contains(3) && s.contains(0) && s.contains(5)).isTrue();
    }

    // ------------------------------------------------------------------ Caffeine

    @Test
    void caffeineIsBoundedRoughlyRepeatableAndResistsAScan() {
        Trace t = Workloads.zipfPlusScan(256, 200_000, 7);
        SimPolicy caffeine = SimPolicies.byName("caffeine");
        SimResult a = caffeine.run(t, 256, NO_PROGRESS);
        SimResult b = caffeine.run(t, 256, NO_PROGRESS);
        assertThat(Math.abs(a.hits() - b.hits())).as("repeatable but for its random admission").isLessThan(t.length() / 50);
        SimResult lru = SimPolicies.byName("lru").run(t, 256, NO_PROGRESS);
        assertThat(a.hits()).as("W-TinyLFU beats LRU on zipf with a scan").isGreaterThan(lru.hits() * 11 / 10);
        OnlineCache c = cache("caffeine", 64, 10_000);
        run(c, range(0, 10_000));
        assertThat(c.size()).isEqualTo(64);
    }
}
