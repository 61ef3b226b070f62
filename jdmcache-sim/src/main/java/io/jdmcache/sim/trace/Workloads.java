package io.jdmcache.sim.trace;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Synthetic traces, sized relative to a reference cache of {@code scale} blocks, deterministic for a seed. Zipf
 * ranks are scattered over the origin by a fixed random permutation (as fio scatters its zipf offsets), so popular
 * blocks are not neighbours. {@code jdmcache sim --trace synthetic:NAME[:ACCESSES[:SCALE[:SEED]]]} replays one
 * (defaults: 2,000,000 accesses, scale 4,096, seed 42).
 */
public final class Workloads {
    /** The standard set, in table order. */
    public static final List<String> NAMES = List.of("zipf-0.9", "zipf-1.2", "zipf-0.9-local", "zipf+scan",
            "hot+scan", "loop", "phased");
    public static final String PREFIX = "synthetic:";
    public static final int DEFAULT_ACCESSES = 2_000_000;
    public static final int DEFAULT_SCALE = 4096;
    public static final long DEFAULT_SEED = 42;

    private Workloads() {
    }

    /** Whether a {@code --trace} value names a synthetic trace rather than a file. */
    public static boolean isSynthetic(String spec) {
        return spec.startsWith(PREFIX);
    }

    /**
     * The synthetic trace a {@code synthetic:NAME[:ACCESSES[:SCALE[:SEED]]]} value names.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static Trace fromSpec(String spec) {
        String[] p = spec.substring(PREFIX.length()).split(":", -1);
        String name = p[0];
        if (!NAMES.contains(name) || p.length > 4) {
            throw new IllegalArgumentException("unknown synthetic trace '" + spec + "' (synthetic:NAME[:ACCESSES[:SCALE[:SEED]]],"
                    + " NAME one of " + String.join(", ", NAMES) + ")");
        }
        int accesses = p.length > 1 ? number(spec, p[1], 1, 500_000_000) : DEFAULT_ACCESSES;
        int scale = p.length > 2 ? number(spec, p[2], 1, 1 << 23) : DEFAULT_SCALE;
        long seed = p.length > 3 ? number(spec, p[3], 0, Integer.MAX_VALUE) : DEFAULT_SEED;
        return standard(name, scale, accesses, seed);
    }

    private static int number(String spec, String v, int min, int max) {
        long n = Numbers.decimal(v);
        if (n < min || n > max) {
            throw new IllegalArgumentException("synthetic trace '" + spec + "': '" + v + "' must be a number in ["
                    + min + ", " + max + "]");
        }
        return (int) n;
    }

    /** One of {@link #NAMES} (seeds offset per trace as the bench's standard set always did). */
    public static Trace standard(String name, int scale, int accesses, long seed) {
        return switch (name) {
            case "zipf-0.9" -> zipf("zipf-0.9", scale * 32, 0.9, 0.3, accesses, seed);
            case "zipf-1.2" -> zipf("zipf-1.2", scale * 32, 1.2, 0.3, accesses, seed + 1);
            case "zipf-0.9-local" -> zipfLocal("zipf-0.9-local", scale * 32, 0.9, 0.3, accesses, seed + 4);
            case "zipf+scan" -> zipfPlusScan(scale, accesses, seed + 5);
            case "hot+scan" -> hotPlusScan(scale, accesses, seed + 2);
            case "loop" -> loop(scale, accesses);
            case "phased" -> phased(scale, accesses, seed + 3);
            default -> throw new IllegalArgumentException("unknown synthetic trace " + name);
        };
    }

    private static Trace trace(String name, int originBlocks, int[] blocks, boolean[] writes, int[] idle) {
        return new Trace(name, blocks, writes, originBlocks, idle);
    }

    /** Zipf over {@code originBlocks} blocks with exponent {@code theta}; {@code writeFraction} of accesses write. */
    public static Trace zipf(String name, int originBlocks, double theta, double writeFraction, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] perm = permutation(originBlocks, random);
        ZipfSampler zipf = new ZipfSampler(originBlocks, theta);
        int[] blocks = new int[n];
        boolean[] writes = new boolean[n];
        for (int i = 0; i < n; i++) {
            blocks[i] = perm[zipf.next(random)];
            writes[i] = random.nextDouble() < writeFraction;
        }
        return trace(name, originBlocks, blocks, writes, new int[0]);
    }

    /** Zipf 0.9 over {@code 32 x scale} blocks for 70% of the accesses, 30% a one-pass sequential scan. */
    public static Trace zipfPlusScan(int scale, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int zipfBlocks = scale * 32;
        int originBlocks = zipfBlocks + Math.max(n, 1);
        int[] perm = permutation(zipfBlocks, random);
        ZipfSampler zipf = new ZipfSampler(zipfBlocks, 0.9);
        int[] blocks = new int[n];
        boolean[] writes = new boolean[n];
        int scan = zipfBlocks;
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < 0.7) {
                blocks[i] = perm[zipf.next(random)];
                writes[i] = random.nextDouble() < 0.3;
            } else {
                blocks[i] = scan++;
            }
        }
        return trace("zipf+scan", originBlocks, blocks, writes, new int[0]);
    }

    /** Zipf whose popular blocks are neighbours (rank r is block r): hot regions, as file systems often make. */
    public static Trace zipfLocal(String name, int originBlocks, double theta, double writeFraction, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        ZipfSampler zipf = new ZipfSampler(originBlocks, theta);
        int[] blocks = new int[n];
        boolean[] writes = new boolean[n];
        for (int i = 0; i < n; i++) {
            blocks[i] = zipf.next(random);
            writes[i] = random.nextDouble() < writeFraction;
        }
        return trace(name, originBlocks, blocks, writes, new int[0]);
    }

    /** A hot set of half the scale, read and written uniformly by 60% of the accesses, 40% a one-pass scan. */
    public static Trace hotPlusScan(int scale, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int hot = Math.max(1, scale / 2);
        int originBlocks = hot + Math.max(n, 1);
        int[] perm = permutation(hot, random);
        int[] blocks = new int[n];
        boolean[] writes = new boolean[n];
        int scan = hot;
        for (int i = 0; i < n; i++) {
            if (random.nextDouble() < 0.6) {
                blocks[i] = perm[random.nextInt(hot)];
                writes[i] = random.nextDouble() < 0.3;
            } else {
                blocks[i] = scan++;
            }
        }
        return trace("hot+scan", originBlocks, blocks, writes, new int[0]);
    }

    /** A read loop over 1.25 times the scale: LRU's worst case at that cache size. */
    public static Trace loop(int scale, int n) {
        int span = Math.max(2, scale + scale / 4);
        int[] blocks = new int[n];
        for (int i = 0; i < n; i++) {
            blocks[i] = i % span;
        }
        return trace("loop", span, blocks, new boolean[n], new int[0]);
    }

    /** Four zipf 1.0 phases (40% writes) over separate regions of 8 x scale blocks, idle gaps between them. */
    public static Trace phased(int scale, int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int phases = 4;
        int region = scale * 8;
        int originBlocks = region * phases;
        ZipfSampler zipf = new ZipfSampler(region, 1.0);
        int[] perm = permutation(region, random);
        int[] blocks = new int[n];
        boolean[] writes = new boolean[n];
        int[] idle = new int[phases - 1];
        int perPhase = Math.max(1, n / phases);
        for (int i = 0; i < n; i++) {
            int phase = Math.min(phases - 1, i / perPhase);
            blocks[i] = phase * region + perm[zipf.next(random)];
            writes[i] = random.nextDouble() < 0.4;
        }
        for (int p = 1; p < phases; p++) {
            idle[p - 1] = Math.min(n - 1, p * perPhase);
        }
        return trace("phased", originBlocks, blocks, writes, n > phases ? idle : new int[0]);
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
