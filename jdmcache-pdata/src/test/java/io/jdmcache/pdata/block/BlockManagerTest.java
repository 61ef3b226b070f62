package io.jdmcache.pdata.block;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.testing.FaultyDevice;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BlockManagerTest {
    static final SaltedValidator V = new SaltedValidator("test block", 4242, 8);

    @Test
    void writtenBlocksReadBackValidatedAfterEviction() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(1 << 20);
        BlockManager bm = new BlockManager(dev, 16, false);
        for (int b = 0; b < 200; b++) {
            try (WriteBlock w = bm.writeZeroed(b % 256, V)) {
                Bytes.put64(w.data(), 100, b * 1000L);
            }
        }
        bm.flush();
        BlockManager fresh = new BlockManager(dev, 16, true);
        for (int b = 0; b < 200; b++) {
            try (ReadBlock r = fresh.read(b, V)) {
                assertThat(Bytes.i64(r.data(), 100)).isEqualTo(b * 1000L);
                assertThat(Bytes.i64(r.data(), 8)).isEqualTo(b);
            }
        }
        assertThat(fresh.blocksRead()).isEqualTo(200);
    }

    @Test
    void adjacentDirtyBlocksAreWrittenInOneIo() throws Exception {
        MemoryBlockDevice mem = new MemoryBlockDevice(1 << 20);
        FaultyDevice counting = new FaultyDevice(mem);
        BlockManager bm = new BlockManager(counting, 64, false);
        for (int b = 10; b < 30; b++) {
            bm.writeZeroed(b, V).close();
        }
        counting.failAt(FaultyDevice.Kind.WRITE, Long.MAX_VALUE, false);
        bm.flush();
        assertThat(counting.operations()).isEqualTo(1);
        assertThat(bm.blocksWritten()).isEqualTo(20);
    }

    @Test
    void checksumAndLocationErrorsNameTheBlockAndKind() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(1 << 20);
        BlockManager bm = new BlockManager(dev, 16, false);
        bm.writeZeroed(5, V).close();
        bm.flush();
        byte[] raw = bm.readRaw(5);
        raw[200] ^= 1;
        dev.write(5 * 4096L, ByteBuffer.wrap(raw));
        BlockManager again = new BlockManager(dev, 16, true);
        assertThatThrownBy(() -> again.read(5, V)).isInstanceOf(ChecksumException.class)
                .hasMessageStartingWith("bad checksum in test block (block 5)");
        // the same bytes at another location: the location check comes first
        raw[200] ^= 1;
        dev.write(6 * 4096L, ByteBuffer.wrap(raw));
        assertThatThrownBy(() -> again.read(6, V)).isInstanceOf(WrongLocationException.class)
                .hasMessageContaining("block 6 says it is block 5");
        assertThatThrownBy(() -> again.read(256, V)).isInstanceOf(BlockOutOfRangeException.class)
                .hasMessageContaining("256 >= 256");
        // a node with a valid checksum but an impossible header
        try (WriteBlock w = bm.writeZeroed(7, BtreeNode.VALIDATOR)) {
            BtreeNode.init(w.data(), BtreeNode.LEAF, 8);
            BtreeNode.setNrEntries(w.data(), 253);
        }
        bm.flush();
        assertThatThrownBy(() -> new BlockManager(dev, 16, true).read(7, BtreeNode.VALIDATOR))
                .isInstanceOf(CorruptBlockException.class).hasMessageContaining("nr_entries 253 > max_entries 252")
                .hasMessageContaining("block 7");
    }

    @Test
    void lockRulesAreEnforced() throws Exception {
        BlockManager bm = new BlockManager(new MemoryBlockDevice(1 << 20), 16, false);
        bm.writeZeroed(1, V).close();
        try (ReadBlock a = bm.read(1, V); ReadBlock b = bm.read(1, V)) {
            assertThat(a.data()).isSameAs(b.data());
            assertThatThrownBy(() -> bm.write(1, V)).isInstanceOf(IllegalStateException.class);
        }
        try (WriteBlock w = bm.write(1, V)) {
            assertThatThrownBy(() -> bm.read(1, V)).isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(bm::flush).isInstanceOf(IllegalStateException.class);
        }
        assertThat(bm.lockedBlocks()).isZero();
    }

    @Test
    void readOnlyRefusesWritesAndIoErrorsNameTheBlock() throws Exception {
        MemoryBlockDevice mem = new MemoryBlockDevice(1 << 20);
        BlockManager bm = new BlockManager(mem, 16, true);
        assertThatThrownBy(() -> bm.writeZeroed(3, V)).isInstanceOf(ReadOnlyException.class)
                .hasMessageContaining("block 3");
        FaultyDevice faulty = new FaultyDevice(mem);
        faulty.failAt(FaultyDevice.Kind.READ, 1, false);
        BlockManager f = new BlockManager(faulty, 16, false);
        assertThatThrownBy(() -> f.read(9, V)).isInstanceOf(MetadataIoException.class)
                .hasMessageContaining("read of metadata block 9 failed").hasMessageContaining("injected");
    }

    @Test
    void prefetchedBlocksAreValidatedWhenFirstLocked() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(1 << 20);
        BlockManager bm = new BlockManager(dev, 64, false);
        for (int b = 0; b < 10; b++) {
            bm.writeZeroed(b, V).close();
        }
        bm.flush();
        byte[] raw = bm.readRaw(4);
        raw[300] ^= 1;
        dev.write(4 * 4096L, ByteBuffer.wrap(raw));
        BlockManager r = new BlockManager(dev, 64, true);
        r.prefetch(0, 10);
        assertThat(r.blocksRead()).isEqualTo(10);
        r.read(3, V).close();
        assertThatThrownBy(() -> r.read(4, V)).isInstanceOf(ChecksumException.class);
        assertThat(r.blocksRead()).isEqualTo(10);
    }

    @Test
    void longIntMapBehavesLikeAMap() {
        LongIntMap m = new LongIntMap(4);
        java.util.HashMap<Long, Integer> model = new java.util.HashMap<>();
        java.util.Random rnd = new java.util.Random(3);
        for (int i = 0; i < 200_000; i++) {
            long k = rnd.nextInt(5000);
            if (rnd.nextInt(3) == 0) {
                assertThat(m.remove(k)).isEqualTo(model.remove(k) != null);
            } else {
                m.put(k, i);
                model.put(k, i);
            }
            long q = rnd.nextInt(5000);
            assertThat(m.get(q, -1)).isEqualTo(model.getOrDefault(q, -1));
        }
        assertThat(m.size()).isEqualTo(model.size());
    }
}
