package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;
import io.jdmcache.pdata.block.BlockOutOfRangeException;
import io.jdmcache.pdata.block.ChecksumException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.DumpXml;
import io.jdmcache.pdata.testing.Vectors;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static io.jdmcache.metadata.Images.SMQ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Every reference image of ../shared/vectors through the CacheMetadata API: the good ones give exactly the
 * mappings, dirty bits, hints and (empty) discards their dumps state; the damaged ones are refused with the
 * reason the manifest states, naming the block, cache block or field at fault.
 */
class VectorMetadataTest {

    /** Images whose content is fully readable (cache_check rc 0, plus the empty caches 0.9.0 cannot read). */
    private static final Set<String> GOOD = Set.of("small-v1", "small-v2", "small-v1-unclean", "nomap-v1",
            "nomap-v2", "zero-blocks-v1", "zero-blocks-v2", "mid-v1", "mid-v2", "needs-check");

    /** Where the true content of a good image is written down: v2 dumps carry 0.9.0's dirty bug. */
    private static Path expectedXml(String name) {
        Path v = Vectors.dir();
        switch (name) {
            case "small-v2":
            case "small-v1-unclean":
            case "needs-check":
                return v.resolve("xml-in/small.xml");
            case "mid-v1":
            case "mid-v2":
                return v.resolve("xml-in/mid.xml.gz");
            case "nomap-v2":
                return v.resolve("xml-in/nomap.xml");
            case "zero-blocks-v2":
                return v.resolve("xml-in/zero-blocks.xml");
            default:
                return v.resolve(name + ".dump.xml");
        }
    }

    @TestFactory
    List<DynamicTest> everyManifestImage() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Vectors.Row row : Vectors.manifest()) {
            tests.add(DynamicTest.dynamicTest(row.name(), () -> {
                if (GOOD.contains(row.name())) {
                    goodImage(row);
                } else {
                    damagedImage(row.name());
                }
            }));
        }
        assertThat(tests).hasSize(23);
        return tests;
    }

    private static void goodImage(Vectors.Row row) throws IOException {
        DumpXml want = new DumpXml(Vectors.text(expectedXml(row.name())));
        boolean clean = !row.name().endsWith("-unclean");
        try (CacheMetadata md = CacheMetadata.open(Images.vector(row.name(), true), Images.readOnly128())) {
            assertThat(md.version()).isEqualTo(row.version());
            assertThat(md.cacheBlocks()).isEqualTo(row.nrCacheBlocks()).isEqualTo(want.nrCacheBlocks);
            assertThat(md.dataBlockSize()).isEqualTo(128);
            assertThat(md.cleanWhenOpened()).isEqualTo(clean);
            assertThat(md.mode()).isEqualTo(MetadataMode.READ_ONLY);
            assertThat(md.policyName()).isEqualTo("smq");

            // mappings and dirty bits; an unclean image reports every mapping dirty
            Map<Long, M> got = new TreeMap<>();
            for (M m : Images.load(md, SMQ)) {
                assertThat(got.put(m.cblock(), m)).as("cblock %d reported twice", m.cblock()).isNull();
            }
            assertThat(got.keySet()).isEqualTo(want.mappings.keySet());
            if (!row.mapped().equals("-")) {
                assertThat(got).hasSize(Integer.parseInt(row.mapped()));
            }
            long dirty = 0;
            for (Map.Entry<Long, long[]> e : want.mappings.entrySet()) {
                M m = got.get(e.getKey());
                assertThat(m.oblock()).as("origin of cblock %d", e.getKey()).isEqualTo(e.getValue()[0]);
                boolean wantDirty = !clean || e.getValue()[1] == 1;
                assertThat(m.dirty()).as("dirty bit of cblock %d", e.getKey()).isEqualTo(wantDirty);
                dirty += e.getValue()[1];
                // tools store hint size 0 and policy version 0.0.0: smq 2.0.0 must not trust the hints
                assertThat(m.hintValid()).isFalse();
                assertThat(m.hint()).isZero();
            }
            if (!row.dirty().equals("-")) {
                assertThat(dirty).isEqualTo(Long.parseLong(row.dirty()));
            }
            assertThat(md.hintsUsable(SMQ)).isFalse();
            assertThat(md.committedSuperblock().policyHintSize()).isZero();

            // but the stored hints are there for whoever asks, as the tools read them (4 bytes each)
            assertThat(want.hints.keySet()).isEqualTo(want.mappings.keySet());
            for (Map.Entry<Long, Long> h : want.hints.entrySet()) {
                assertThat(md.hint(h.getKey())).as("hint of cblock %d", h.getKey()).isEqualTo(h.getValue());
            }

            // tools-made images hold an empty discard bitset
            assertThat(md.discardNrBlocks()).isZero();
            List<Long> discards = new ArrayList<>();
            md.loadDiscards((bs, d, on) -> discards.add(d));
            assertThat(discards).isEmpty();
            assertThat(md.needsCheck()).isEqualTo(row.name().equals("needs-check"));
            assertThat(md.mode()).as("reading changed nothing").isEqualTo(MetadataMode.READ_ONLY);
        }
    }

    private static void damagedImage(String name) throws IOException {
        switch (name) {
            case "bad-sb-csum":
                assertRefusedAtOpen(name, ChecksumException.class, "bad checksum in superblock (block 0)", 0);
                break;
            case "bad-sb-zeroed":
                // an all-zero superblock is an unformatted device: refused, since a reader must not format
                assertRefusedAtOpen(name, InvalidSuperblockException.class, "all zeros", 0);
                break;
            case "bad-sb-magic":
                assertRefusedAtOpen(name, InvalidSuperblockException.class, "magic 12345", 0);
                break;
            case "bad-sb-version":
                assertRefusedAtOpen(name, InvalidSuperblockException.class, "unsupported metadata version 7", 0);
                break;
            case "truncated-4095b":
                assertRefusedAtOpen(name, InvalidSuperblockException.class, "4095 bytes is too small", 0);
                break;
            case "bad-mapping-node":
                assertLoadFails(name, 0, 0, ChecksumException.class, "bad checksum in btree node (block 4)", 4);
                break;
            case "bad-mapping-ablock":
                // the first array block (cache blocks 0..508) loads; block 9 holds 509..1017
                assertLoadFails(name, 509, 360, ChecksumException.class, "bad checksum in array block (block 9)", 9);
                break;
            case "truncated-9blocks":
                assertLoadFails(name, 509, 360, BlockOutOfRangeException.class, "block out of bounds (9 >= 9)", 9);
                break;
            case "bad-cache-blocks":
                // cache_blocks says 2000 but the array holds 1024: all real mappings load, then 1024 is missing
                assertLoadFails(name, 1024, 721, MetadataException.class, "1024", -1);
                break;
            case "bad-mapping-flags-v1":
                assertLoadFails(name, 1, 0, null, "cache block 1 (origin block 40520) has unknown flags 7", -1);
                break;
            case "dirty-flag-in-mapping-v2":
                assertLoadFails(name, 1, 0, null, "cache block 1 (origin block 40520) has unknown flags 3", -1);
                break;
            case "bad-hint-ablock":
                badHintArrayBlock();
                break;
            case "dup-oblock-v1":
                duplicateOriginIsTheCheckersJob();
                break;
            default:
                throw new AssertionError("no expectation for vector " + name + ": add one");
        }
    }

    private static void assertRefusedAtOpen(String name, Class<? extends MetadataException> type, String text,
                                            long block) throws IOException {
        MemoryBlockDevice dev = Images.vector(name, true);
        assertThatThrownBy(() -> CacheMetadata.open(dev, Images.readOnly128()))
                .isInstanceOf(type).hasMessageContaining(text)
                .satisfies(e -> assertThat(((MetadataException) e).block()).isEqualTo(block));
    }

    /**
     * Loading delivers the mappings below {@code cblock} ({@code before} of them), then fails naming the
     * cache block; the cause names the metadata block.
     */
    private static void assertLoadFails(String name, long cblock, int before, Class<?> cause, String text,
                                        long block) throws IOException {
        try (CacheMetadata md = CacheMetadata.open(Images.vector(name, true), Images.readOnly128())) {
            List<Long> seen = new ArrayList<>();
            assertThatThrownBy(() -> md.loadMappings(SMQ, (o, c, d, h, hv) -> seen.add(c)))
                    .isInstanceOf(MappingLoadException.class)
                    .hasMessageContaining("cache block " + cblock).hasMessageContaining(text)
                    .satisfies(e -> {
                        MappingLoadException m = (MappingLoadException) e;
                        assertThat(m.cblock()).isEqualTo(cblock);
                        if (cause != null) {
                            assertThat(m.getCause()).isInstanceOf(cause);
                        }
                        if (block >= 0) {
                            assertThat(m.block()).isEqualTo(block);
                        }
                    });
            assertThat(seen).hasSize(before).allMatch(c -> c < cblock);
            // a read-only reader stays usable after a damaged load
            assertThat(md.mode()).isEqualTo(MetadataMode.READ_ONLY);
            assertThat(md.cacheBlocks()).isPositive();
        }
    }

    private static void badHintArrayBlock() throws IOException {
        try (CacheMetadata md = CacheMetadata.open(Images.vector("bad-hint-ablock", true), Images.readOnly128())) {
            // smq 2.0.0 does not trust tools-written hints, so it never reads the damaged hint array
            assertThat(Images.load(md, SMQ)).hasSize(721);
            assertThatThrownBy(() -> md.hint(1)).isInstanceOf(ChecksumException.class)
                    .hasMessageContaining("bad checksum in array block (block 11)");
        }
    }

    private static void duplicateOriginIsTheCheckersJob() throws IOException {
        // cache_check rejects two cache blocks on one origin block; loading is not a check and reports both
        try (CacheMetadata md = CacheMetadata.open(Images.vector("dup-oblock-v1", true), Images.readOnly128())) {
            List<M> all = Images.load(md, SMQ);
            assertThat(all).hasSize(721);
            assertThat(all).filteredOn(m -> m.oblock() == 40520).extracting(M::cblock).containsExactly(1L, 4L);
        }
    }

    @Test
    void needsCheckImageIsRefusedForWritingButReadsFine() throws IOException {
        MemoryBlockDevice dev = Images.vector("needs-check", false);
        assertThatThrownBy(() -> CacheMetadata.open(dev, MetadataOptions.readWrite(128)))
                .isInstanceOf(MetadataModeException.class).hasMessageContaining("needs checking");
        assertThat(Images.bytes(dev)).as("the refused open wrote nothing").isEqualTo(Vectors.image("needs-check"));
        try (CacheMetadata md = CacheMetadata.open(dev, Images.readOnly())) {
            assertThat(md.needsCheck()).isTrue();
            assertThat(Images.load(md, SMQ)).hasSize(721);
            assertThatThrownBy(() -> md.insertMapping(0, 1)).isInstanceOf(MetadataModeException.class);
        }
    }

    @Test
    void truncatedImageIsRefusedForWritingNamingBothSizes() throws IOException {
        MemoryBlockDevice dev = Images.vector("truncated-9blocks", false);
        assertThatThrownBy(() -> CacheMetadata.open(dev, MetadataOptions.readWrite(128)))
                .isInstanceOf(MetadataException.class).hasMessageContaining("1280").hasMessageContaining("9");
    }

    @Test
    void dataBlockSizeMustMatchWhenGiven() throws IOException {
        MemoryBlockDevice dev = Images.vector("small-v1", true);
        assertThatThrownBy(() -> CacheMetadata.open(dev, new MetadataOptions(256, 1, false, true, true, 64)))
                .isInstanceOf(InvalidSuperblockException.class)
                .hasMessageContaining("from 128 to 256");
        try (CacheMetadata md = CacheMetadata.open(dev, Images.readOnly())) {
            assertThat(md.dataBlockSize()).isEqualTo(128);
        }
    }

    @Test
    void readOnlyOpenWritesNothing() throws IOException {
        for (String name : List.of("small-v1", "small-v2", "small-v1-unclean")) {
            MemoryBlockDevice dev = Images.vector(name, false);
            try (CacheMetadata md = CacheMetadata.open(dev, Images.readOnly())) {
                Images.load(md, SMQ);
            }
            assertThat(Images.bytes(dev)).as(name).isEqualTo(Vectors.image(name));
        }
    }
}
