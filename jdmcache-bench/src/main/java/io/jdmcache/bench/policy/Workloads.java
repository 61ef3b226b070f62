package io.jdmcache.bench.policy;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Synthetic traces, sized relative to the cache ({@code cacheBlocks}), deterministic for a seed. Zipf ranks are
 * scattered over the origin by a fixed random permutation (as fio scatters its zipf offsets), so popular
 * blocks are not neighbours.
 */
final class Workloads {
    private Workloads() {
    }

    /** The standard set, in table order. */
    static List<Trace> standard(int cacheBlocks, int ios, long seed) {
        return List.of(
                zipf("zipf-0.9", cacheBlocks * 32, 0.9, 0.3, ios, seed),
                zipf("zipf-1.2", cacheBlocks * 32, 1.2, 0.3, ios, seed + 1),
                zipfLocal("zipf-0.9-local", cacheBlocks * 32, 0.9, 0.3, ios, seed + 4),
                zipfPlusScan(cacheBlocks, ios, seed + 5),
                hotPlusScan(cacheBlocks, ios, seed + 2),
                loop(cacheBlocks, ios),
                phased(cacheBlocks, ios, seed + 3));
    }

    /** Zipf over {@code originBlocks} blocks with exponent {@code theta}; {@code writeFraction} of I/Os write. */
    static Trace zipf(String name, int originBlocks, double theta, double writeFraction, int ios, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] perm = permutation(originBlocks, random);
        ZipfSampler zipf = new ZipfSampler(originBlocks, theta);
        int[] blocks = new int[ios];
        boolean[] writes = new boolean[ios];
        for (int i = 0; i < ios; i++) {
            blocks[i] = perm[zipf.next(random)];
            writes[i] = random.nextDouble() < writeFraction;
        }
        return new Trace(name, "zipf theta " + theta + " over " + originBlocks + " blocks, "
                + Math.round(writeFraction * 100) + "% writes", originBlocks, blocks, writes, new int[0]);
    }

    /**
     * Zipf 0.9 over {@code 32 x cacheBlocks} blocks (scattered, 30% writes) for 70% of the I/Os, while 30% read a
     * sequential scan of other blocks that never repeats within the trace: a database with a backup running.
     */
    static Trace zipfPlusScan(int cacheBlocks, int ios, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int zipfBlocks = cacheBlocks * 32;
        int originBlocks = zipfBlocks + Math.max(ios, 1);
        int[] perm = permutation(zipfBlocks, random);
        ZipfSampler zipf = new ZipfSampler(zipfBlocks, 0.9);
        int[] blocks = new int[ios];
        boolean[] writes = new boolean[ios];
        int scan = zipfBlocks;
        for (int i = 0; i < ios; i++) {
            if (random.nextDouble() < 0.7) {
                blocks[i] = perm[zipf.next(random)];
                writes[i] = random.nextDouble() < 0.3;
            } else {
                blocks[i] = scan++;
            }
        }
        return new Trace("zipf+scan", "70% zipf 0.9 over " + zipfBlocks + " blocks (30% writes), 30% a one-pass scan",
                originBlocks, blocks, writes, new int[0]);
    }

    /** Zipf whose popular blocks are neighbours (rank r is block r): hot regions, as file systems often make. */
    static Trace zipfLocal(String name, int originBlocks, double theta, double writeFraction, int ios, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ZipfSampler zipf = new ZipfSampler(originBlocks, theta);
        int[] blocks = new int[ios];
        boolean[] writes = new boolean[ios];
        for (int i = 0; i < ios; i++) {
            blocks[i] = zipf.next(random);
            writes[i] = random.nextDouble() < writeFraction;
        }
        return new Trace(name, "zipf theta " + theta + " over " + originBlocks + " blocks, popular blocks adjacent, "
                + Math.round(writeFraction * 100) + "% writes", originBlocks, blocks, writes, new int[0]);
    }

    /**
     * A hot set of half the cache, read and written uniformly by 60% of the I/Os, while the other 40% read a
     * sequential scan that never repeats within the trace (a backup or a large file copy).
     */
    static Trace hotPlusScan(int cacheBlocks, int ios, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int hot = Math.max(1, cacheBlocks / 2);
        int originBlocks = hot + Math.max(ios, 1);
        int[] perm = permutation(hot, random);
        int[] blocks = new int[ios];
        boolean[] writes = new boolean[ios];
        int scan = hot;
        for (int i = 0; i < ios; i++) {
            if (random.nextDouble() < 0.6) {
                blocks[i] = perm[random.nextInt(hot)];
                writes[i] = random.nextDouble() < 0.3;
            } else {
                blocks[i] = scan++;
            }
        }
        return new Trace("hot+scan", "60% uniform over a hot set of " + hot + " blocks, 40% a one-pass scan",
                originBlocks, blocks, writes, new int[0]);
    }

    /** A read loop over 1.25 times the cache size: LRU's worst case. */
    static Trace loop(int cacheBlocks, int ios) {
        int span = Math.max(2, cacheBlocks + cacheBlocks / 4);
        int[] blocks = new int[ios];
        for (int i = 0; i < ios; i++) {
            blocks[i] = i % span;
        }
        return new Trace("loop", "sequential read loop over " + span + " blocks (1.25x the cache)",
                span, blocks, new boolean[ios], new int[0]);
    }

    /**
     * Four phases, each a zipf 1.0 workload (40% writes) over its own region of 8 times the cache, with the
     * origin idle for a few seconds between phases: the hot set moves and the cache must follow.
     */
    static Trace phased(int cacheBlocks, int ios, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int phases = 4;
        int region = cacheBlocks * 8;
        int originBlocks = region * phases;
        ZipfSampler zipf = new ZipfSampler(region, 1.0);
        int[] perm = permutation(region, random);
        int[] blocks = new int[ios];
        boolean[] writes = new boolean[ios];
        int[] idle = new int[phases - 1];
        int perPhase = Math.max(1, ios / phases);
        for (int i = 0; i < ios; i++) {
            int phase = Math.min(phases - 1, i / perPhase);
            blocks[i] = phase * region + perm[zipf.next(random)];
            writes[i] = random.nextDouble() < 0.4;
        }
        for (int p = 1; p < phases; p++) {
            idle[p - 1] = Math.min(ios - 1, p * perPhase);
        }
        int[] idleBefore = ios > phases ? idle : new int[0];
        return new Trace("phased", phases + " zipf-1.0 phases over separate regions of " + region
                + " blocks, 40% writes, idle gaps between phases", originBlocks, blocks, writes, idleBefore);
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }
}
