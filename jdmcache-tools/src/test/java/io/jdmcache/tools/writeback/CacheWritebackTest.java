package io.jdmcache.tools.writeback;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataBuilder;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.FaultyDevice;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Writeback copies exactly the right blocks, merges adjacent ones, and updates the metadata safely. */
class CacheWritebackTest {
    static final int BS = 64; // sectors: 32 KiB blocks, as in the upstream suite
    static final int BYTES = BS * 512;
    static final int CACHE = 1024;
    static final int ORIGIN = 4096;

    static void stamp(MemoryBlockDevice d, int blocks, long seed) throws Exception {
        byte[] b = new byte[BYTES];
        for (int i = 0; i < blocks; i++) {
            new Random(seed * 100_000 + i).nextBytes(b);
            d.write((long) i * BYTES, ByteBuffer.wrap(b));
        }
    }

    static byte[] block(MemoryBlockDevice d, long i) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(BYTES);
        d.read(i * BYTES, b);
        return b.array();
    }

    @ParameterizedTest(name = "v{0} clean={1} update={2}")
    @CsvSource({"1,true,true", "2,true,true", "1,false,true", "2,false,true", "2,true,false"})
    void copiesExactlyTheDirtyBlocks(int version, boolean clean, boolean update) throws Exception {
        MemoryBlockDevice meta = new MemoryBlockDevice(4 << 20);
        MemoryBlockDevice fast = new MemoryBlockDevice((long) CACHE * BYTES);
        MemoryBlockDevice origin = new MemoryBlockDevice((long) ORIGIN * BYTES);
        stamp(fast, CACHE, 1);
        stamp(origin, ORIGIN, 2);
        MetadataBuilder b = new MetadataBuilder(version, BS, CACHE);
        Random rnd = new Random(version);
        Map<Long, Long> mapped = new HashMap<>();
        Map<Long, Boolean> dirty = new HashMap<>();
        for (long c = 0; c < CACHE; c++) {
            if (rnd.nextInt(10) < 8) {
                // runs of adjacent origin blocks, so merging is exercised
                long o = c < 300 ? 1000 + c : (c * 7) % ORIGIN;
                if (mapped.containsValue(o)) {
                    continue;
                }
                boolean d = rnd.nextBoolean();
                b.setMapping(c, o, d);
                mapped.put(c, o);
                dirty.put(c, d);
            }
        }
        b.write(meta, clean);
        byte[] before = new byte[4 << 20];
        meta.read(0, ByteBuffer.wrap(before));
        MemoryBlockDevice originBefore = origin.copy();

        CacheWriteback.Result r = CacheWriteback.run(meta, fast, origin,
                new CacheWriteback.Options(1 << 20, update, 0, 0), null);

        long expectedCopies = dirty.entrySet().stream().filter(e -> !clean || e.getValue()).count();
        assertThat(r.toCopy()).isEqualTo(expectedCopies);
        assertThat(r.copied()).isEqualTo(expectedCopies);
        assertThat(r.failedCblocks()).isEmpty();
        for (long o = 0; o < ORIGIN; o++) {
            Long c = null;
            for (Map.Entry<Long, Long> e : mapped.entrySet()) {
                if (e.getValue() == o) {
                    c = e.getKey();
                }
            }
            boolean copiedHere = c != null && (!clean || dirty.get(c));
            byte[] want = copiedHere ? block(fast, c) : block(originBefore, o);
            assertThat(block(origin, o)).as("origin block %d", o).isEqualTo(want);
        }
        if (update) {
            try (CacheMetadata md = CacheMetadata.open(meta, MetadataOptions.readOnlyAny())) {
                assertThat(md.cleanWhenOpened()).isTrue();
                int[] n = {0};
                md.loadMappings(null, (o, c, d, h, hv) -> {
                    assertThat(d).as("cache block %d still dirty", c).isFalse();
                    n[0]++;
                });
                assertThat(n[0]).isEqualTo(mapped.size());
            }
        } else {
            byte[] after = new byte[4 << 20];
            meta.read(0, ByteBuffer.wrap(after));
            assertThat(after).as("--no-metadata-update leaves the metadata untouched").isEqualTo(before);
        }
    }

    @ParameterizedTest(name = "v{0}")
    @CsvSource({"1", "2"})
    void blocksThatFailToCopyStayDirty(int version) throws Exception {
        MemoryBlockDevice meta = new MemoryBlockDevice(4 << 20);
        MemoryBlockDevice fast = new MemoryBlockDevice((long) CACHE * BYTES);
        MemoryBlockDevice originMem = new MemoryBlockDevice((long) ORIGIN * BYTES);
        MetadataBuilder b = new MetadataBuilder(version, BS, CACHE);
        for (long c = 0; c < 10; c++) {
            b.setMapping(c, 100 + c * 2, true); // not adjacent: one write each
        }
        b.write(meta, true);
        FaultyDevice origin = new FaultyDevice(originMem);
        origin.failAt(FaultyDevice.Kind.WRITE, 4, false);
        CacheWriteback.Result r = CacheWriteback.run(meta, fast, origin, new CacheWriteback.Options(1 << 20, true, 0, 0),
                null);
        assertThat(r.copied()).isEqualTo(9);
        assertThat(r.failedCblocks()).containsExactly(3L);
        try (CacheMetadata md = CacheMetadata.open(meta, MetadataOptions.readOnlyAny())) {
            md.loadMappings(null, (o, c, d, h, hv) -> assertThat(d).as("cblock %d", c).isEqualTo(c == 3));
        }
    }
}
