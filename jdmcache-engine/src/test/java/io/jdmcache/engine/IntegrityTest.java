package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Data integrity: random workloads against the cache and a plain model byte array give identical contents.
 *
 * <p>Phase A runs four threads at once. Bytes are owned in 8 KiB units (offset by 4 KiB, so every fourth unit
 * straddles a cache block boundary) spread over the threads, so threads share every cache block but never a
 * byte: each thread's model of its own units is exact and every read of them is checked while the others write
 * to the same blocks and the migration workers move them. Phase B, single-threaded, adds whole-block and
 * multi-block writes, write-zeroes and discards (a discarded byte may read as its old value or zero until it is
 * written again, so the model marks it unknown). Then the cache is closed and reopened, read back whole, drained
 * with the cleaner policy, and the origin alone must hold the model.
 */
class IntegrityTest {
    static final int BLOCK = 32 * 1024;
    static final int ORIGIN = 16 << 20;
    static final int UNIT = 8192;
    static final int THREADS = 4;

    @ParameterizedTest(name = "{0} cache {1}% of origin, {2}")
    @CsvSource({
            "writeback, 1, smq", "writeback, 10, smq", "writeback, 100, smq",
            "writethrough, 1, smq", "writethrough, 10, smq", "writethrough, 100, smq",
            "passthrough, 1, smq", "passthrough, 10, smq", "passthrough, 100, smq",
            "writeback, 1, wtlfu", "writeback, 10, wtlfu", "writethrough, 10, wtlfu",
    })
    void randomWorkloadMatchesTheModel(String modeWord, int percent, String policy) throws Exception {
        CacheMode mode = CacheMode.fromWord(modeWord);
        long seed = modeWord.hashCode() * 31L + percent + (policy.equals("smq") ? 0 : policy.hashCode());
        int cacheBytes = Math.max(BLOCK, (int) ((long) ORIGIN * percent / 100 / BLOCK) * BLOCK);
        MemoryBlockDevice md = new MemoryBlockDevice("md", 8 << 20);
        MemoryBlockDevice cache = new MemoryBlockDevice("cache", cacheBytes);
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", ORIGIN);
        byte[] model = new byte[ORIGIN];
        BitSet unknown = new BitSet(ORIGIN);
        SplittableRandom rnd = new SplittableRandom(seed);
        // idle at once: write-backs run all the time, racing foreground writes
        // and the policy's clock runs 200 times faster than real time, so smq adapts within the test
        EngineOptions opts = fastClock(EngineOptions.DEFAULTS.withIdleNanos(0).withCommitPeriodNanos(20_000_000L));

        // warm the cache (whole-block writes are promoted at once in writeback mode)
        try (CacheDevice d = open(md, cache, origin, CacheMode.WRITEBACK, policy, opts)) {
            for (int i = 0; i < 64; i++) {
                int b = rnd.nextInt(ORIGIN / BLOCK);
                byte[] data = bytes(rnd, BLOCK);
                d.write((long) b * BLOCK, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, b * BLOCK, BLOCK);
                for (int k = 0; k < 40; k++) {
                    read(d, (long) b * BLOCK + rnd.nextInt(BLOCK - 512), 512);
                }
            }
        }

        if (mode == CacheMode.PASSTHROUGH) {
            try (CacheDevice cleaner = open(md, cache, origin, CacheMode.WRITEBACK, "cleaner", opts)) {
                CacheDeviceTest.waitClean(cleaner);
            }
        }
        CacheDevice d = open(md, cache, origin, mode, policy, opts);
        if (mode == CacheMode.PASSTHROUGH) {
            assertThat(d.residency()).isPositive();
        }
        try {
            phaseA(d, model, seed);
            phaseB(d, model, unknown, rnd);
            checkAll(d, model, unknown);
            d.flush();
            String status = d.status();
            System.out.printf("%s %d%%: %s; writebacks %d, commits %d%n", modeWord, percent, status, d.writebacks(),
                    d.commits());
            assertThat(status).endsWith(" rw -");
            if (mode != CacheMode.PASSTHROUGH) {
                assertThat(d.promotions()).isPositive();
            }
        } finally {
            d.close();
        }
        assertThat(d.backgroundFailure()).isNull();

        try (CacheDevice again = open(md, cache, origin, mode, policy, opts)) {
            checkAll(again, model, unknown);
        }
        try (CacheDevice cleaner = open(md, cache, origin, CacheMode.WRITEBACK, "cleaner", opts)) {
            CacheDeviceTest.waitClean(cleaner);
        }
        checkAll(origin, model, unknown);
    }

    /** The options with a policy clock running 200 times faster than real time. */
    static EngineOptions fastClock(EngineOptions o) {
        long t0 = System.nanoTime();
        return new EngineOptions(o.migrationWorkers(), o.idleNanos(), o.commitPeriodNanos(),
                () -> (System.nanoTime() - t0) * 200, o.backgroundThreads());
    }

    static CacheDevice open(MemoryBlockDevice md, MemoryBlockDevice cache, MemoryBlockDevice origin, CacheMode mode,
                            String policy, EngineOptions opts) throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 1 " + mode.word() + " " + policy + " 0");
        return CacheDevice.open(c, md, cache, origin, opts);
    }

    static byte[] bytes(SplittableRandom r, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt();
        }
        return b;
    }

    static byte[] read(BlockDevice d, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        d.read(off, b);
        return b.array();
    }

    /** The unit (8 KiB, starting 4 KiB into the device) holding a byte. */
    static int unitOf(long pos) {
        return (int) ((pos + UNIT / 2) / UNIT);
    }

    static long unitStart(int u) {
        return Math.max(0, (long) u * UNIT - UNIT / 2);
    }

    static long unitEnd(int u) {
        return Math.min(ORIGIN, (long) u * UNIT + UNIT / 2);
    }

    private static void phaseA(CacheDevice d, byte[] model, long seed) throws Exception {
        int units = unitOf(ORIGIN - 1) + 1;
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Integer>> fs = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int me = t;
                fs.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed * 7919 + me);
                    int checked = 0;
                    // a hot set of about 5% of the units gets 70% of the I/O
                    int hot = Math.max(THREADS * 4, units / 20);
                    for (int i = 0; i < 2500; i++) {
                        int u;
                        do {
                            u = r.nextInt(10) < 7 ? r.nextInt(hot) : r.nextInt(units);
                        } while (u % THREADS != me);
                        long s = unitStart(u);
                        long e = unitEnd(u);
                        int op = r.nextInt(100);
                        if (op < 45) {
                            long off = s + r.nextLong(e - s);
                            int len = 1 + (int) r.nextLong(e - off);
                            byte[] data = bytes(r, len);
                            if (r.nextInt(10) == 0) {
                                d.writeFua(off, ByteBuffer.wrap(data));
                            } else {
                                d.write(off, ByteBuffer.wrap(data));
                            }
                            System.arraycopy(data, 0, model, (int) off, len);
                        } else if (op < 85) {
                            byte[] got = read(d, s, (int) (e - s));
                            for (int k = 0; k < got.length; k++) {
                                if (got[k] != model[(int) s + k]) {
                                    throw new AssertionError("thread " + me + " op " + i + ": byte " + (s + k)
                                            + " reads " + got[k] + ", model " + model[(int) s + k]);
                                }
                            }
                            checked++;
                        } else if (op < 97) {
                            long off = r.nextLong(ORIGIN - 1);
                            read(d, off, 1 + (int) r.nextLong(Math.min(3L * BLOCK, ORIGIN - off)));
                        } else {
                            d.flush();
                        }
                    }
                    return checked;
                }));
            }
            for (Future<Integer> f : fs) {
                assertThat(f.get()).isPositive();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static void phaseB(CacheDevice d, byte[] model, BitSet unknown, SplittableRandom r) throws IOException {
        int blocks = ORIGIN / BLOCK;
        for (int i = 0; i < 1500; i++) {
            int op = r.nextInt(100);
            if (op < 25) {
                long off = (long) r.nextInt(blocks / 4) * BLOCK;
                int len = BLOCK * (1 + r.nextInt(3));
                write(d, model, unknown, off, bytes(r, len));
            } else if (op < 50) {
                long off = r.nextLong(ORIGIN - 1);
                int len = 1 + (int) r.nextLong(Math.min(3L * BLOCK, ORIGIN - off));
                write(d, model, unknown, off, bytes(r, len));
            } else if (op < 55) {
                long off = r.nextLong(ORIGIN - 1);
                int len = 1 + (int) r.nextLong(Math.min(2L * BLOCK, ORIGIN - off));
                d.writeZeroes(off, len);
                java.util.Arrays.fill(model, (int) off, (int) off + len, (byte) 0);
                unknown.clear((int) off, (int) off + len);
            } else if (op < 60) {
                long off = r.nextInt(2) == 0 ? (long) r.nextInt(blocks) * BLOCK : r.nextLong(ORIGIN - 1);
                int len = 1 + (int) r.nextLong(Math.min(3L * BLOCK, ORIGIN - off));
                d.discard(off, len);
                unknown.set((int) off, (int) off + len);
            } else if (op < 97) {
                long off = r.nextInt(3) == 0 ? (long) r.nextInt(blocks / 4) * BLOCK : r.nextLong(ORIGIN - 1);
                int len = 1 + (int) r.nextLong(Math.min(3L * BLOCK, ORIGIN - off));
                compare(read(d, off, len), off, model, unknown, "phase B op " + i);
            } else {
                d.flush();
            }
        }
    }

    private static void write(CacheDevice d, byte[] model, BitSet unknown, long off, byte[] data) throws IOException {
        d.write(off, ByteBuffer.wrap(data));
        System.arraycopy(data, 0, model, (int) off, data.length);
        unknown.clear((int) off, (int) off + data.length);
    }

    static void compare(byte[] got, long off, byte[] model, BitSet unknown, String where) {
        for (int k = 0; k < got.length; k++) {
            int p = (int) off + k;
            if (!unknown.get(p) && got[k] != model[p]) {
                throw new AssertionError(where + ": byte " + p + " reads " + got[k] + ", model " + model[p]);
            }
        }
    }

    static void checkAll(BlockDevice d, byte[] model, BitSet unknown) throws IOException {
        for (long off = 0; off < ORIGIN; off += 1 << 20) {
            compare(read(d, off, 1 << 20), off, model, unknown, d.name());
        }
    }
}
