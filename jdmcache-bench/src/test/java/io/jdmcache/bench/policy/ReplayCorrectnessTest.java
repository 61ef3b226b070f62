package io.jdmcache.bench.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The reference replays are right: LRU against a LinkedHashMap, Belady's MIN against an exhaustive search. */
class ReplayCorrectnessTest {

    private static Trace random(long seed, int length, int blocks) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] b = new int[length];
        for (int i = 0; i < length; i++) {
            // skewed, so there is something to keep
            b[i] = r.nextInt(3) == 0 ? r.nextInt(blocks) : r.nextInt(Math.max(1, blocks / 3));
        }
        return new Trace("random", "random", blocks, b, new boolean[length], new int[0]);
    }

    @Property(tries = 300)
    void lruMatchesALinkedHashMap(@ForAll long seed, @ForAll @IntRange(min = 0, max = 40) int cache,
                                  @ForAll @IntRange(min = 1, max = 100) int blocks) {
        Trace t = random(seed, 2000, blocks);
        Map<Integer, Boolean> lru = new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
                return size() > cache;
            }
        };
        long hits = 0;
        long late = 0;
        for (int i = 0; i < t.length(); i++) {
            if (lru.get(t.blocks()[i]) != null) {
                hits++;
                late += i >= t.length() / 2 ? 1 : 0;
            } else if (cache > 0) {
                lru.put(t.blocks()[i], Boolean.TRUE);
            }
        }
        ReplayResult r = new LruReplay().replay(t, cache);
        assertEquals(hits, r.hits());
        assertEquals(late, r.lateHits());
        assertEquals(t.length(), r.ios());
    }

    @Property(tries = 400)
    void beladyIsOptimal(@ForAll long seed, @ForAll @IntRange(min = 0, max = 4) int cache,
                         @ForAll @IntRange(min = 1, max = 7) int blocks, @ForAll @IntRange(min = 1, max = 14) int length) {
        Trace t = random(seed, length, blocks);
        assertEquals(exhaustiveBest(t.blocks(), cache, blocks), new BeladyReplay().replay(t, cache).hits(), Arrays.toString(t.blocks()));
    }

    @Property(tries = 100)
    void beladyBeatsOrEqualsLru(@ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int cache,
                                @ForAll @IntRange(min = 1, max = 400) int blocks) {
        Trace t = random(seed, 5000, blocks);
        assertTrue(new BeladyReplay().replay(t, cache).hits() >= new LruReplay().replay(t, cache).hits());
    }

    /**
     * The most hits any cache of {@code cache} blocks can get when a block can only enter when it is accessed:
     * dynamic programming over the set of cached blocks (a bitmask).
     */
    private static long exhaustiveBest(int[] trace, int cache, int blocks) {
        int states = 1 << blocks;
        long[] best = new long[states];
        Arrays.fill(best, -1);
        best[0] = 0;
        for (int b : trace) {
            long[] next = new long[states];
            Arrays.fill(next, -1);
            int bit = 1 << b;
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
                        int evict = Integer.lowestOneBit(v);
                        int to = (s & ~evict) | bit;
                        next[to] = Math.max(next[to], best[s]);
                    }
                }
            }
            best = next;
        }
        return Arrays.stream(best).max().orElse(0);
    }
}
