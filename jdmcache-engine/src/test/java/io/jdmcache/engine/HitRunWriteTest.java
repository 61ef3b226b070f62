package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Writeback writes over several cached blocks: the pieces that sit next to each other in the cache go to the cache
 * device in one write, every block is counted as a write hit and made dirty, and a run that meets a block that is
 * not cached leaves it (and what follows) to the one-block path, whatever the mix, with the data reading back.
 */
class HitRunWriteTest {
    static final int BLOCK = 32 * 1024;
    static final int ORIGIN_BLOCKS = 64;

    private static CacheDevice open(BlockDevice md, BlockDevice cache, BlockDevice origin, String mode, String policy)
            throws IOException {
        EngineOptions opts = new EngineOptions(1, 0, 1_000_000_000L, () -> 0, false);
        CacheConfig cfg = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 2 " + mode + " metadata2 " + policy
                + " 0");
        return CacheDevice.open(cfg, md, cache, origin, opts);
    }

    @Test
    void aWriteOverCachedBlocksNextToEachOtherIsOneWriteOfTheCacheDevice() throws Exception {
        Writes cache = new Writes(new MemoryBlockDevice(32L * BLOCK));
        CacheDevice d = open(new MemoryBlockDevice(8 << 20), cache, new MemoryBlockDevice((long) ORIGIN_BLOCKS * BLOCK),
                "writeback", "smq");
        SplittableRandom rnd = new SplittableRandom(41);
        // blocks 8..23 promoted by whole-block writes, one after another into an empty cache: cache blocks 0..15
        byte[] first = IntegrityTest.bytes(rnd, 16 * BLOCK);
        d.write(8L * BLOCK, ByteBuffer.wrap(first));
        assertThat(d.residency()).isEqualTo(16);
        d.flush();

        byte[] data = IntegrityTest.bytes(rnd, 16 * BLOCK - 1000);
        long at = 8L * BLOCK + 500;
        int calls = cache.calls;
        long bytes = cache.bytes;
        long hits = d.stats().writeHits();
        d.write(at, ByteBuffer.wrap(data));
        assertThat(cache.calls - calls).as("cache device writes for one 16-block write").isEqualTo(1);
        assertThat(cache.bytes - bytes).isEqualTo(data.length);
        assertThat(d.stats().writeHits() - hits).as("write hits: one per block").isEqualTo(16);
        assertThat(d.dirtyBlocks()).isEqualTo(16);

        ByteBuffer back = ByteBuffer.allocate(data.length);
        d.read(at, back);
        assertThat(back.array()).isEqualTo(data);
        d.close();
    }

    @Test
    void aRunStopsAtTheFirstBlockThatIsNotCachedAndTheRestGoesPieceByPiece() throws Exception {
        for (String mode : new String[] {"writeback", "writethrough"}) {
            Writes cache = new Writes(new MemoryBlockDevice(32L * BLOCK));
            MemoryBlockDevice origin = new MemoryBlockDevice((long) ORIGIN_BLOCKS * BLOCK);
            MemoryBlockDevice md = new MemoryBlockDevice(8 << 20);
            CacheDevice d = open(md, cache, origin, mode, "smq");
            SplittableRandom rnd = new SplittableRandom(42);
            byte[] model = new byte[ORIGIN_BLOCKS * BLOCK];
            // cached: 0..3 and 5..7 (block 4 is not), written whole, then the write-backs run
            for (int b : new int[] {0, 1, 2, 3, 5, 6, 7}) {
                byte[] blk = IntegrityTest.bytes(rnd, BLOCK);
                d.write((long) b * BLOCK, ByteBuffer.wrap(blk));
                System.arraycopy(blk, 0, model, b * BLOCK, BLOCK);
            }
            d.flush();
            while (d.dirtyBlocks() > 0) {
                d.runBackgroundWork(8);
            }
            int cached = d.residency();
            // unaligned writes across the hole at block 4, and across the end of the cached blocks
            for (long[] w : new long[][] {{BLOCK / 3, 6L * BLOCK}, {3L * BLOCK + 17, 5L * BLOCK}, {6L * BLOCK, 4L * BLOCK}}) {
                byte[] data = IntegrityTest.bytes(rnd, (int) w[1]);
                d.write(w[0], ByteBuffer.wrap(data));
                System.arraycopy(data, 0, model, (int) w[0], data.length);
                byte[] back = IntegrityTest.read(d, 0, 12 * BLOCK);
                for (int i = 0; i < back.length; i++) {
                    assertThat(back[i]).as("%s: byte %d after writing %d bytes at %d", mode, i, w[1], w[0])
                            .isEqualTo(model[i]);
                }
            }
            assertThat(d.residency()).as("%s: the write misses", mode).isGreaterThanOrEqualTo(cached);
            d.close();
            // the origin holds the model once everything is written back (writethrough: at once)
            try (CacheDevice cleaner = open(md, cache, origin, "writeback", "cleaner")) {
                while (cleaner.dirtyBlocks() > 0) {
                    assertThat(cleaner.runBackgroundWork(16)).as("%s: write-backs run", mode).isPositive();
                }
            }
            byte[] o = IntegrityTest.read(origin, 0, 12 * BLOCK);
            for (int i = 0; i < o.length; i++) {
                assertThat(o[i]).as("%s: origin byte %d", mode, i).isEqualTo(model[i]);
            }
        }
    }

    /** A device that counts its write calls and the bytes they write. */
    static final class Writes implements BlockDevice {
        final BlockDevice d;
        int calls;
        long bytes;

        Writes(BlockDevice d) {
            this.d = d;
        }

        @Override
        public long size() throws IOException {
            return d.size();
        }

        @Override
        public void read(long offset, ByteBuffer dst) throws IOException {
            d.read(offset, dst);
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            calls++;
            bytes += src.remaining();
            d.write(offset, src);
        }

        @Override
        public void flush() throws IOException {
            d.flush();
        }

        @Override
        public boolean isReadOnly() {
            return false;
        }

        @Override
        public String name() {
            return d.name();
        }

        @Override
        public void close() throws IOException {
            d.close();
        }
    }
}
