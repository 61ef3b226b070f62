package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.CrashingDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Exact dirty bits across a crash, at every cut point: a deterministic writeback workload (no background threads:
 * whole-block writes promoted dirty, partial writes, reads, flushes, and the policy's promotions, write-backs and
 * demotions run between them) counts its device writes once; then it is run again with the power of metadata,
 * cache and origin cut after each single write in turn, and the unflushed writes of each device kept, dropped or
 * torn. After each cut the cache is opened again: a mapped block loaded clean must hold exactly its origin block's
 * data (so no block written after the last flush-ack is reported clean while it differs from the origin), every
 * byte written before the last completed flush reads back, and after the cleaner has written everything back the
 * origin alone holds those bytes. Some restarts must find clean blocks, or the bits would not be exact at all.
 */
class ExactDirtyCrashTest {
    static final int BLOCK = 32 * 1024;
    static final int CACHE_BLOCKS = 12;
    static final int ORIGIN = 48 * BLOCK;

    @ParameterizedTest(name = "format {0}, seed {1}")
    @CsvSource({"2, 1", "2, 2", "1, 3"})
    void noBlockIsLoadedCleanWhileItsDataDiffersFromTheOrigin(int version, long seed) throws Exception {
        Run reference = new Run(version, seed, Long.MAX_VALUE);
        reference.workload();
        assertThat(reference.d.writebacks()).as("the workload writes blocks back").isPositive();
        reference.d.abandon();
        long writes = reference.rail.writes();
        int restartsWithCleanBlocks = 0;
        for (long cut = 1; cut <= writes; cut++) {
            Run r = new Run(version, seed, cut);
            r.workload();
            r.rail.cutPower();
            if (r.d != null) {
                r.d.abandon(); // null: the power went while it opened
            }
            if (r.restart(new Random(seed * 1_000_003 + cut))) {
                restartsWithCleanBlocks++;
            }
        }
        assertThat(restartsWithCleanBlocks).as("restarts (of %s cut points) that found clean blocks", writes)
                .isPositive();
    }

    /**
     * A write-back that completes while a commit flushes the origin (after the flush, before the commit records
     * anything) must not be recorded clean by that commit: its origin write is not durable yet. The write-back runs
     * inside the origin's flush, right after it; then the power goes, and the origin loses what it had not flushed.
     */
    @org.junit.jupiter.api.Test
    void aWriteBackThatCompletesDuringACommitsFlushIsNotRecordedCleanByIt() throws Exception {
        CrashingDevice md = new CrashingDevice(8 << 20);
        CrashingDevice cache = new CrashingDevice((long) CACHE_BLOCKS * BLOCK);
        CrashingDevice origin = new CrashingDevice(ORIGIN);
        Runnable[] afterFlush = {null};
        BlockDevice hookedOrigin = new BlockDevice() {
            @Override
            public long size() {
                return origin.size();
            }

            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                origin.read(offset, dst);
            }

            @Override
            public void write(long offset, ByteBuffer src) throws IOException {
                origin.write(offset, src);
            }

            @Override
            public void flush() throws IOException {
                origin.flush();
                Runnable r = afterFlush[0];
                afterFlush[0] = null;
                if (r != null) {
                    r.run();
                }
            }

            @Override
            public boolean isReadOnly() {
                return false;
            }

            @Override
            public String name() {
                return "origin";
            }

            @Override
            public void close() {
            }
        };
        EngineOptions opts = new EngineOptions(1, 0, 1_000_000_000L, () -> 0, false);
        CacheConfig cfg = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 2 writeback metadata2 smq 0");
        CacheDevice d = CacheDevice.open(cfg, md, cache, hookedOrigin, opts);
        byte[] data = IntegrityTest.bytes(new SplittableRandom(9), BLOCK);
        d.write(3L * BLOCK, ByteBuffer.wrap(data)); // promoted at once, dirty
        d.flush();
        assertThat(d.dirtyBlocks()).isEqualTo(1);
        afterFlush[0] = () -> {
            try {
                d.runBackgroundWork(1); // idle: the block is written back, its origin write not flushed
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        d.flush();
        assertThat(d.writebacks()).as("the write-back ran inside the commit's flush").isEqualTo(1);
        assertThat(d.dirtyBlocks()).isZero();
        md.cutPower();
        cache.cutPower();
        origin.cutPower();
        d.abandon();
        Random keep = new Random(1);
        MemoryBlockDevice md2 = md.survivor(CrashingDevice.Loss.KEEP_ALL, keep);
        MemoryBlockDevice cache2 = cache.survivor(CrashingDevice.Loss.KEEP_ALL, keep);
        MemoryBlockDevice origin2 = origin.survivor(CrashingDevice.Loss.DROP_ALL, keep);
        try (CacheDevice again = CacheDevice.open(cfg, md2, cache2, origin2, EngineOptions.manual(() -> 0))) {
            assertCleanBlocksMatchOrigin(again, cache2, origin2, BLOCK, "after the cut");
            ByteBuffer b = ByteBuffer.allocate(BLOCK);
            again.read(3L * BLOCK, b);
            assertThat(b.array()).isEqualTo(data);
        }
    }

    /** A block loaded clean holds exactly its origin block's data (both as the devices are now). */
    static void assertCleanBlocksMatchOrigin(CacheDevice d, BlockDevice cache, BlockDevice origin, int blockBytes,
                                             String where) throws IOException {
        List<long[]> clean = new ArrayList<>();
        d.policy().forEachMapping((c, o, dirty, hint) -> {
            if (!dirty) {
                clean.add(new long[] {c, o});
            }
        });
        for (long[] m : clean) {
            ByteBuffer a = ByteBuffer.allocate(blockBytes);
            ByteBuffer b = ByteBuffer.allocate(blockBytes);
            cache.read(m[0] * blockBytes, a);
            origin.read(m[1] * blockBytes, b);
            if (!Arrays.equals(a.array(), b.array())) {
                throw new AssertionError(where + ": cache block " + m[0] + " (origin block " + m[1]
                        + ") was loaded clean but its data differs from the origin's");
            }
        }
    }

    /** One run of the workload on devices whose power goes after {@code cutAfter} writes. */
    private static final class Run {
        final long seed;
        final int version;
        final CrashingDevice md = new CrashingDevice(8 << 20);
        final CrashingDevice cache = new CrashingDevice((long) CACHE_BLOCKS * BLOCK);
        final CrashingDevice origin = new CrashingDevice(ORIGIN);
        final PowerRail rail = new PowerRail();
        final BlockDevice mdp = rail.plug(md, "md");
        final BlockDevice cp = rail.plug(cache, "cache");
        final BlockDevice op = rail.plug(origin, "origin");
        final long[] now = {0};
        final EngineOptions opts = new EngineOptions(1, 0, 1_000_000_000L, () -> now[0], false);
        final byte[] current = new byte[ORIGIN];
        final byte[] durable = new byte[ORIGIN];
        final BitSet touched = new BitSet(ORIGIN);
        CacheDevice d;
        int flushes;

        Run(int version, long seed, long cutAfter) {
            this.version = version;
            this.seed = seed;
            rail.armAfter(cutAfter);
        }

        CacheDevice open(BlockDevice m, BlockDevice c, BlockDevice o, String policy, EngineOptions eo)
                throws IOException {
            CacheConfig cfg = CacheConfig.parse("md cache origin " + BLOCK / 512 + " " + (version == 2 ? 2 : 1)
                    + " writeback" + (version == 2 ? " metadata2 " : " ") + policy + " 0");
            return CacheDevice.open(cfg, m, c, o, eo);
        }

        void workload() throws IOException {
            SplittableRandom r = new SplittableRandom(seed);
            try {
                d = open(mdp, cp, op, "smq", opts);
                for (int i = 0; i < 160 && !rail.isDead(); i++) {
                    now[0] += 20_000_000L;
                    int kind = r.nextInt(100);
                    if (kind < 25) { // a whole block: promoted at once, dirty
                        long off = (long) r.nextInt(ORIGIN / BLOCK / 2) * BLOCK;
                        write(off, BLOCK, r);
                    } else if (kind < 50) { // a piece of a block, mostly a hit
                        long off = r.nextLong(ORIGIN / 2 - 600);
                        write(off, 1 + r.nextInt(600), r);
                    } else if (kind < 65) {
                        ByteBuffer b = ByteBuffer.allocate(4096);
                        long off = r.nextLong(ORIGIN - 4096);
                        d.read(off, b);
                    } else if (kind < 75) {
                        d.flush();
                        flushes++;
                        for (int p = touched.nextSetBit(0); p >= 0; p = touched.nextSetBit(p + 1)) {
                            durable[p] = current[p];
                        }
                        touched.clear();
                    } else {
                        d.tick();
                        d.runBackgroundWork(1 + r.nextInt(4));
                    }
                }
            } catch (IOException e) {
                assertThat(rail.isDead()).as("only power loss may fail I/O: %s", e).isTrue();
            }
        }

        private void write(long off, int len, SplittableRandom r) throws IOException {
            byte[] data = IntegrityTest.bytes(r, len);
            touched.set((int) off, (int) off + len);
            System.arraycopy(data, 0, current, (int) off, len);
            d.write(off, ByteBuffer.wrap(data));
        }

        /** Opens the survivors; true when some mapped block was loaded clean. */
        boolean restart(Random loss) throws IOException {
            MemoryBlockDevice md2 = md.survivor(CrashingDevice.Loss.RANDOM, loss);
            MemoryBlockDevice cache2 = cache.survivor(CrashingDevice.Loss.RANDOM, loss);
            MemoryBlockDevice origin2 = origin.survivor(CrashingDevice.Loss.RANDOM, loss);
            String where = "format " + version + " seed " + seed + " cut after " + rail.writes() + " writes, "
                    + flushes + " flushes";
            if (allZero(md2)) {
                return false; // the cut came before the metadata was formatted
            }
            boolean someClean;
            try (CacheDevice again = open(md2, cache2, origin2, "smq", EngineOptions.manual(() -> 0))) {
                assertCleanBlocksMatchOrigin(again, cache2, origin2, BLOCK, where);
                someClean = again.dirtyBlocks() < again.residency();
                check(again, where + " (through the cache)");
            }
            try (CacheDevice cleaner = open(md2, cache2, origin2, "cleaner", EngineOptions.manual(() -> 0))) {
                for (int i = 0; i < 1000 && cleaner.dirtyBlocks() > 0; i++) {
                    cleaner.runBackgroundWork(16);
                }
                assertThat(cleaner.dirtyBlocks()).as(where).isZero();
            }
            check(origin2, where + " (the origin after cleaning)");
            return someClean;
        }

        private static boolean allZero(MemoryBlockDevice dev) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(4096);
            dev.read(0, b);
            for (byte x : b.array()) {
                if (x != 0) {
                    return false;
                }
            }
            return true;
        }

        private void check(BlockDevice dev, String where) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(ORIGIN);
            dev.read(0, b);
            byte[] got = b.array();
            for (int p = touched.nextClearBit(0); p < ORIGIN; p = touched.nextClearBit(p + 1)) {
                if (got[p] != durable[p]) {
                    throw new AssertionError(where + ": byte " + p + " (block " + p / BLOCK + ") reads " + got[p]
                            + ", flushed " + durable[p]);
                }
            }
        }
    }
}
