package io.jdmcache.pdata.sm;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.NoSpaceException;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.TestStore;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpaceMapTest {

    @Test
    void formatLaysOutLikeTheKernel() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(8 << 20);
        try (TestStore s = TestStore.format(dev, 64)) {
            SpaceMapRoot r = s.sm.committedRoot();
            assertThat(r.nrBlocks()).isEqualTo(2048);
            // superblock, overflow root, one bitmap and the index (relocated at commit) are in use
            assertThat(r.nrAllocated()).isEqualTo(4);
            assertThat(s.sm.count(0)).isEqualTo(1);
            assertThat(s.sm.count(r.refCountRoot())).isEqualTo(1);
            assertThat(s.sm.nrFree()).isEqualTo(2048 - 4);
        }
    }

    @Test
    void allocationNeverReusesABlockOfTheCommittedTransaction() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(1 << 20);
        try (TestStore s = TestStore.format(dev, 64)) {
            Set<Long> committed = new HashSet<>();
            for (int i = 0; i < 40; i++) {
                try (var w = s.tm.newBlock(TestStore.SB)) {
                    committed.add(w.location());
                }
            }
            s.commit();
            for (long b : committed) {
                s.tm.dec(b);
            }
            // freed now, but still referenced by the committed superblock: not handed out before a commit
            for (int i = 0; i < 100; i++) {
                long b = s.sm.allocate();
                assertThat(committed).doesNotContain(b);
                assertThat(s.sm.usedInCommitted(b)).isFalse();
            }
            s.commit();
            assertThat(s.sm.nrFree()).isEqualTo(s.sm.nrBlocks() - s.sm.nrAllocated());
        }
    }

    @Test
    void countsOfThreeOrMoreGoToTheOverflowTreeAndSurviveReopen() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(8 << 20);
        int[] expected;
        try (TestStore s = TestStore.format(dev, 64)) {
            for (int b = 100; b < 1100; b++) {
                s.sm.inc(b);
                for (int k = 0; k < b % 7; k++) {
                    s.sm.inc(b);
                }
            }
            s.commit();
            expected = s.sm.countsSnapshot();
            // 1000 entries need a multi-node overflow tree (336 per leaf)
            assertThat(s.sm.count(104)).isEqualTo(7);
        }
        try (TestStore s = TestStore.open(dev, 64)) {
            assertThat(s.sm.countsSnapshot()).isEqualTo(expected);
            for (int b = 100; b < 1100; b++) {
                while (s.sm.count(b) > 0) {
                    s.sm.dec(b);
                }
            }
            s.commit();
        }
        try (TestStore s = TestStore.open(dev, 64)) {
            assertThat(s.sm.count(104)).isZero();
            assertThat(s.sm.nrAllocated()).isEqualTo(4);
        }
    }

    @Test
    void fullDeviceReportsNoSpace() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(64 * 4096);
        try (TestStore s = TestStore.format(dev, 32)) {
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) {
                    s.tm.newBlock(TestStore.SB).close();
                }
            }).isInstanceOf(NoSpaceException.class).hasMessageContaining("all 64 metadata blocks are in use");
        }
    }

    @Test
    void bitmapEncodingMatchesTheSpecExample() {
        byte[] b = new byte[BlockManager.BLOCK_SIZE];
        int[] counts = new int[16320];
        for (int i = 0; i < 10; i++) {
            counts[i] = 1;
        }
        BitmapBlock.encode(b, counts, 0, 16320);
        // format-spec 11.1: blocks 0..9 at count 1 give bytes aa aa 0a 00
        assertThat(new byte[] {b[16], b[17], b[18], b[19]}).containsExactly(0xaa, 0xaa, 0x0a, 0x00);
        counts[4] = 2;
        counts[5] = 3;
        BitmapBlock.encode(b, counts, 0, 16320);
        assertThat(BitmapBlock.get(b, 4)).isEqualTo(2);
        assertThat(BitmapBlock.get(b, 5)).isEqualTo(3);
        int[] back = new int[16320];
        BitmapBlock.decode(b, 16320, back, 0);
        counts[5] = 3;
        assertThat(back).isEqualTo(counts);
    }
}
