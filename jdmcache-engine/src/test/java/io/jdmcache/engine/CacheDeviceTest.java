package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jdmcache.engine.control.StartState;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.CrashingDevice;
import io.jdmcache.pdata.testing.FaultyDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

class CacheDeviceTest {
    static final int BLOCK = 64 * 1024;

    /** Three in-memory devices that survive close (memory devices ignore it). */
    static final class Rig {
        final MemoryBlockDevice md = new MemoryBlockDevice("md", 4 << 20);
        final MemoryBlockDevice cache;
        final MemoryBlockDevice origin;

        Rig(int cacheBytes, int originBytes) {
            cache = new MemoryBlockDevice("cache", cacheBytes);
            origin = new MemoryBlockDevice("origin", originBytes);
        }

        CacheDevice open(CacheMode mode) throws IOException {
            return open(mode, "smq");
        }

        CacheDevice open(CacheMode mode, String policy) throws IOException {
            CacheConfig c = CacheConfig.parse("md cache origin 128 1 " + mode.word() + " " + policy + " 0");
            return CacheDevice.open(c, md, cache, origin, EngineOptions.DEFAULTS.withIdleNanos(Long.MAX_VALUE / 4));
        }
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] read(CacheDevice d, long off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(len);
        d.read(off, b);
        return b.array();
    }

    @Test
    void geometryFromTheDevices() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            assertThat(d.cacheBlocks()).isEqualTo(16);
            assertThat(d.originBlocks()).isEqualTo(64);
            assertThat(d.size()).isEqualTo(4 << 20);
            assertThat(d.residency()).isZero();
        }
    }

    @Test
    void threadMissesCountTheCallingThreadsMissesOnly() throws Exception {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            long m0 = d.threadMisses();
            d.write(0, ByteBuffer.wrap(random(BLOCK, 1))); // a whole block: promoted by the write, still a miss
            assertThat(d.threadMisses()).isEqualTo(m0 + 1);
            read(d, 0, 4096);
            read(d, BLOCK - 512, 512);
            assertThat(d.threadMisses()).as("reads of the cached block hit").isEqualTo(m0 + 1);
            d.write(100, ByteBuffer.wrap(random(300, 2)));
            assertThat(d.threadMisses()).as("a partial write to the cached block hits").isEqualTo(m0 + 1);
            read(d, BLOCK - 512, 1024); // half in the cached block, half in one never written
            assertThat(d.threadMisses()).isEqualTo(m0 + 2);
            long[] other = new long[2];
            Thread t = new Thread(() -> {
                try {
                    other[0] = d.threadMisses();
                    read(d, 10L * BLOCK, 4096);
                    other[1] = d.threadMisses();
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            t.start();
            t.join();
            assertThat(other).containsExactly(0, 1);
            assertThat(d.threadMisses()).as("another thread's miss is not this one's").isEqualTo(m0 + 2);
            assertThat(d.stats().readMisses() + d.stats().writeMisses()).isEqualTo(3);
        }
    }

    @Test
    void wholeBlockWritesArePromotedDirtyAndSurviveACleanRestart() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        byte[] data = random(4 * BLOCK, 1);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(BLOCK, ByteBuffer.wrap(data));
            assertThat(d.residency()).isEqualTo(4);
            assertThat(d.dirtyBlocks()).isEqualTo(4);
            assertThat(read(d, BLOCK, data.length)).isEqualTo(data);
            // the origin does not have the data yet
            ByteBuffer o = ByteBuffer.allocate(BLOCK);
            r.origin.read(BLOCK, o);
            assertThat(o.array()).isNotEqualTo(Arrays.copyOf(data, BLOCK));
        }
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            assertThat(d.residency()).isEqualTo(4);
            assertThat(d.dirtyBlocks()).isEqualTo(4);
            assertThat(read(d, BLOCK, data.length)).isEqualTo(data);
        }
    }

    @Test
    void afterACrashOnlyTheBlocksThatWereDirtyAreDirtyInWritebackAndEveryMappedBlockInWritethrough()
            throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        byte[] data = random(2 * BLOCK, 2);
        CacheDevice d = r.open(CacheMode.WRITETHROUGH);
        d.close();
        d = r.open(CacheMode.WRITEBACK);
        d.write(0, ByteBuffer.wrap(data));
        d.flush();
        // drain: the cleaner writes everything back, still mapped
        d.close();
        d = r.open(CacheMode.WRITEBACK, "cleaner");
        waitClean(d);
        assertThat(d.residency()).isEqualTo(2);
        d.close();
        d = r.open(CacheMode.WRITEBACK);
        assertThat(d.exactDirty()).isTrue();
        assertThat(d.dirtyBlocks()).isZero();
        byte[] more = random(100, 3);
        d.write(BLOCK + 10, ByteBuffer.wrap(more)); // a write hit: block 1 dirty again, committed before the write
        System.arraycopy(more, 0, data, BLOCK + 10, more.length);
        d.abandon();
        // writeback commits exact dirty bits: after the crash block 1 alone is dirty
        d = r.open(CacheMode.WRITEBACK);
        assertThat(d.residency()).isEqualTo(2);
        assertThat(d.dirtyBlocks()).isEqualTo(1);
        assertThat(d.startState()).isEqualTo(new StartState(false, true, 2, 1));
        assertThat(d.startState().describe()).contains("not clean").contains("exact").contains("1 of 2 cached blocks");
        assertThat(read(d, 0, data.length)).isEqualTo(data);
        d.close();
        // writethrough keeps the kernel's rule: after a crash every mapped block is dirty
        d = r.open(CacheMode.WRITETHROUGH);
        assertThat(d.startState().cleanShutdown()).as("closed cleanly before").isTrue();
        assertThat(d.startState().describe()).isNull();
        assertThat(d.exactDirty()).isFalse();
        d.flush();
        d.abandon();
        d = r.open(CacheMode.WRITEBACK);
        assertThat(d.dirtyBlocks()).isEqualTo(2);
        assertThat(d.startState()).isEqualTo(new StartState(false, false, 2, 2));
        assertThat(d.startState().describe()).contains("all 2 cached blocks are taken as dirty");
        assertThat(read(d, 0, data.length)).isEqualTo(data);
        d.close();
    }

    static void waitClean(CacheDevice d) {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (d.dirtyBlocks() > 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(d.dirtyBlocks()).isZero();
    }

    @Test
    void cleanerWritesBackEverythingAndDataReachesTheOrigin() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        byte[] data = random(8 * BLOCK, 3);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(data));
            assertThat(d.dirtyBlocks()).isEqualTo(8);
        }
        try (CacheDevice d = r.open(CacheMode.WRITEBACK, "cleaner")) {
            waitClean(d);
            assertThat(d.writebacks()).isEqualTo(8);
        }
        ByteBuffer o = ByteBuffer.allocate(data.length);
        r.origin.read(0, o);
        assertThat(o.array()).isEqualTo(data);
    }

    @Test
    void subAndCrossBlockIo() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        byte[] model = new byte[4 << 20];
        Random rnd = new Random(4);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 400; i++) {
                int off = rnd.nextInt(model.length - 1);
                int len = 1 + rnd.nextInt(Math.min(3 * BLOCK, model.length - off));
                if (rnd.nextInt(4) == 0) {
                    off = rnd.nextInt(64) * BLOCK;
                    len = BLOCK * (1 + rnd.nextInt(2));
                    len = Math.min(len, model.length - off);
                }
                byte[] b = random(len, i);
                d.write(off, ByteBuffer.wrap(b));
                System.arraycopy(b, 0, model, off, len);
                int roff = rnd.nextInt(model.length - 1);
                int rlen = 1 + rnd.nextInt(Math.min(3 * BLOCK, model.length - roff));
                assertThat(read(d, roff, rlen)).isEqualTo(Arrays.copyOfRange(model, roff, roff + rlen));
            }
            assertThat(d.residency()).isPositive();
            assertThat(read(d, 0, model.length)).isEqualTo(model);
        }
    }

    @Test
    void passthroughIsRefusedWithDirtyBlocksAndInvalidatesOnWriteHits() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        byte[] data = random(2 * BLOCK, 5);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(data));
        }
        assertThatThrownBy(() -> r.open(CacheMode.PASSTHROUGH))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unable to enter passthrough mode")
                .hasMessageContaining("2 dirty blocks");
        try (CacheDevice d = r.open(CacheMode.WRITEBACK, "cleaner")) {
            waitClean(d);
        }
        try (CacheDevice d = r.open(CacheMode.PASSTHROUGH)) {
            assertThat(d.residency()).isEqualTo(2);
            assertThat(read(d, 0, data.length)).isEqualTo(data);
            byte[] w = random(100, 6);
            d.write(10, ByteBuffer.wrap(w));
            assertThat(d.residency()).isEqualTo(1);
            System.arraycopy(w, 0, data, 10, 100);
            assertThat(read(d, 0, data.length)).isEqualTo(data);
            assertThatThrownBy(() -> d.message("invalidate_cblocks", "x")).hasMessageContaining("invalid cblock range 'x'");
            assertThatThrownBy(() -> d.message("invalidate_cblocks", "16")).hasMessageContaining("out of range");
            d.message("invalidate_cblocks", "0-16");
            assertThat(d.residency()).isZero();
            assertThat(read(d, 0, data.length)).isEqualTo(data);
        }
        try (CacheDevice d = r.open(CacheMode.WRITETHROUGH)) {
            assertThat(d.residency()).isZero();
            assertThatThrownBy(() -> d.message("invalidate_cblocks", "0"))
                    .hasMessageContaining("passthrough mode");
        }
    }

    /** A refused open (here: passthrough over a dirty block) leaves the metadata as it found it. */
    @Test
    void aRefusedOpenKeepsTheCleanShutdownFlagSoCleanBlocksStayClean() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 4; i++) {
                d.write((long) i * BLOCK, ByteBuffer.wrap(random(BLOCK, i)));
            }
        }
        drain(r);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(9L * BLOCK, ByteBuffer.wrap(random(BLOCK, 9)));
            assertThat(d.residency()).isEqualTo(5);
            assertThat(d.dirtyBlocks()).isEqualTo(1);
        }
        assertThatThrownBy(() -> r.open(CacheMode.PASSTHROUGH)).hasMessageContaining("1 dirty blocks");
        ByteBuffer sb = ByteBuffer.allocate(4096);
        r.md.read(0, sb);
        assertThat(sb.get(4) & 1).as("the clean-shutdown flag after the refused open").isEqualTo(1);
        try (CacheDevice d = CacheDevice.open(CacheConfig.parse("md cache origin 128 0 smq 0"), r.md, r.cache,
                r.origin, EngineOptions.manual(() -> 0L))) {
            assertThat(d.residency()).isEqualTo(5);
            assertThat(d.dirtyBlocks()).as("only the one dirty block (not all five, as after a crash)").isEqualTo(1);
        }
    }

    @Test
    void statusLineInTheKernelsFieldOrder() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(random(BLOCK, 7)));
            read(d, 0, 10);
            read(d, 20 * BLOCK, 10);
            String[] f = d.status().split(" ");
            assertThat(f[0]).isEqualTo("8");
            assertThat(f[1]).matches("\\d+/1024");
            assertThat(f[2]).isEqualTo("128");
            assertThat(f[3]).isEqualTo("1/16");
            assertThat(f[4]).isEqualTo("1"); // read hits
            assertThat(f[5]).isEqualTo("1"); // read misses
            assertThat(f[6]).isEqualTo("0"); // write hits
            assertThat(f[7]).isEqualTo("1"); // write misses
            assertThat(f[8]).isEqualTo("0"); // demotions
            assertThat(f[9]).isEqualTo("1"); // promotions
            assertThat(f[10]).isEqualTo("1"); // dirty
            assertThat(String.join(" ", Arrays.copyOfRange(f, 11, f.length)))
                    .isEqualTo("1 writeback 2 migration_threshold 2048 smq 0 rw -");
            d.message("migration_threshold", "4096");
            assertThat(d.status()).contains(" 2 migration_threshold 4096 smq 0 rw -");
            assertThatThrownBy(() -> d.message("migration_threshold", "lots"))
                    .hasMessageContaining("Invalid migration_threshold 'lots'");
            assertThatThrownBy(() -> d.message("no_such_tunable", "1")).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("no_such_tunable");
        }
        // counters persist across a clean restart
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            assertThat(d.stats().readHits()).isEqualTo(1);
            assertThat(d.stats().writeMisses()).isEqualTo(1);
        }
    }

    @Test
    void shrinkingTheCacheOverDirtyBlocksIsRefusedAndGrowingIsPickedUp() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 16; i++) {
                d.write((long) i * BLOCK, ByteBuffer.wrap(random(BLOCK, i)));
            }
            assertThat(d.dirtyBlocks()).isEqualTo(16);
        }
        MemoryBlockDevice small = new MemoryBlockDevice("cache", 512 << 10);
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 smq 0");
        assertThatThrownBy(() -> CacheDevice.open(c, r.md, small, r.origin, EngineOptions.DEFAULTS))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot shrink the cache to 8 blocks");
        MemoryBlockDevice big = new MemoryBlockDevice("cache", 3 << 19); // 24 blocks: what 4 MiB of metadata holds
        ByteBuffer all = ByteBuffer.allocate(1 << 20);
        r.cache.read(0, all);
        all.flip();
        big.write(0, all);
        try (CacheDevice d = CacheDevice.open(c, r.md, big, r.origin, EngineOptions.DEFAULTS)) {
            assertThat(d.cacheBlocks()).isEqualTo(24);
            assertThat(d.residency()).isEqualTo(16);
            for (int i = 0; i < 16; i++) {
                assertThat(read(d, (long) i * BLOCK, BLOCK)).isEqualTo(random(BLOCK, i));
            }
        }
    }

    @Test
    void aShrunkOriginIsRefusedUnderADirtyBlockBeyondItsEndAndDropsCleanOnes() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(60L * BLOCK, ByteBuffer.wrap(random(BLOCK, 60)));
            d.write(2L * BLOCK, ByteBuffer.wrap(random(BLOCK, 2)));
            assertThat(d.dirtyBlocks()).isEqualTo(2);
        }
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 smq 0");
        // the origin loses its last 32 blocks, among them the dirty cached block 60
        MemoryBlockDevice shorter = new MemoryBlockDevice("origin", 2 << 20);
        ByteBuffer head = ByteBuffer.allocate(2 << 20);
        r.origin.read(0, head);
        shorter.write(0, head.flip());
        assertThatThrownBy(() -> CacheDevice.open(c, r.md, r.cache, shorter, EngineOptions.DEFAULTS))
                .isInstanceOf(ConfigException.class).hasMessageContaining("the origin shrank to 32 blocks")
                .hasMessageContaining("dirty origin block 60");
        // once block 60 is written back (the cleaner, on the full origin) the shrink goes through
        // (the device's own workers do the write-backs; the test waits for them rather than racing them)
        try (CacheDevice d = r.open(CacheMode.WRITEBACK, "cleaner")) {
            waitClean(d);
        }
        try (CacheDevice d = CacheDevice.open(c, r.md, r.cache, shorter, EngineOptions.DEFAULTS)) {
            assertThat(d.originBlocks()).isEqualTo(32);
            assertThat(read(d, 2L * BLOCK, BLOCK)).isEqualTo(random(BLOCK, 2));
        }
    }

    @Test
    void theCleanerDrainsWhileForegroundIoContinues() throws Exception {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 16; i++) {
                d.write((long) i * BLOCK, ByteBuffer.wrap(random(BLOCK, i)));
            }
            assertThat(d.dirtyBlocks()).isEqualTo(16);
        }
        // never idle: the foreground keeps writing (to blocks that are not cached) the whole time
        try (CacheDevice d = r.open(CacheMode.WRITEBACK, "cleaner")) {
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong ops = new AtomicLong();
            Thread writer = new Thread(() -> {
                byte[] b = random(4096, 99);
                try {
                    while (!stop.get()) {
                        d.write(32L * BLOCK + (ops.get() % 32) * BLOCK, ByteBuffer.wrap(b));
                        ops.incrementAndGet();
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.start();
            waitClean(d);
            long during = ops.get();
            Thread.sleep(20);
            assertThat(ops.get()).as("the foreground was still writing when the cache became clean")
                    .isGreaterThan(during);
            stop.set(true);
            writer.join();
            assertThat(d.writebacks()).isEqualTo(16);
            assertThat(d.promotions()).isZero();
        }
    }

    @Test
    void aMetadataFailureMakesTheCacheReadOnlyThenFail() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        FaultyDevice faulty = new FaultyDevice(r.md);
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 smq 0");
        CacheDevice d = CacheDevice.open(c, faulty, r.cache, r.origin, EngineOptions.DEFAULTS);
        byte[] data = random(2 * BLOCK, 8);
        d.write(0, ByteBuffer.wrap(data));
        faulty.failAt(FaultyDevice.Kind.WRITE, 1, false);
        assertThatThrownBy(d::flush).isInstanceOf(IOException.class);
        assertThat(d.status()).endsWith(" ro needs_check");
        assertThatThrownBy(() -> d.message("migration_threshold", "100"))
                .hasMessageContaining("unable to service cache target messages in ro mode");
        // reads still work: the data written is still served from the cache
        assertThat(read(d, 0, data.length)).isEqualTo(data);
        faulty.failAt(FaultyDevice.Kind.ANY, 1, true);
        assertThatThrownBy(d::flush).isInstanceOf(IOException.class);
        d.abandon();
        faulty.heal();
        // needs_check stays on disk: the next read-write open is refused
        assertThatThrownBy(() -> CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS))
                .hasMessageContaining("needs");
    }

    @Test
    void writeBacksOfAdjacentBlocksAreMergedIntoOneOriginWrite() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        byte[] data = random(16 * BLOCK, 10);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(data));
            assertThat(d.dirtyBlocks()).isEqualTo(16);
        }
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 cleaner 2 migration_threshold 2048");
        try (CacheDevice d = CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS.withWorkers(1))) {
            waitClean(d);
            assertThat(d.writebacks()).isEqualTo(16);
            // 2048 sectors of budget = 16 blocks of 128 sectors in flight at most
            assertThat(d.writebackWrites()).isLessThan(16);
            assertThat(d.maxInFlightSectors()).isBetween(256L, 2048L);
        }
        ByteBuffer o = ByteBuffer.allocate(data.length);
        r.origin.read(0, o);
        assertThat(o.array()).isEqualTo(data);
    }

    @Test
    void migrationsInFlightStayWithinTheThreshold() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 16; i++) {
                d.write((long) i * 2 * BLOCK, ByteBuffer.wrap(random(BLOCK, i)));
            }
        }
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 cleaner 2 migration_threshold 384");
        try (CacheDevice d = CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS.withWorkers(4))) {
            waitClean(d);
            assertThat(d.writebacks()).isEqualTo(16);
            assertThat(d.maxInFlightSectors()).isPositive().isLessThanOrEqualTo(384);
        }
    }

    @Test
    void migrationThresholdZeroStopsMigrationsAndBelowOneBlockStillMakesProgress() throws Exception {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 4; i++) {
                d.write((long) i * BLOCK, ByteBuffer.wrap(random(BLOCK, i)));
            }
        }
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 cleaner 2 migration_threshold 0");
        try (CacheDevice d = CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS)) {
            Thread.sleep(100);
            assertThat(d.dirtyBlocks()).isEqualTo(4);
            assertThat(d.status()).contains(" 2 migration_threshold 0 cleaner ");
            // a threshold below one block (128 sectors): one migration at a time, not a stall
            d.message("migration_threshold", "8");
            waitClean(d);
            assertThat(d.writebacks()).isEqualTo(4);
            assertThat(d.writebackWrites()).isEqualTo(4);
        }
    }

    @Test
    void discardsAreKeptAcrossACleanRestartForgottenAfterACrashAndNotPromoted() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.discard(10L * BLOCK + 1, 10L * BLOCK); // blocks 11..19 wholly, 10 and 20 partly
            assertThat(d.isDiscarded(10)).isFalse();
            assertThat(d.isDiscarded(11)).isTrue();
            assertThat(d.isDiscarded(19)).isTrue();
            assertThat(d.isDiscarded(20)).isFalse();
            d.write(12L * BLOCK + 5, ByteBuffer.wrap(new byte[] {1}));
            assertThat(d.isDiscarded(12)).isFalse();
        }
        AtomicLong now = new AtomicLong();
        CacheDevice d = CacheDevice.open(CacheConfig.parse("md cache origin 128 0 smq 0"), r.md, r.cache, r.origin,
                EngineOptions.manual(now::get));
        assertThat(d.isDiscarded(11)).isTrue();
        assertThat(d.isDiscarded(12)).isFalse();
        // reads of discarded blocks do not heat them, while the same reads of others promote them
        long[] discarded = {11, 13, 14, 15, 16, 17, 18, 19};
        for (int i = 0; i < 3000; i++) {
            now.addAndGet(10_000_000L);
            read(d, discarded[i % 8] * BLOCK, 512);
            read(d, (30L + i % 8) * BLOCK, 512);
            d.runBackgroundWork(100);
            if (i % 100 == 99) {
                d.tick();
            }
        }
        for (long b : discarded) {
            assertThat(d.policy().lookupMapping(b)).isEqualTo(-1);
        }
        assertThat(java.util.stream.LongStream.range(30, 38).filter(b -> d.policy().lookupMapping(b) >= 0).count())
                .isPositive();

        d.flush();
        d.abandon();
        try (CacheDevice again = r.open(CacheMode.WRITEBACK)) {
            assertThat(again.isDiscarded(11)).as("discard bits are hints, dropped after a crash").isFalse();
        }
    }

    @Test
    void originResizeAtOpen() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(60L * BLOCK, ByteBuffer.wrap(random(BLOCK, 60)));
            d.write(10L * BLOCK, ByteBuffer.wrap(random(BLOCK, 10)));
        }
        CacheConfig c = CacheConfig.parse("0 4096 cache md cache origin 128 0 smq 0");
        // 4096 sectors = 32 blocks: block 60 is dirty beyond the end
        assertThatThrownBy(() -> CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS))
                .isInstanceOf(ConfigException.class).hasMessageContaining("dirty origin block 60 beyond its end");
        assertThatThrownBy(() -> CacheDevice.open(CacheConfig.parse("0 9000 cache md cache origin 128 0 smq 0"),
                r.md, r.cache, r.origin, EngineOptions.DEFAULTS))
                .hasMessageContaining("Device size larger than cached device");
        try (CacheDevice d = r.open(CacheMode.WRITEBACK, "cleaner")) {
            waitClean(d);
        }
        try (CacheDevice d = CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS)) {
            assertThat(d.originBlocks()).isEqualTo(32);
            assertThat(d.size()).isEqualTo(32L * BLOCK);
            assertThat(d.residency()).as("the clean mapping beyond the end was dropped").isEqualTo(1);
            assertThat(read(d, 10L * BLOCK, BLOCK)).isEqualTo(random(BLOCK, 10));
        }
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            assertThat(d.originBlocks()).isEqualTo(64);
            assertThat(read(d, 60L * BLOCK, BLOCK)).isEqualTo(random(BLOCK, 60));
        }
    }

    @Test
    void hintsAreSavedAtCloseAndReloaded() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        int[] hints = new int[16];
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 16; i++) {
                d.write((long) i * BLOCK, ByteBuffer.wrap(random(BLOCK, i)));
            }
            for (int i = 0; i < 16; i++) {
                hints[i] = d.policy().getHint(i);
            }
        }
        assertThat(Arrays.stream(hints).anyMatch(h -> h != 0)).isTrue();
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            for (int i = 0; i < 16; i++) {
                assertThat(d.policy().getHint(i)).isEqualTo(hints[i]);
            }
        }
    }

    @Test
    void aFuaWriteIsDurableWhenItReturns() throws IOException {
        CrashingDevice md = new CrashingDevice(4 << 20);
        CrashingDevice cache = new CrashingDevice(1 << 20);
        CrashingDevice origin = new CrashingDevice(4 << 20);
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 smq 0");
        EngineOptions noTimer = EngineOptions.DEFAULTS.withCommitPeriodNanos(3_600_000_000_000L)
                .withIdleNanos(Long.MAX_VALUE / 4);
        byte[] whole = random(BLOCK, 11);
        byte[] part = random(3000, 12);
        CacheDevice d = CacheDevice.open(c, md, cache, origin, noTimer);
        d.write(5L * BLOCK, ByteBuffer.wrap(whole)); // promoted, dirty: lives on the cache device only
        d.writeFua(20L * BLOCK + 100, ByteBuffer.wrap(part));
        byte[] lost = random(BLOCK, 13);
        d.write(6L * BLOCK, ByteBuffer.wrap(lost)); // after the FUA write: may be lost
        md.cutPower();
        cache.cutPower();
        origin.cutPower();
        d.abandon();
        Random rnd = new Random(1);
        MemoryBlockDevice md2 = md.survivor(CrashingDevice.Loss.DROP_ALL, rnd);
        MemoryBlockDevice cache2 = cache.survivor(CrashingDevice.Loss.DROP_ALL, rnd);
        MemoryBlockDevice origin2 = origin.survivor(CrashingDevice.Loss.DROP_ALL, rnd);
        try (CacheDevice again = CacheDevice.open(c, md2, cache2, origin2, EngineOptions.manual(System::nanoTime))) {
            assertThat(read(again, 5L * BLOCK, BLOCK)).isEqualTo(whole);
            assertThat(read(again, 20L * BLOCK + 100, 3000)).isEqualTo(part);
            assertThat(read(again, 6L * BLOCK, BLOCK)).isNotEqualTo(lost);
            assertThat(again.dirtyBlocks()).isEqualTo(again.residency());
        }
    }

    @Test
    void writeZeroesReadsBackAsZeros() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        try (CacheDevice d = r.open(CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(random(4 * BLOCK, 14)));
            d.writeZeroes(BLOCK - 10, 2 * BLOCK + 20);
            byte[] got = read(d, 0, 4 * BLOCK);
            byte[] want = random(4 * BLOCK, 14);
            Arrays.fill(want, BLOCK - 10, 3 * BLOCK + 10, (byte) 0);
            assertThat(got).isEqualTo(want);
        }
    }

    /** Random messages, in writeback and in passthrough mode: each is taken or refused in one line. */
    @Test
    void anyMessageIsTakenOrRefusedInOneLineAndTheCacheGoesOn() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        String[] words = {"migration_threshold", "invalidate_cblocks", "sequential_threshold", "random_threshold",
            "migration_threshold", "invalidate_cblocks", "nosuch", "", "0", "1", "-1", "7", "15", "16", "17",
            "0-16", "3-2", "2-2", "-", "5-", "-3", "1-99999999999999999999", "99999999999999999999", "2048",
            "4096", "x"};
        byte[] data = random(4 * BLOCK, 9);
        int[] outcome = new int[2];
        for (CacheMode mode : new CacheMode[] {CacheMode.WRITEBACK, CacheMode.PASSTHROUGH}) {
            try (CacheDevice d = r.open(mode)) {
                Random rnd = new Random(mode.ordinal());
                for (int i = 0; i < 2000; i++) {
                    String[] argv = new String[rnd.nextInt(5)];
                    for (int k = 0; k < argv.length; k++) {
                        argv[k] = words[rnd.nextInt(words.length)];
                    }
                    try {
                        d.message(argv);
                        outcome[0]++;
                    } catch (ConfigException e) {
                        outcome[1]++;
                        assertThat(e.getMessage()).as("the error for %s", Arrays.toString(argv)).isNotBlank()
                                .doesNotContain("\n");
                    }
                    if (mode == CacheMode.WRITEBACK && i == 1000) {
                        d.write(0, ByteBuffer.wrap(data));
                    }
                }
                assertThat(d.status()).endsWith(" rw -");
                assertThat(read(d, 0, data.length)).isEqualTo(data);
            }
            if (mode == CacheMode.WRITEBACK) { // passthrough needs every block clean
                drain(r);
            }
        }
        assertThat(outcome[0]).as("messages taken").isPositive();
        assertThat(outcome[1]).as("messages refused").isPositive();
    }

    private static void drain(Rig r) throws IOException {
        try (CacheDevice d = r.open(CacheMode.WRITEBACK, "cleaner")) {
            waitClean(d);
        }
    }

    @Test
    void mqAcceptsItsLegacyTunablesInTheTableAndAsMessages() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 mq 4 sequential_threshold 512 migration_threshold 4096");
        try (CacheDevice d = CacheDevice.open(c, r.md, r.cache, r.origin, EngineOptions.DEFAULTS)) {
            assertThat(d.migrationThreshold()).isEqualTo(4096);
            d.message("random_threshold", "8");
            assertThat(d.status()).contains(" 2 migration_threshold 4096 mq ");
        }
        CacheConfig bad = CacheConfig.parse("md cache origin 128 0 smq 2 sequential_threshold 512");
        assertThatThrownBy(() -> CacheDevice.open(bad, r.md, r.cache, r.origin, EngineOptions.DEFAULTS))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("Error setting cache policy's config values");
        CacheConfig unknown = CacheConfig.parse("md cache origin 128 0 lru 0");
        assertThatThrownBy(() -> CacheDevice.open(unknown, r.md, r.cache, r.origin, EngineOptions.DEFAULTS))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("Error creating cache's policy").hasMessageContaining("lru");
    }

    @Test
    void whenTheMetadataCannotEvenAbortTheStatusIsFail() throws IOException {
        Rig r = new Rig(1 << 20, 4 << 20);
        FaultyDevice faulty = new FaultyDevice(r.md);
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 smq 0");
        CacheDevice d = CacheDevice.open(c, faulty, r.cache, r.origin, EngineOptions.DEFAULTS);
        d.write(0, ByteBuffer.wrap(random(BLOCK, 15)));
        faulty.failAt(FaultyDevice.Kind.ANY, 1, true);
        assertThatThrownBy(d::flush).isInstanceOf(IOException.class);
        assertThat(d.status()).isEqualTo("Fail");
        assertThatThrownBy(() -> d.write(0, ByteBuffer.wrap(new byte[1]))).hasMessageContaining("fail mode");
        d.abandon();
    }
}
