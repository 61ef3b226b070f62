package io.jdmcache.engine.bench;

import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.engine.EngineOptions;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.policy.MemoryFootprint;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;

/**
 * End-to-end figures for the engine (run by hand, not a test):
 * <ol>
 *   <li>hot-set throughput: 4 KiB random reads, then 4 KiB random writes, from 8 threads over a hot set that
 *       fits in the cache, through a warm cache (writeback, smq: the writes hit cached blocks) vs the bare cache
 *       device (the same I/O on the cache file) vs the bare origin (reads). The origin is a file behind a
 *       {@link SlowDevice} (5 ms per request, 100 MB/s, one request at a time); the cache is a plain file.
 *       Both ratios to the bare cache device are printed;</li>
 *   <li>RAM per cache block with 10,000,000 cache blocks: heap growth of an opened engine, and the part of it
 *       that is mapping, policy and dirty/discard state (the growth less the metadata's block cache, a fixed
 *       {@value MetadataOptions#DEFAULT_CACHE_BLOCKS} blocks of 4 KiB whatever the cache's size), with the
 *       policy's own accounting beside it. Run with the parallel collector, which (unlike G1's humongous
 *       regions) does not round large arrays up to a region.</li>
 * </ol>
 * Usage: {@code EngineBench [seconds per run] [directory for the files]}; system property {@code part}: {@code all}
 * (the default), {@code speed} (the first) or {@code ram} (the second, for a manual and a threaded engine).
 */
public final class EngineBench {
    static final int BLOCK = 64 * 1024;
    static final int IO = 4096;
    static final int THREADS = Integer.getInteger("threads", 8);
    /** Turns the engine and the bare cache device take, each (system property {@code rounds}). */
    static final int ROUNDS = Integer.getInteger("rounds", 2);

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        Path dir = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("jdmcache-bench");
        String part = System.getProperty("part", "all");
        if (!part.equals("all") && !part.equals("speed") && !part.equals("ram")) {
            throw new IllegalArgumentException("part: all, speed or ram, not " + part);
        }
        if (!part.equals("ram")) {
            hotSet(seconds, dir);
        }
        if (!part.equals("speed")) {
            ramPerBlock(dir, false);
            ramPerBlock(dir, true);
        }
    }

    static Path file(Path dir, String name, long size) throws IOException {
        Path p = dir.resolve(name);
        Files.deleteIfExists(p);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(size);
        }
        return p;
    }

    static void hotSet(double seconds, Path dir) throws Exception {
        long originSize = 1L << 30;
        long cacheSize = 128L << 20;
        long hotBytes = 96L << 20;
        Path md = file(dir, "md", 16 << 20);
        Path cache = file(dir, "cache", cacheSize);
        Path origin = file(dir, "origin", originSize);
        BlockDevice originDev = slow(FileBlockDevice.open(origin, false));
        CacheConfig cfg = CacheConfig.parse(md + " " + cache + " " + origin + " " + BLOCK / 512 + " 1 writeback smq 0");
        // the engine and the bare cache file take turns, ROUNDS times each, so that a change in the machine's
        // load during the run weighs on both sides alike; each ratio is of the IOPS summed over the rounds
        double cached = 0;
        double cachedWrites = 0;
        double bareCache = 0;
        double bareCacheWrites = 0;
        String status;
        try (CacheDevice d = CacheDevice.open(cfg, FileBlockDevice.open(md, false), FileBlockDevice.open(cache, false),
                originDev, EngineOptions.DEFAULTS);
             BlockDevice c = FileBlockDevice.open(cache, false)) {
            // warm: whole-block writes of the hot set are promoted straight away in writeback mode
            ByteBuffer block = ByteBuffer.allocate(BLOCK);
            for (long off = 0; off < hotBytes; off += BLOCK) {
                block.clear();
                d.write(off, block);
            }
            d.flush();
            run("warm-up", d, hotBytes, 1, false);
            run("warm-up", c, hotBytes, 1, false);
            for (int round = 0; round < ROUNDS; round++) {
                cached += run("reads through the cache (warm)", d, hotBytes, seconds, false);
                bareCache += run("reads of the bare cache device", c, hotBytes, seconds, false);
            }
            run("warm-up", d, hotBytes, 1, true);
            run("warm-up", c, hotBytes, 1, true);
            for (int round = 0; round < ROUNDS; round++) {
                d.flush(); // each write run starts with the page cache clean
                cachedWrites += run("writes through the cache (hits)", d, hotBytes, seconds, true);
                c.flush();
                bareCacheWrites += run("writes to the bare cache device", c, hotBytes, seconds, true);
            }
            status = d.status();
        }
        System.out.println("  status: " + status);
        double bareOrigin;
        try (BlockDevice o = slow(FileBlockDevice.open(origin, false))) {
            bareOrigin = run("reads of the bare origin (5 ms, 100 MB/s)", o, hotBytes, Math.min(seconds, 3), false);
        }
        System.out.printf(Locale.ROOT, "  over %d rounds: reads: cache/bare-cache %.2f, cache/bare-origin %.0fx; "
                + "writes: cache/bare-cache %.2f%n", ROUNDS, cached / bareCache, cached / ROUNDS / bareOrigin,
                cachedWrites / bareCacheWrites);
    }

    static BlockDevice slow(BlockDevice d) {
        return new SlowDevice(d, 5_000_000L, 100_000_000L, 1);
    }

    static double run(String what, BlockDevice d, long span, double seconds, boolean write) throws Exception {
        LongAdder ops = new LongAdder();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        List<Thread> ts = new ArrayList<>();
        List<Throwable> errors = new ArrayList<>();
        long[] maxLatency = new long[THREADS];
        for (int t = 0; t < THREADS; t++) {
            int me = t;
            Thread th = new Thread(() -> {
                SplittableRandom r = new SplittableRandom(me);
                ByteBuffer b = ByteBuffer.allocateDirect(IO);
                try {
                    while (System.nanoTime() < end) {
                        long t0 = System.nanoTime();
                        b.clear();
                        if (write) {
                            d.write(r.nextLong(span / IO) * IO, b);
                        } else {
                            d.read(r.nextLong(span / IO) * IO, b);
                        }
                        maxLatency[me] = Math.max(maxLatency[me], System.nanoTime() - t0);
                        ops.increment();
                    }
                } catch (IOException e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        if (!errors.isEmpty()) {
            throw new IOException(what + ": " + errors.get(0), errors.get(0));
        }
        double iops = ops.sum() / seconds;
        long max = 0;
        for (long m : maxLatency) {
            max = Math.max(max, m);
        }
        System.out.printf(Locale.ROOT, "%-42s %10.0f IOPS %8.1f MiB/s  mean %7.1f us  max %8.1f us%n", what, iops,
                iops * IO / (1 << 20), THREADS * 1e6 / iops, max / 1e3);
        return iops;
    }

    /** A device of any size that stores nothing and reads zeros (the cache device of the RAM measurement). */
    static BlockDevice nullDevice(String name, long size) {
        return new BlockDevice() {
            public long size() {
                return size;
            }

            public void read(long offset, ByteBuffer dst) {
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
            }

            public void write(long offset, ByteBuffer src) {
                src.position(src.limit());
            }

            public void flush() {
            }

            public boolean isReadOnly() {
                return false;
            }

            public String name() {
                return name;
            }

            public void close() {
            }
        };
    }

    static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 4; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    /**
     * @param threaded the engine's own threads (migration workers, the periodic commit) and with them the
     *                 written-back grace of the dirty state; else driven by hand, as the simulations do
     */
    static void ramPerBlock(Path dir, boolean threaded) throws IOException {
        int blocks = 10_000_000;
        long bs = 32 * 1024;
        Path mdFile = file(dir, "md-ram", 512L << 20); // a sparse file: the metadata's pages are not on the heap
        BlockDevice cache = nullDevice("cache", blocks * bs);
        BlockDevice origin = nullDevice("origin", 10L * blocks * bs);
        CacheConfig cfg = CacheConfig.parse("md cache origin 64 1 writeback smq 0");
        BlockDevice md = FileBlockDevice.open(mdFile, false);
        long before = usedHeap();
        CacheDevice d = CacheDevice.open(cfg, md, cache, origin,
                new EngineOptions(2, 1_000_000_000L, 1_000_000_000L, System::nanoTime, threaded));
        long after = usedHeap();
        MemoryFootprint f = d.policy().memoryFootprint();
        d.abandon();
        Files.deleteIfExists(mdFile);
        long engine = after - before;
        long blockCache = (long) MetadataOptions.DEFAULT_CACHE_BLOCKS * 4096;
        System.out.printf(Locale.ROOT, "RAM, %,d cache blocks (origin 10x), %s engine: heap %.1f MiB = %.2f B per "
                        + "cache block; mapping, policy and dirty/discard state %.2f B per cache block (the heap less "
                        + "the metadata's block cache, %d MiB whatever the size); policy accounts %.2f B per block "
                        + "(cache entries %.2f, hotspot %.2f)%n",
                blocks, threaded ? "threaded" : "manual", engine / 1048576.0, (double) engine / blocks,
                (double) (engine - blockCache) / blocks, blockCache >> 20, f.totalBytesPerCacheBlock(),
                f.cacheBytesPerBlock(), f.hotspotBytesPerCacheBlock());
    }
}
