package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.ForwardingBlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * Writeback with the exact dirty state: a write over several cached blocks that the committed metadata says are
 * clean waits for one commit for all of them (not one each, in a row), a commit that only marks blocks dirty
 * forces neither data device, and what the write wrote reads back.
 */
class MultiBlockWriteCommitTest {
    static final int BLOCK = 32 * 1024;
    static final int BLOCKS = 6;

    @Test
    void aWriteOverSeveralCleanCachedBlocksWaitsForOneCommit() throws Exception {
        EngineOptions opts = new EngineOptions(1, 0, 1_000_000_000L, () -> 0, false);
        CacheConfig cfg = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 2 writeback metadata2 smq 0");
        Counting cache = new Counting(new MemoryBlockDevice(16L * BLOCK));
        Counting origin = new Counting(new MemoryBlockDevice(64L * BLOCK));
        CacheDevice d = CacheDevice.open(cfg, new MemoryBlockDevice(8 << 20), cache, origin, opts);
        SplittableRandom rnd = new SplittableRandom(14);
        // blocks 2..7 promoted by whole-block writes (dirty), then written back and committed clean
        d.write(2L * BLOCK, ByteBuffer.wrap(IntegrityTest.bytes(rnd, BLOCKS * BLOCK)));
        d.flush();
        while (d.dirtyBlocks() > 0) {
            assertThat(d.runBackgroundWork(BLOCKS)).as("write-backs run").isPositive();
        }
        d.flush();
        assertThat(d.residency()).isEqualTo(BLOCKS);

        // an unaligned write from the middle of block 2 to the middle of block 7: six cached blocks, all clean
        byte[] data = IntegrityTest.bytes(rnd, (BLOCKS - 1) * BLOCK);
        long at = 2L * BLOCK + BLOCK / 2;
        long commits = d.commits();
        int flushes = cache.flushes + origin.flushes;
        d.write(at, ByteBuffer.wrap(data));
        assertThat(d.commits() - commits).as("commits the write waited for").isEqualTo(1);
        assertThat(cache.flushes + origin.flushes).as("data device flushes of that commit").isEqualTo(flushes);
        assertThat(d.dirtyBlocks()).isEqualTo(BLOCKS);

        ByteBuffer back = ByteBuffer.allocate(data.length);
        d.read(at, back);
        assertThat(back.array()).isEqualTo(data);

        // the blocks are committed dirty now: writing them again waits for nothing
        commits = d.commits();
        d.write(at, ByteBuffer.wrap(data));
        assertThat(d.commits()).isEqualTo(commits);

        // a client's flush still forces both data devices
        int cacheFlushes = cache.flushes;
        int originFlushes = origin.flushes;
        d.flush();
        assertThat(cache.flushes).isGreaterThan(cacheFlushes);
        assertThat(origin.flushes).isGreaterThan(originFlushes);
        d.close();
    }

    @Test
    void aSequentialWriterWaitsForOneCommitForTheBlocksAheadOfIt() throws Exception {
        EngineOptions opts = new EngineOptions(1, 0, 1_000_000_000L, () -> 0, false);
        CacheConfig cfg = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 2 writeback metadata2 smq 0");
        CacheDevice d = CacheDevice.open(cfg, new MemoryBlockDevice(8 << 20), new MemoryBlockDevice(16L * BLOCK),
                new MemoryBlockDevice(64L * BLOCK), opts);
        SplittableRandom rnd = new SplittableRandom(15);
        byte[] all = IntegrityTest.bytes(rnd, 8 * BLOCK);
        d.write(2L * BLOCK, ByteBuffer.wrap(all)); // blocks 2..9, dirty
        d.flush();
        while (d.dirtyBlocks() > 0) {
            d.runBackgroundWork(8);
        }
        d.flush(); // all eight committed clean
        d.write(20L * BLOCK, ByteBuffer.allocate(100)); // elsewhere (not cached): the next write is not sequential

        long commits = d.commits();
        d.write(2L * BLOCK, ByteBuffer.wrap(all, 0, BLOCK)); // not sequential: its block alone
        assertThat(d.commits() - commits).isEqualTo(1);
        assertThat(d.dirtyBlocks()).isEqualTo(1);
        d.write(3L * BLOCK, ByteBuffer.wrap(all, BLOCK, BLOCK)); // sequential: blocks 3..9 marked with it
        assertThat(d.commits() - commits).isEqualTo(2);
        assertThat(d.dirtyBlocks()).as("the blocks ahead are marked dirty").isEqualTo(8);
        for (int b = 4; b < 10; b++) {
            d.write((long) b * BLOCK, ByteBuffer.wrap(all, (b - 2) * BLOCK, BLOCK));
        }
        assertThat(d.commits() - commits).as("the rest of the stream waits for nothing").isEqualTo(2);
        ByteBuffer back = ByteBuffer.allocate(all.length);
        d.read(2L * BLOCK, back);
        assertThat(back.array()).isEqualTo(all);
        d.close();
    }

    /** A device that counts its flushes. */
    static final class Counting extends ForwardingBlockDevice {
        int flushes;

        Counting(BlockDevice d) {
            super(d);
        }

        @Override
        public void flush() throws IOException {
            flushes++;
            super.flush();
        }
    }
}
