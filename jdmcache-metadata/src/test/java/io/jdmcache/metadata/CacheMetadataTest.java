package io.jdmcache.metadata;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The CacheMetadata API: format, mappings, dirty bits in both formats, resize, hints, discards, stats, abort. */
class CacheMetadataTest {
    static final PolicyInfo SMQ = new PolicyInfo("smq", 2, 0, 0, 4);

    record M(long oblock, long cblock, boolean dirty, long hint, boolean hintValid) {
    }

    static List<M> load(CacheMetadata md, PolicyInfo p) throws Exception {
        List<M> out = new ArrayList<>();
        md.loadMappings(p, (o, c, d, h, hv) -> out.add(new M(o, c, d, h, hv)));
        return out;
    }

    static MemoryBlockDevice dev() {
        return new MemoryBlockDevice(8 << 20);
    }

    @Test
    void formatThenReopenKeepsEverythingInBothFormats() throws Exception {
        for (int version = 1; version <= 2; version++) {
            MemoryBlockDevice dev = dev();
            try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128).withFormatVersion(version))) {
                assertThat(md.version()).isEqualTo(version);
                assertThat(md.cacheBlocks()).isZero();
                md.resize(1000);
                md.insertMapping(0, 5);
                md.insertMapping(1, 0x123456789L);
                md.insertMapping(999, 77);
                long[] dirty = new long[16];
                dirty[0] = 0b10; // cblock 1 dirty
                dirty[999 / 64] |= 1L << 999;
                md.setDirtyBits(dirty, 1000);
                md.writeHints(SMQ, c -> c == 1 ? 63 : c % 7);
                md.setStats(new CacheStats(1, 2, 3, 4));
                md.resizeDiscards(1024, 50);
                md.setDiscard(3, true);
                md.setDiscard(49, true);
                md.commit(true);
            }
            dev.setReadOnly(false);
            try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
                assertThat(md.version()).as("the stored version wins").isEqualTo(version);
                assertThat(md.cleanWhenOpened()).isTrue();
                assertThat(md.stats()).isEqualTo(new CacheStats(1, 2, 3, 4));
                assertThat(load(md, SMQ)).containsExactly(new M(5, 0, false, 0, true),
                        new M(0x123456789L, 1, true, 63, true), new M(77, 999, true, 999 % 7, true));
                List<Long> discarded = new ArrayList<>();
                md.loadDiscards((bs, d, on) -> {
                    assertThat(bs).isEqualTo(1024);
                    if (on) {
                        discarded.add(d);
                    }
                });
                assertThat(discarded).containsExactly(3L, 49L);
                // another policy, or another major version: hints are not offered
                assertThat(load(md, new PolicyInfo("cleaner", 2, 0, 0, 4))).allMatch(m -> !m.hintValid());
                assertThat(load(md, new PolicyInfo("smq", 1, 0, 0, 4))).allMatch(m -> !m.hintValid());
            }
            // opened without a clean shutdown in between: everything dirty, no hints, no discards
            try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
                assertThat(md.cleanWhenOpened()).isFalse();
                assertThat(load(md, SMQ)).allMatch(m -> m.dirty() && !m.hintValid()).hasSize(3);
                List<Boolean> bits = new ArrayList<>();
                md.loadDiscards((bs, d, on) -> bits.add(on));
                assertThat(bits).hasSize(50).doesNotContain(true);
            }
        }
    }

    @Test
    void dataBlockSizeCannotChangeAndVersionIsChecked() throws Exception {
        MemoryBlockDevice dev = dev();
        CacheMetadata.open(dev, MetadataOptions.readWrite(128)).close();
        assertThatThrownBy(() -> CacheMetadata.open(dev, MetadataOptions.readWrite(256)))
                .isInstanceOf(InvalidSuperblockException.class)
                .hasMessageContaining("changing the data block size (from 128 to 256) is not supported");
    }

    @Test
    void shrinkingOverADirtyBlockIsRefusedNamingIt() throws Exception {
        for (int version = 1; version <= 2; version++) {
            try (CacheMetadata md = CacheMetadata.open(dev(), MetadataOptions.readWrite(128).withFormatVersion(version))) {
                md.resize(200);
                md.insertMapping(150, 9);
                md.insertMapping(160, 10);
                long[] words = new long[4];
                words[160 / 64] |= 1L << 160;
                md.setDirtyBits(words, 200);
                md.commit(false);
                assertThatThrownBy(() -> md.resize(100)).isInstanceOf(DirtyBlockException.class)
                        .hasMessageContaining("cache block 160 is dirty");
                assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
                md.resize(161);
                assertThat(md.cacheBlocks()).isEqualTo(161);
                md.setDirtyBits(new long[4], 161);
                md.resize(100);
                assertThat(md.cacheBlocks()).isEqualTo(100);
                md.resize(300);
                assertThat(md.mappingValue(150)).as("regrown blocks are unmapped").isZero();
                md.commit(true);
                assertThat(md.allClean()).isTrue();
            }
        }
    }

    @Test
    void abortRollsBackToTheLastCommit() throws Exception {
        try (CacheMetadata md = CacheMetadata.open(dev(), MetadataOptions.readWrite(128).withFormatVersion(2))) {
            md.resize(100);
            md.insertMapping(1, 11);
            md.commit(false);
            md.insertMapping(2, 22);
            md.removeMapping(1);
            md.resize(50);
            assertThat(md.changedThisTransaction()).isTrue();
            md.abort();
            assertThat(md.cacheBlocks()).isEqualTo(100);
            assertThat(load(md, null)).extracting(M::oblock).containsExactly(11L);
            assertThat(md.changedThisTransaction()).isFalse();
            assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
        }
    }

    @Test
    void usageCountsMetadataBlocks() throws Exception {
        try (CacheMetadata md = CacheMetadata.open(dev(), MetadataOptions.readWrite(128))) {
            assertThat(md.totalMetadataBlocks()).isEqualTo(2048);
            long free = md.freeMetadataBlocks();
            md.resize(100_000);
            md.commit(false);
            assertThat(md.freeMetadataBlocks()).isLessThan(free - 190);
            assertThat(md.freeMetadataBlocks()).isGreaterThan(free - 220);
        }
    }

    @Test
    void needsCheckBlocksWriteAccessUntilCleared() throws Exception {
        MemoryBlockDevice dev = dev();
        try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
            md.setNeedsCheck();
            assertThat(md.needsCheck()).isTrue();
        }
        assertThatThrownBy(() -> CacheMetadata.open(dev, MetadataOptions.readWrite(128)))
                .isInstanceOf(MetadataModeException.class).hasMessageContaining("needs checking");
        try (CacheMetadata ro = CacheMetadata.open(dev, MetadataOptions.readOnlyAny())) {
            assertThat(ro.needsCheck()).isTrue();
            assertThatThrownBy(() -> ro.insertMapping(0, 1)).isInstanceOf(MetadataModeException.class);
        }
        // a checker clears it: reopening read-only is not enough, it needs write access to block 0 only
        MetadataOptions checker = new MetadataOptions(0, 1, false, false, true, 64);
        assertThatThrownBy(() -> CacheMetadata.open(dev, checker)).isInstanceOf(MetadataModeException.class);
    }
}
