package io.jdmcache.sim.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import io.jdmcache.sim.trace.Trace;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The references are right: LRU against a LinkedHashMap in access order, Belady's MIN against an exhaustive
 * search over every choice a cache could make, both with discards in the trace.
 */
class ReplayCorrectnessTest {
    private static final java.util.function.LongConsumer NO_PROGRESS = n -> { };

    /** Skewed random accesses (so there is something to keep), with about one discard in {@code discardEvery}. */
    static Trace random(long seed, int length, int blocks, int discardEvery) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] e = new int[length];
        for (int i = 0; i < length; i++) {
            int b = r.nextInt(3) == 0 ? r.nextInt(blocks) : r.nextInt(Math.max(1, blocks / 3));
            e[i] = discardEvery > 0 && r.nextInt(discardEvery) == 0 ? ~b : b;
        }
        return new Trace("random", e, new boolean[length], blocks, new int[0]);
    }

    @Property(tries = 300)
    void lruMatchesALinkedHashMap(@ForAll long seed, @ForAll @IntRange(min = 0, max = 40) int cache,
                                  @ForAll @IntRange(min = 1, max = 100) int blocks,
                                  @ForAll @IntRange(min = 0, max = 20) int discardEvery) {
        Trace t = random(seed, 2000, blocks, discardEvery);
        Map<Integer, Boolean> lru = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
                return size() > cache;
            }
        };
        long hits = 0;
        long fills = 0;
        long accesses = 0;
        for (int e : t.events()) {
            if (e < 0) {
                lru.remove(~e);
                continue;
            }
            accesses++;
            if (lru.get(e) != null) {
                hits++;
            } else if (cache > 0) {
                lru.put(e, Boolean.TRUE);
                fills++;
            }
        }
        SimResult r = SimPolicies.byName("lru").run(t, cache, NO_PROGRESS);
        assertThat(r.hits()).isEqualTo(hits);
        assertThat(r.fills()).isEqualTo(fills);
        assertThat(r.accesses()).isEqualTo(accesses);
    }

    @Property(tries = 400)
    void optIsOptimal(@ForAll long seed, @ForAll @IntRange(min = 0, max = 4) int cache,
                      @ForAll @IntRange(min = 1, max = 7) int blocks, @ForAll @IntRange(min = 1, max = 14) int length,
                      @ForAll @IntRange(min = 0, max = 5) int discardEvery) {
        Trace t = random(seed, length, blocks, discardEvery);
        assertThat(SimPolicies.byName("opt").run(t, cache, NO_PROGRESS).hits()).as(Arrays.toString(t.events()))
                .isEqualTo(exhaustiveBest(t.events(), cache, blocks));
    }

    @Property(tries = 100)
    void optBeatsOrEqualsLruAndNeverHitsMoreThanItHolds(@ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int cache,
                                                        @ForAll @IntRange(min = 1, max = 400) int blocks) {
        Trace t = random(seed, 5000, blocks, 50);
        SimResult opt = SimPolicies.byName("opt").run(t, cache, NO_PROGRESS);
        SimResult lru = SimPolicies.byName("lru").run(t, cache, NO_PROGRESS);
        assertThat(opt.hits()).isGreaterThanOrEqualTo(lru.hits());
        assertThat(opt.fills()).as("bypass: OPT admits no more than demand-fill LRU").isLessThanOrEqualTo(lru.fills());
        assertThat(opt.hits() + opt.fills()).isLessThanOrEqualTo(opt.accesses());
    }

    /**
     * The most hits any cache of {@code cache} blocks can get when a block can only enter when it is accessed:
     * dynamic programming over the set of cached blocks (a bitmask); a discard empties the block's bit.
     */
    static long exhaustiveBest(int[] trace, int cache, int blocks) {
        int states = 1 << blocks;
        long[] best = new long[states];
        Arrays.fill(best, -1);
        best[0] = 0;
        for (int e : trace) {
            long[] next = new long[states];
            Arrays.fill(next, -1);
            if (e < 0) {
                int bit = 1 << ~e;
                for (int s = 0; s < states; s++) {
                    if (best[s] >= 0) {
                        next[s & ~bit] = Math.max(next[s & ~bit], best[s]);
                    }
                }
                best = next;
                continue;
            }
            int bit = 1 << e;
            for (int s = 0; s < states; s++) {
                if (best[s] < 0) {
                    continue;
                }
                if ((s & bit) != 0) {
                    next[s] = Math.max(next[s], best[s] + 1);
                    continue;
                }
                next[s] = Math.max(next[s], best[s]); // bypass
                if (Integer.bitCount(s) < cache) {
                    next[s | bit] = Math.max(next[s | bit], best[s]);
                } else {
                    for (int v = s; v != 0; v &= v - 1) {
                        int to = (s & ~Integer.lowestOneBit(v)) | bit;
                        next[to] = Math.max(next[to], best[s]);
                    }
                }
            }
            best = next;
        }
        return Arrays.stream(best).max().orElse(0);
    }
}
