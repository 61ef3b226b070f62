package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.CrashingDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Power cuts: metadata, cache and origin lose power together after a random number of device writes during a
 * random workload (with the migration workers busy: the device counts as idle at once and the policy's clock
 * runs fast). Each device keeps, drops or tears (per 512-byte sector) each write it had not flushed. After
 * restart every byte written before the last completed flush, and not written or discarded since, reads back
 * as it was; then the cleaner drains the cache and the origin alone holds those bytes.
 *
 * <p>After a crash every mapped block is dirty, except in writeback (exact dirty bits: each block loaded clean
 * must hold its origin block's data), so a passthrough cache is restarted in writethrough mode (passthrough
 * refuses dirty blocks, as in the kernel).
 */
class PowerCutTest {
    static final int BLOCK = 32 * 1024;
    static final int ORIGIN = 4 << 20;

    @ParameterizedTest(name = "{0}, cache {1} blocks, seed {2}")
    @CsvSource({
            "writeback, 12, 1", "writeback, 12, 2", "writeback, 128, 3", "writeback, 4, 4", "writeback, 12, 5",
            "writethrough, 12, 11", "writethrough, 128, 12", "writethrough, 4, 13", "writethrough, 12, 14",
            "passthrough, 12, 21", "passthrough, 128, 22", "passthrough, 4, 23",
    })
    void acknowledgedFlushedWritesSurviveAPowerCut(String modeWord, int cacheBlocks, long seed) throws Exception {
        CacheMode mode = CacheMode.fromWord(modeWord);
        for (int trial = 0; trial < 3; trial++) {
            runTrial(mode, cacheBlocks, seed * 100 + trial);
        }
    }

    private void runTrial(CacheMode mode, int cacheBlocks, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        Rig rig = new Rig(cacheBlocks, seed);
        PowerRail rail = rig.rail;
        BlockDevice mdp = rig.mdp;
        BlockDevice cp = rig.cp;
        BlockDevice op = rig.op;
        EngineOptions opts = rig.opts;

        byte[] current = new byte[ORIGIN];
        byte[] durable = new byte[ORIGIN];
        BitSet touched = new BitSet(ORIGIN); // written or discarded since the last completed flush
        BitSet unknown = new BitSet(ORIGIN); // discarded and not written since

        // a warm cache, cleanly shut down (and clean for passthrough)
        try (CacheDevice d = open(mdp, cp, op, CacheMode.WRITEBACK, "smq", opts)) {
            for (int i = 0; i < cacheBlocks / 2 + 1; i++) {
                long off = (long) r.nextInt(ORIGIN / BLOCK / 2) * BLOCK;
                byte[] data = IntegrityTest.bytes(r, BLOCK);
                d.write(off, ByteBuffer.wrap(data));
                System.arraycopy(data, 0, current, (int) off, BLOCK);
            }
        }
        if (mode == CacheMode.PASSTHROUGH) {
            try (CacheDevice d = open(mdp, cp, op, CacheMode.WRITEBACK, "cleaner", opts)) {
                CacheDeviceTest.waitClean(d);
            }
        }
        System.arraycopy(current, 0, durable, 0, ORIGIN);

        CacheDevice d = open(mdp, cp, op, mode, "smq", opts);
        rail.armAfter(1 + r.nextInt(1200));
        int flushes = 0;
        try {
            for (int i = 0; i < 600 && !rail.isDead(); i++) {
                int kind = r.nextInt(100);
                long off;
                int len;
                if (kind < 20) {
                    off = (long) r.nextInt(ORIGIN / BLOCK / 2) * BLOCK;
                    len = BLOCK * (1 + r.nextInt(2));
                } else {
                    // mostly in the hot half, so blocks get promoted, dirtied and written back
                    off = r.nextInt(4) == 0 ? r.nextLong(ORIGIN - 1) : r.nextLong(ORIGIN / 2);
                    len = 1 + (int) r.nextLong(Math.min(2L * BLOCK, ORIGIN - off));
                }
                if (kind < 55) {
                    byte[] data = IntegrityTest.bytes(r, len);
                    touched.set((int) off, (int) off + len);
                    System.arraycopy(data, 0, current, (int) off, len);
                    unknown.clear((int) off, (int) off + len);
                    d.write(off, ByteBuffer.wrap(data));
                } else if (kind < 60) {
                    touched.set((int) off, (int) off + len);
                    unknown.set((int) off, (int) off + len);
                    d.discard(off, len);
                } else if (kind < 90) {
                    ByteBuffer b = ByteBuffer.allocate(len);
                    d.read(off, b);
                    IntegrityTest.compare(b.array(), off, current, unknown, "before the cut");
                } else {
                    d.flush();
                    flushes++;
                    for (int p = touched.nextSetBit(0); p >= 0; p = touched.nextSetBit(p + 1)) {
                        durable[p] = current[p];
                    }
                    touched.clear();
                }
            }
        } catch (IOException e) {
            assertThat(rail.isDead()).as("only power loss may fail I/O: %s", e).isTrue();
        }
        rail.cutPower();
        d.abandon();

        MemoryBlockDevice[] after = rig.survivors(seed);
        MemoryBlockDevice md2 = after[0];
        MemoryBlockDevice cache2 = after[1];
        MemoryBlockDevice origin2 = after[2];
        CacheMode restartMode = mode == CacheMode.PASSTHROUGH ? CacheMode.WRITETHROUGH : mode;
        String where = mode.word() + " seed " + seed + " after " + flushes + " flushes";
        // first without background threads: right after an unclean stop every mapped block is dirty, except in
        // writeback, whose commits carry exact dirty bits: there a block loaded clean must hold the origin's data
        try (CacheDevice again = open(md2, cache2, origin2, restartMode, "smq", EngineOptions.manual(opts.clock()))) {
            if (mode == CacheMode.WRITEBACK) {
                ExactDirtyCrashTest.assertCleanBlocksMatchOrigin(again, cache2, origin2, BLOCK, where);
            } else {
                assertThat(again.dirtyBlocks()).isEqualTo(again.residency());
            }
            check(again, durable, touched, where + " (through the cache)");
        }
        try (CacheDevice cleaner = open(md2, cache2, origin2, CacheMode.WRITEBACK, "cleaner", opts)) {
            CacheDeviceTest.waitClean(cleaner);
        }
        check(origin2, durable, touched, where + " (origin after cleaning)");
    }

    /**
     * Four threads write and flush at once, each in its own 8 KiB units (shared cache blocks, never a shared
     * byte, as in {@link IntegrityTest}). A thread's flush makes durable every write it completed before the
     * flush; after the cut, each thread's bytes not written since its own last completed flush must read back.
     */
    @ParameterizedTest(name = "{0}, seed {1}")
    @CsvSource({"writeback, 31", "writeback, 32", "writethrough, 33", "passthrough, 34"})
    void concurrentWritersAndFlushes(String modeWord, long seed) throws Exception {
        CacheMode mode = CacheMode.fromWord(modeWord);
        for (int trial = 0; trial < 3; trial++) {
            runConcurrentTrial(mode, seed * 100 + trial);
        }
    }

    private void runConcurrentTrial(CacheMode mode, long seed) throws Exception {
        int threads = 4;
        int unit = 8192;
        int cacheBlocks = 16;
        SplittableRandom r = new SplittableRandom(seed);
        Rig rig = new Rig(cacheBlocks, seed);
        PowerRail rail = rig.rail;
        BlockDevice mdp = rig.mdp;
        BlockDevice cp = rig.cp;
        BlockDevice op = rig.op;
        EngineOptions opts = rig.opts;
        byte[] current = new byte[ORIGIN];
        byte[] durable = new byte[ORIGIN];
        if (mode == CacheMode.PASSTHROUGH) {
            // some cached clean blocks for the passthrough writes to invalidate
            try (CacheDevice d = open(mdp, cp, op, CacheMode.WRITEBACK, "smq", opts)) {
                for (int i = 0; i < cacheBlocks / 2; i++) {
                    d.write((long) i * 3 * BLOCK, ByteBuffer.wrap(new byte[BLOCK]));
                }
            }
            try (CacheDevice d = open(mdp, cp, op, CacheMode.WRITEBACK, "cleaner", opts)) {
                CacheDeviceTest.waitClean(d);
            }
        }
        CacheDevice d = open(mdp, cp, op, mode, "smq", opts);
        rail.armAfter(50 + r.nextInt(1500));
        BitSet[] touched = new BitSet[threads];
        List<Thread> ts = new ArrayList<>();
        List<Throwable> unexpected = new ArrayList<>();
        int units = ORIGIN / unit;
        for (int t = 0; t < threads; t++) {
            int me = t;
            touched[t] = new BitSet(ORIGIN);
            long tseed = r.nextLong();
            Thread th = new Thread(() -> {
                SplittableRandom tr = new SplittableRandom(tseed);
                BitSet mine = touched[me];
                try {
                    for (int i = 0; i < 400 && !rail.isDead(); i++) {
                        int u;
                        do {
                            u = tr.nextInt(4) == 0 ? tr.nextInt(units) : tr.nextInt(units / 8);
                        } while (u % threads != me);
                        long s = IntegrityTest.unitStart(u);
                        long e = Math.min(ORIGIN, IntegrityTest.unitEnd(u));
                        if (tr.nextInt(10) < 8) {
                            long off = s + tr.nextLong(e - s);
                            int len = 1 + (int) tr.nextLong(e - off);
                            byte[] data = IntegrityTest.bytes(tr, len);
                            mine.set((int) off, (int) off + len);
                            System.arraycopy(data, 0, current, (int) off, len);
                            d.write(off, ByteBuffer.wrap(data));
                        } else {
                            d.flush();
                            for (int p = mine.nextSetBit(0); p >= 0; p = mine.nextSetBit(p + 1)) {
                                durable[p] = current[p];
                            }
                            mine.clear();
                        }
                    }
                } catch (IOException e) {
                    if (!rail.isDead()) {
                        synchronized (unexpected) {
                            unexpected.add(e);
                        }
                    }
                }
            });
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            th.join();
        }
        assertThat(unexpected).isEmpty();
        rail.cutPower();
        d.abandon();
        BitSet all = new BitSet(ORIGIN);
        for (BitSet b : touched) {
            all.or(b);
        }
        MemoryBlockDevice[] after = rig.survivors(seed);
        MemoryBlockDevice md2 = after[0];
        MemoryBlockDevice cache2 = after[1];
        MemoryBlockDevice origin2 = after[2];
        CacheMode restartMode = mode == CacheMode.PASSTHROUGH ? CacheMode.WRITETHROUGH : mode;
        try (CacheDevice again = open(md2, cache2, origin2, restartMode, "smq", opts)) {
            check(again, durable, all, mode.word() + " concurrent seed " + seed);
        }
    }

    /** Metadata, cache and origin devices on one power rail, and the engine options of a trial. */
    private static final class Rig {
        final CrashingDevice md = new CrashingDevice(8 << 20);
        final CrashingDevice cache;
        final CrashingDevice origin = new CrashingDevice(ORIGIN);
        final PowerRail rail = new PowerRail();
        final BlockDevice mdp;
        final BlockDevice cp;
        final BlockDevice op;
        final EngineOptions opts;

        Rig(int cacheBlocks, long seed) {
            cache = new CrashingDevice((long) cacheBlocks * BLOCK);
            mdp = rail.plug(md, "md");
            cp = rail.plug(cache, "cache");
            op = rail.plug(origin, "origin");
            opts = IntegrityTest.fastClock(EngineOptions.DEFAULTS.withIdleNanos(0)
                    .withCommitPeriodNanos(seed % 2 == 0 ? 5_000_000L : 10_000_000_000L));
        }

        /** What survives the power cut on each device (metadata, cache, origin), lost writes chosen by seed. */
        MemoryBlockDevice[] survivors(long seed) throws IOException {
            Random lossRnd = new Random(seed);
            return new MemoryBlockDevice[] {md.survivor(CrashingDevice.Loss.RANDOM, lossRnd),
                    cache.survivor(CrashingDevice.Loss.RANDOM, lossRnd),
                    origin.survivor(CrashingDevice.Loss.RANDOM, lossRnd)};
        }
    }

    static CacheDevice open(BlockDevice md, BlockDevice cache, BlockDevice origin, CacheMode mode, String policy,
                            EngineOptions opts) throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 1 " + mode.word() + " " + policy + " 0");
        return CacheDevice.open(c, md, cache, origin, opts);
    }

    private static void check(BlockDevice d, byte[] durable, BitSet touched, String where) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(ORIGIN);
        d.read(0, b);
        byte[] got = b.array();
        for (int p = touched.nextClearBit(0); p < ORIGIN; p = touched.nextClearBit(p + 1)) {
            if (got[p] != durable[p]) {
                throw new AssertionError(where + ": byte " + p + " (block " + p / BLOCK + ") reads " + got[p]
                        + ", flushed " + durable[p]);
            }
        }
    }
}
