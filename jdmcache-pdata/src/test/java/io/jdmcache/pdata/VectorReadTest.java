package io.jdmcache.pdata;

import io.jdmcache.pdata.array.ArrayBlock;
import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.bitset.BitsetCursor;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.BlockOutOfRangeException;
import io.jdmcache.pdata.block.Checksums;
import io.jdmcache.pdata.block.ChecksumException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.sm.BitmapBlock;
import io.jdmcache.pdata.sm.IndexBlock;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.testing.CacheImage;
import io.jdmcache.pdata.testing.DumpXml;
import io.jdmcache.pdata.testing.Vectors;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The persistent-data core reads every structure of the reference images exactly as cache_dump states. */
class VectorReadTest {

    static BlockManager load(String name) throws IOException {
        byte[] img = Vectors.image(name);
        MemoryBlockDevice dev = new MemoryBlockDevice(name, img.length);
        dev.write(0, ByteBuffer.wrap(img));
        dev.setReadOnly(true);
        return new BlockManager(dev, 256, true);
    }

    /** Where the true content of each good image is: v1 dumps are right, v2 dumps carry the dirty bug. */
    static Path expectedXml(String name) {
        Path v = Vectors.dir();
        switch (name) {
            case "small-v2":
                return v.resolve("xml-in/small.xml");
            case "mid-v2":
                return v.resolve("xml-in/mid.xml.gz");
            case "mid-v1":
                return v.resolve("mid-v1.dump.xml.gz");
            default:
                return v.resolve(name + ".dump.xml");
        }
    }

    @TestFactory
    List<DynamicTest> goodImagesReadBackAsDumped() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Vectors.Row row : Vectors.manifest()) {
            if (row.checkRc() != 0) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(row.name(), () -> checkGoodImage(row)));
        }
        assertThat(tests).hasSizeGreaterThanOrEqualTo(8);
        return tests;
    }

    private void checkGoodImage(Vectors.Row row) throws IOException {
        BlockManager bm = load(row.name());
        CacheImage sb = CacheImage.read(bm);
        assertThat(sb.version()).isEqualTo(row.version());
        assertThat(sb.cacheBlocks()).isEqualTo(row.nrCacheBlocks());
        assertThat(sb.dataBlockSize()).isEqualTo(128);
        DumpXml expected = new DumpXml(Vectors.text(expectedXml(row.name())));
        assertThat(expected.nrCacheBlocks).isEqualTo(row.nrCacheBlocks());

        // the space map loads, and counts every block reachable from the superblock at least once
        MetadataSpaceMap sm = MetadataSpaceMap.open(bm, sb.smRoot());
        assertThat(sm.nrAllocated()).isEqualTo(sb.smRoot().nrAllocated());

        // mapping array
        long n = sb.cacheBlocks();
        long[] dirtyBits = null;
        if (sb.version() == 2) {
            dirtyBits = new long[(int) ((n + 63) / 64)];
            BitsetCursor bc = BitsetCursor.open(bm, sb.dirtyRoot(), n);
            while (bc.next()) {
                if (bc.bit()) {
                    dirtyBits[(int) (bc.index() >>> 6)] |= 1L << bc.index();
                }
            }
        }
        ArrayCursor c = ArrayCursor.open(bm, sb.mappingRoot(), 8, n);
        int mapped = 0;
        while (c.next()) {
            long v = c.value();
            long cblock = c.index();
            long[] want = expected.mappings.get(cblock);
            if ((v & 1) == 0) {
                assertThat(want).as("cblock %d unmapped", cblock).isNull();
                assertThat(v).isZero();
                continue;
            }
            mapped++;
            assertThat(want).as("cblock %d mapped", cblock).isNotNull();
            assertThat(v >>> 16).as("origin of cblock %d", cblock).isEqualTo(want[0]);
            boolean dirty = sb.version() == 1 ? (v & 2) != 0 : (dirtyBits[(int) (cblock >>> 6)] & (1L << cblock)) != 0;
            assertThat(dirty ? 1L : 0L).as("dirty bit of cblock %d", cblock).isEqualTo(want[1]);
        }
        assertThat(c.index()).isEqualTo(n - 1);
        assertThat(mapped).isEqualTo(expected.mappings.size());

        // hint array: one u32 per cache block; the dump shows the hints of mapped blocks
        if (sb.hintRoot() != 0) {
            ArrayCursor h = ArrayCursor.open(bm, sb.hintRoot(), 4, n);
            int seen = 0;
            while (h.next()) {
                Long want = expected.hints.get(h.index());
                if (want != null) {
                    assertThat(h.value()).as("hint of cblock %d", h.index()).isEqualTo(want);
                    seen++;
                }
            }
            assertThat(seen).isEqualTo(expected.hints.size());
        } else {
            assertThat(expected.hints).isEmpty();
        }

        // discard bitset: tools-made images have an empty one
        assertThat(sb.discardNrBlocks()).isZero();
        BitsetCursor d = BitsetCursor.open(bm, sb.discardRoot(), sb.discardNrBlocks());
        assertThat(d.next()).isFalse();
    }

    @Test
    void everyBlockKindChecksumsWithItsSalt() throws IOException {
        BlockManager bm = load("small-v1");
        byte[] sb = bm.readRaw(0);
        assertThat(Checksums.stored(sb)).isEqualTo(Checksums.compute(sb, 9031977));
        assertThat(Checksums.stored(bm.readRaw(1))).isEqualTo(Checksums.compute(bm.readRaw(1), IndexBlock.SALT));
        assertThat(Checksums.stored(bm.readRaw(2))).isEqualTo(Checksums.compute(bm.readRaw(2), BtreeNode.SALT));
        assertThat(Checksums.stored(bm.readRaw(3))).isEqualTo(Checksums.compute(bm.readRaw(3), BitmapBlock.SALT));
        assertThat(Checksums.stored(bm.readRaw(8))).isEqualTo(Checksums.compute(bm.readRaw(8), ArrayBlock.SALT));
        // and a wrong salt does not match
        assertThat(Checksums.stored(bm.readRaw(8))).isNotEqualTo(Checksums.compute(bm.readRaw(8), BtreeNode.SALT));
    }

    @Test
    void badMappingNodeNamesBlock4() throws IOException {
        BlockManager bm = load("bad-mapping-node");
        CacheImage sb = CacheImage.read(bm);
        assertThatThrownBy(() -> drain(bm, sb.mappingRoot(), 8, sb.cacheBlocks()))
                .isInstanceOf(ChecksumException.class)
                .hasMessageContaining("bad checksum in btree node (block 4)")
                .satisfies(e -> assertThat(((MetadataException) e).block()).isEqualTo(4));
    }

    @Test
    void badMappingArrayBlockNamesBlock9AfterTheFirstBlock() throws IOException {
        BlockManager bm = load("bad-mapping-ablock");
        CacheImage sb = CacheImage.read(bm);
        long[] read = new long[1];
        assertThatThrownBy(() -> {
            ArrayCursor c = ArrayCursor.open(bm, sb.mappingRoot(), 8, sb.cacheBlocks());
            while (c.next()) {
                read[0]++;
            }
        }).isInstanceOf(ChecksumException.class).hasMessageContaining("array block (block 9)");
        assertThat(read[0]).isEqualTo(509);
    }

    @Test
    void badHintArrayBlockNamesBlock11() throws IOException {
        BlockManager bm = load("bad-hint-ablock");
        CacheImage sb = CacheImage.read(bm);
        drain(bm, sb.mappingRoot(), 8, sb.cacheBlocks());
        assertThatThrownBy(() -> drain(bm, sb.hintRoot(), 4, sb.cacheBlocks()))
                .isInstanceOf(ChecksumException.class).hasMessageContaining("array block (block 11)");
    }

    @Test
    void truncatedImageNamesTheMissingBlock() throws IOException {
        BlockManager bm = load("truncated-9blocks");
        CacheImage sb = CacheImage.read(bm);
        assertThatThrownBy(() -> drain(bm, sb.mappingRoot(), 8, sb.cacheBlocks()))
                .isInstanceOf(BlockOutOfRangeException.class).hasMessageContaining("(9 >= 9)");
        BlockManager tiny = load("truncated-4095b");
        assertThat(tiny.nrBlocks()).isZero();
        assertThatThrownBy(() -> CacheImage.read(tiny)).isInstanceOf(BlockOutOfRangeException.class)
                .hasMessageContaining("(0 >= 0)");
    }

    @Test
    void badSuperblockChecksumNamesBlock0() throws IOException {
        for (String name : List.of("bad-sb-csum", "bad-sb-zeroed")) {
            BlockManager bm = load(name);
            assertThatThrownBy(() -> CacheImage.read(bm)).as(name).isInstanceOf(ChecksumException.class)
                    .hasMessageContaining("bad checksum in superblock (block 0)");
        }
    }

    @Test
    void cacheBlocksLargerThanTheArrayIsReportedWithTheMissingEntries() throws IOException {
        BlockManager bm = load("bad-cache-blocks");
        CacheImage sb = CacheImage.read(bm);
        assertThat(sb.cacheBlocks()).isEqualTo(2000);
        assertThatThrownBy(() -> drain(bm, sb.mappingRoot(), 8, sb.cacheBlocks()))
                .isInstanceOf(MetadataException.class).hasMessageContaining("entries 1024..");
    }

    @Test
    void spaceMapCountsCoverEveryReachableBlockOfAToolsImage() throws IOException {
        BlockManager bm = load("small-v2");
        CacheImage sb = CacheImage.read(bm);
        MetadataSpaceMap sm = MetadataSpaceMap.open(bm, sb.smRoot());
        // format-spec section 11: small images use blocks 0..N with count 1, the rest free
        int[] counts = sm.countsSnapshot();
        for (long b : List.of(0L, sb.smRoot().indexBlock(), sb.smRoot().refCountRoot(), sb.mappingRoot(),
                sb.hintRoot(), sb.discardRoot(), sb.dirtyRoot())) {
            assertThat(counts[(int) b]).as("count of block %d", b).isEqualTo(1);
        }
        assertThat(sm.nrBlocks()).isEqualTo(bm.nrBlocks());
        assertThat(sm.nrFree()).isEqualTo(sm.nrBlocks() - sm.nrAllocated());
    }

    private static void drain(BlockManager bm, long root, int width, long n) throws MetadataException {
        ArrayCursor c = ArrayCursor.open(bm, root, width, n);
        while (c.next()) {
            c.value();
        }
    }

    @Test
    void manifestSizesMatchTheImages() throws IOException {
        for (Vectors.Row row : Vectors.manifest()) {
            assertThat((long) Vectors.image(row.name()).length).as(row.name()).isEqualTo(row.bytes());
        }
    }
}
