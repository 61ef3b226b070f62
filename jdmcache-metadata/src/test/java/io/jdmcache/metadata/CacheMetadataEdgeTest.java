package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import org.junit.jupiter.api.Test;

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
    void growingTheCacheAfterWritingHintsKeepsTheMappingsLoadable() throws Exception {
        MemoryBlockDevice dev = dev();
        try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
            md.resize(600);
            md.insertMapping(5, 50);
            md.writeHints(SMQ, c -> c + 1);
            md.commit(false);
            // the cache grows past the hint array (it is rebuilt only at the next write of the hints)
            md.resize(2000);
            md.insertMapping(1500, 150);
            md.commit(true);
        }
        try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128))) {
            assertThat(md.cleanWhenOpened()).isTrue();
            List<M> got = Images.load(md, SMQ);
            assertThat(got).containsExactly(new M(50, 5, false, 6, true), new M(150, 1500, false, 0, false));
            assertThat(md.hint(5)).isEqualTo(6);
            assertThat(md.hint(1500)).as("past the hint array").isZero();
            assertThatThrownBy(() -> md.hint(2000)).isInstanceOf(IndexOutOfBoundsException.class)
                    .hasMessageContaining("cache block 2000");
            assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
        }
    }
}
