package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jdmcache.metadata.MetadataSize;
import io.jdmcache.metadata.MetadataTooSmallException;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

/**
 * A metadata device smaller than metadata-size requires is refused when the cache opens, before anything is
 * written (issue 16: such a cache served, then every stop failed "out of metadata space").
 */
class MetadataRoomTest {
    static final long BLOCK = 64 * 1024;
    static final int CACHE_BLOCKS = 16384;

    static CacheDevice open(MemoryBlockDevice md, String policy) throws IOException {
        MemoryBlockDevice cache = new MemoryBlockDevice("cache", CACHE_BLOCKS * BLOCK);
        MemoryBlockDevice origin = new MemoryBlockDevice("origin", 4 * CACHE_BLOCKS * BLOCK);
        CacheConfig c = CacheConfig.parse("md cache origin 128 0 " + policy + " 0");
        return CacheDevice.open(c, md, cache, origin, EngineOptions.DEFAULTS.withIdleNanos(Long.MAX_VALUE / 4));
    }

    static boolean allZero(MemoryBlockDevice d) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) d.size());
        d.read(0, b);
        for (byte x : b.array()) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    @Test
    void undersizedMetadataIsRefusedWithTheSizeNeededAndLeftUntouched() throws IOException {
        // the case: 16,384 cache blocks, 196 KiB of metadata, where metadata-size says 9,088 sectors
        assertThat(MetadataSize.sectors(CACHE_BLOCKS, 4)).isEqualTo(9088);
        MemoryBlockDevice md = new MemoryBlockDevice("md", 196 << 10);
        assertThatThrownBy(() -> open(md, "smq"))
                .isInstanceOf(MetadataTooSmallException.class)
                .hasMessageContaining("metadata device md is too small")
                .hasMessageContaining("392 sectors")
                .hasMessageContaining("16384 cache blocks with 4-byte hints need at least 9088 sectors")
                .hasMessageContaining("4653056 bytes");
        assertThat(allZero(md)).as("nothing was written to the refused metadata").isTrue();
    }

    @Test
    void exactlyTheSizeNeededIsEnoughAndOneSectorLessIsNot() throws IOException {
        MemoryBlockDevice md = new MemoryBlockDevice("md", 9088 * 512);
        try (CacheDevice d = open(md, "smq")) {
            d.write(0, ByteBuffer.wrap(new byte[(int) BLOCK]));
            d.flush();
        }
        try (CacheDevice d = open(md, "cleaner")) {
            assertThat(d.cacheBlocks()).isEqualTo(CACHE_BLOCKS);
        }
        MemoryBlockDevice smaller = new MemoryBlockDevice("md", 9087 * 512);
        assertThatThrownBy(() -> open(smaller, "cleaner")).isInstanceOf(MetadataTooSmallException.class)
                .hasMessageContaining("need at least 9088 sectors");
        assertThat(allZero(smaller)).isTrue();
    }

    @Test
    void theFormulaIsCacheMetadataSizes() {
        // values printed by thin-provisioning-tools' cache_metadata_size
        assertThat(MetadataSize.sectors(1024, 4)).isEqualTo(8248);
        assertThat(MetadataSize.sectors(67108864, 4)).isEqualTo(3678208);
        assertThat(MetadataSize.sectors(0, 4)).isEqualTo(8192);
        assertThat(MetadataSize.sectors(16384, 0)).isEqualTo(8960);
        assertThat(MetadataSize.sectors(16384, 128)).isEqualTo(8192 + 512 + 4352);
    }
}
