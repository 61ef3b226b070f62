package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.array.PersistentArray;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;
import io.jdmcache.pdata.tm.TransactionManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import java.util.List;

import static io.jdmcache.metadata.Images.SMQ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Edge cases the acceptance tests ran into: each test here failed before its fix. */
class CacheMetadataEdgeTest {

    static MemoryBlockDevice dev() {
        return new MemoryBlockDevice(8 << 20);
    }

    @Test
    void resizingTheCacheKeepsTheHintArrayInStepSoCacheCheckAcceptsIt(@TempDir Path dir) throws Exception {
        for (int version = 1; version <= 2; version++) {
            MemoryBlockDevice dev = dev();
            try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128).withFormatVersion(version))) {
                md.resize(600);
                md.insertMapping(5, 50);
                md.writeHints(SMQ, c -> c + 1);
                md.commit(false);
                // the cache grows without a new write of the hints (the kernel would leave the array short,
                // which cache_check 0.9 reports as "missing mappings"): the new blocks get hint 0
                md.resize(2000);
                md.insertMapping(1500, 150);
                md.commit(true);
            }
            Path f = dir.resolve("grown-v" + version + ".img");
            Images.toFile(dev, f);
            CacheCheck.assertAccepted(f, 2000, "grown cache, format " + version);
            try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
                assertThat(Images.load(md, SMQ)).containsExactly(new M(50, 5, false, 6, true),
                        new M(150, 1500, false, 0, true));
                md.removeMapping(1500);
                md.resize(100);
                md.commit(true);
            }
            ImageWalker.Walk w = ImageWalker.walk(dev);
            w.assertExactCounts();
            assertThat(w.content().hints()).hasSize(100);
            Images.toFile(dev, f);
            CacheCheck.assertAccepted(f, 100, "shrunk cache, format " + version);
        }
    }

    @Test
    void aHintArrayShorterThanTheCacheIsReadLikeTheKernelDoes() throws Exception {
        MemoryBlockDevice dev = dev();
        try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
            md.resize(2000);
            md.insertMapping(5, 50);
            md.insertMapping(1500, 150);
            md.writeHints(SMQ, c -> c + 1);
            md.commit(true);
        }
        // what the kernel leaves after growing a cache: a hint array of the old size (600)
        shortenHintArray(dev, 2000, 600);
        try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
            assertThat(md.cleanWhenOpened()).isTrue();
            assertThat(Images.load(md, SMQ)).containsExactly(new M(50, 5, false, 6, true),
                    new M(150, 1500, false, 0, false));
            assertThat(md.hint(5)).isEqualTo(6);
            assertThat(md.hint(1500)).as("past the hint array").isZero();
            assertThatThrownBy(() -> md.hint(2000)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("cache block 2000");
            assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
            // growing again brings the array up to the cache's size
            md.resize(2100);
            md.commit(true);
        }
        assertThat(ImageWalker.walk(dev).content().hints()).hasSize(2100);
    }

    @Test
    void refusedRequestsChangeNothing() throws Exception {
        for (int version = 1; version <= 2; version++) {
            MemoryBlockDevice dev = dev();
            try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128).withFormatVersion(version))) {
                md.resize(1000);
                md.insertMapping(3, 30);
                long[] words = new long[16];
                words[0] = 8;
                md.setDirtyBits(words, 1000);
                md.resizeDiscards(128, 100);
                md.commit(false);
                // too few words for the bits (format 2 used to delete its dirty bitset before noticing)
                assertThatThrownBy(() -> md.setDirtyBits(new long[2], 1000)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> md.setDirtyBits(null, 1000)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> md.insertMapping(1000, 1)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("cache block 1000");
                assertThatThrownBy(() -> md.removeMapping(-1)).isInstanceOf(IndexOutOfBoundsException.class);
                assertThatThrownBy(() -> md.setDiscard(100, true)).isInstanceOf(IndexOutOfBoundsException.class)
                        .hasMessageContaining("discard block 100");
                assertThatThrownBy(() -> md.resize(-5)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> md.resize(1L << 32)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> md.resizeDiscards(128, -1)).isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> md.writeHints(SMQ, null)).isInstanceOf(NullPointerException.class);
                assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
                assertThat(md.changedThisTransaction()).isFalse();
                md.commit(true);
            }
            ImageWalker.Walk w = ImageWalker.walk(dev);
            w.assertExactCounts();
            assertThat(w.content().mappings()[3]).isEqualTo(Mapping.pack(30, Mapping.VALID | (version == 1 ? Mapping.DIRTY : 0)));
            if (version == 2) {
                assertThat(w.content().dirtyWords()[0]).isEqualTo(8);
            }
        }
    }

    /** Rewrites a committed image with its hint array cut to {@code to} entries, the pdata way. */
    static void shortenHintArray(MemoryBlockDevice dev, long from, long to) throws Exception {
        BlockManager bm = new BlockManager(dev, 64, false);
        Superblock sb;
        try (ReadBlock r = bm.read(0, Superblock.VALIDATOR)) {
            sb = Superblock.unpack(r.data());
        }
        TransactionManager tm = new TransactionManager(bm, MetadataSpaceMap.open(bm, sb.spaceMapRoot()));
        long hints = new PersistentArray(tm, 4).resize(sb.hintRoot(), from, to, 0);
        SpaceMapRoot smRoot = tm.preCommit();
        Superblock patched = new Superblock(sb.flags(), sb.uuid(), sb.magic(), sb.version(), sb.policyName(),
                sb.policyHintSize(), smRoot, sb.mappingRoot(), hints, sb.discardRoot(), sb.discardBlockSize(),
                sb.discardNrBlocks(), sb.dataBlockSize(), sb.metadataBlockSize(), sb.cacheBlocks(), sb.compatFlags(),
                sb.compatRoFlags(), sb.incompatFlags(), sb.stats(), sb.policyVersion(), sb.dirtyRoot(), false);
        WriteBlock w = bm.writeZeroed(0, Superblock.VALIDATOR);
        patched.pack(w.data());
        tm.commit(w);
    }
}
