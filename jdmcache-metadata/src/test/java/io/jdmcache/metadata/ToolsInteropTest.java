package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.pdata.testing.DumpXml;
import io.jdmcache.pdata.testing.Vectors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.jdmcache.metadata.Images.SMQ;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian's thin-provisioning-tools 0.9.0 and jdmcache agree on images both ways: images jdmcache writes
 * (both formats; empty, small, 65536 and 1,000,000 cache blocks; with hints, dirty blocks and discards) pass
 * {@code cache_check} and {@code cache_dump} shows exactly their mappings and hints (and, in format 1, their
 * dirty flags: 0.9.0 ignores the format 2 dirty bitset, so those are read back by jdmcache here and by the
 * kernel in KernelOracleTest). And an image made by {@code cache_restore}, changed and committed by
 * jdmcache, still passes the checker and dumps as expected.
 */
class ToolsInteropTest {
    private static final Pattern SB = Pattern.compile(
            "<superblock uuid=\"\" block_size=\"(\\d+)\" nr_cache_blocks=\"(\\d+)\" policy=\"([^\"]*)\" hint_width=\"(\\d+)\">");

    /** What a test wrote: per cache block the origin (-1 unmapped), dirty bits, hints, discards. */
    record Written(long[] origin, BitSet dirty, long[] hints, long discardBlockSize, long discardBlocks,
                   BitSet discards) {
    }

    @ParameterizedTest(name = "format {0}, {1} cache blocks")
    @CsvSource({"1, 0", "2, 0", "1, 1024", "2, 1024", "1, 65536", "2, 65536", "1, 1000000", "2, 1000000"})
    void jdmcacheImagesPassCacheCheckAndDumpAsWritten(int version, int blocks, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        sized(meta, Images.metadataBytes(blocks, 4));
        Written w;
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, false),
                MetadataOptions.readWrite(128).withFormatVersion(version))) {
            w = fill(md, blocks, new Random(blocks * 31L + version));
            md.commit(true);
        }
        CacheCheck.assertAccepted(meta, blocks, "format " + version + ", " + blocks + " blocks");
        if (blocks > 0) {
            assertDump(meta, version, w);
        }
        assertReadsBack(meta, version, w);
        try (FileBlockDevice dev = FileBlockDevice.open(meta, true)) {
            ImageWalker.walk(dev).assertExactCounts();
        }
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    void aCacheRestoreImageChangedByJdmcacheStillChecksAndDumps(int version, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("restored.img");
        sized(meta, 5 << 20);
        Path xml = Vectors.dir().resolve("xml-in/small.xml");
        ExternalTools.Result restore = ExternalTools.run("cache_restore", "-q", "-i", xml.toString(), "-o",
                meta.toString(), "--metadata-version", String.valueOf(version));
        assertThat(restore.rc()).as(restore.stderr()).isZero();
        DumpXml source = new DumpXml(Vectors.text(xml));

        // what the tools wrote, as jdmcache reads it
        long n = source.nrCacheBlocks;
        long[] origin = new long[(int) n];
        java.util.Arrays.fill(origin, -1);
        BitSet dirty = new BitSet();
        long[] hints = new long[(int) n];
        source.mappings.forEach((c, v) -> {
            origin[c.intValue()] = v[0];
            dirty.set(c.intValue(), v[1] == 1);
        });
        source.hints.forEach((c, h) -> hints[c.intValue()] = h);

        Random rnd = new Random(version);
        Written w;
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, false), MetadataOptions.readWrite(128))) {
            assertThat(md.version()).isEqualTo(version);
            assertThat(md.cleanWhenOpened()).isTrue();
            List<M> loaded = Images.load(md, SMQ);
            assertThat(loaded).hasSize(source.mappings.size());
            for (M m : loaded) {
                assertThat(m.oblock()).isEqualTo(origin[(int) m.cblock()]);
                assertThat(m.dirty()).isEqualTo(dirty.get((int) m.cblock()));
                assertThat(md.hint(m.cblock())).isEqualTo(hints[(int) m.cblock()]);
            }
            // remove a few, map a few new ones (origins far from the tools' range), grow, new dirty bits,
            // new hints, discards, statistics
            long[] o = java.util.Arrays.copyOf(origin, 1500);
            java.util.Arrays.fill(o, (int) n, 1500, -1);
            for (int i = 0; i < 50; i++) {
                int c = rnd.nextInt((int) n);
                if (o[c] >= 0) {
                    md.removeMapping(c);
                    o[c] = -1;
                }
            }
            md.resize(1500);
            for (int c = 0; c < 1500; c++) {
                if (o[c] < 0 && rnd.nextInt(5) == 0) {
                    o[c] = (1L << 30) + c;
                    md.insertMapping(c, o[c]);
                }
            }
            w = finish(md, o, rnd);
            md.commit(true);
        }
        CacheCheck.assertAccepted(meta, 1500, "restored image changed by jdmcache, format " + version);
        assertDump(meta, version, w);
        assertReadsBack(meta, version, w);
        // cache_restore's images leak a block in format 1 (format-spec 12.3): leaks are kept, never under-counts
        try (FileBlockDevice dev = FileBlockDevice.open(meta, true)) {
            ImageWalker.walk(dev).assertNoUnderCount();
        }
    }

    private static void sized(Path f, long bytes) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(bytes);
        }
    }

    /** Maps about 70% of the cache to distinct origins, then dirty bits, hints, discards and statistics. */
    private static Written fill(CacheMetadata md, int blocks, Random rnd) throws IOException {
        md.resize(blocks);
        long[] origin = new long[blocks];
        for (int c = 0; c < blocks; c++) {
            if (rnd.nextInt(10) < 7) {
                origin[c] = (c * 40503L + 17) & 0xffffffffffL;
                md.insertMapping(c, origin[c]);
            } else {
                origin[c] = -1;
            }
        }
        return finish(md, origin, rnd);
    }

    private static Written finish(CacheMetadata md, long[] origin, Random rnd) throws IOException {
        int blocks = origin.length;
        BitSet dirty = new BitSet(blocks);
        for (int c = 0; c < blocks; c++) {
            if (origin[c] >= 0 && rnd.nextInt(3) == 0) {
                dirty.set(c);
            }
        }
        long[] words = MetadataModel.words(dirty, blocks);
        md.setDirtyBits(words, blocks);
        long salt = rnd.nextLong();
        long[] hints = new long[blocks];
        for (int c = 0; c < blocks; c++) {
            hints[c] = MetadataWorkload.mix(salt + c) & 0xffffffffL;
        }
        md.writeHints(SMQ, c -> hints[(int) c]);
        // the kernel's discard geometry: the smallest power-of-two multiple of the block size giving
        // at most 16384 discard blocks over an origin of 4x the cache
        long originSectors = 4L * Math.max(blocks, 1) * 128;
        long dbs = 128;
        while (originSectors / dbs > 16384) {
            dbs *= 2;
        }
        long nrDiscards = (originSectors + dbs - 1) / dbs;
        md.resizeDiscards(dbs, nrDiscards);
        BitSet discards = new BitSet();
        for (int i = 0; i < nrDiscards / 7; i++) {
            int d = rnd.nextInt((int) nrDiscards);
            discards.set(d);
            md.setDiscard(d, true);
        }
        md.setStats(new CacheStats(1, 2, 3, 4));
        return new Written(origin, dirty, hints, dbs, nrDiscards, discards);
    }

    /** cache_dump shows the same superblock, mappings, hints and (format 1) dirty flags. */
    private static void assertDump(Path meta, int version, Written w) throws Exception {
        ExternalTools.Result dump = ExternalTools.run("cache_dump", meta.toString());
        assertThat(dump.rc()).as(dump.stderr()).isZero();
        String xml = dump.stdout();
        Matcher sb = SB.matcher(xml);
        assertThat(sb.find()).as("superblock line in\n" + xml.substring(0, Math.min(400, xml.length()))).isTrue();
        assertThat(sb.group(1)).isEqualTo("128");
        assertThat(Long.parseLong(sb.group(2))).isEqualTo(w.origin().length);
        assertThat(sb.group(3)).isEqualTo("smq");
        assertThat(sb.group(4)).isEqualTo("4");
        DumpXml d = new DumpXml(xml);
        Map<Long, Long> wantHints = new HashMap<>();
        int mapped = 0;
        for (int c = 0; c < w.origin().length; c++) {
            long o = w.origin()[c];
            long[] got = d.mappings.get((long) c);
            if (o < 0) {
                assertThat(got).as("cache block %d is unmapped", c).isNull();
                continue;
            }
            mapped++;
            assertThat(got).as("cache block %d is mapped", c).isNotNull();
            assertThat(got[0]).as("origin of cache block %d", c).isEqualTo(o);
            // 0.9.0 reads format 2 dirty state from the mapping, where format 2 never keeps it
            long wantDirty = version == 1 && w.dirty().get(c) ? 1 : 0;
            assertThat(got[1]).as("dirty flag of cache block %d in the dump", c).isEqualTo(wantDirty);
            wantHints.put((long) c, w.hints()[c]);
        }
        assertThat(d.mappings).hasSize(mapped);
        assertThat(d.hints).isEqualTo(wantHints);
    }

    /** jdmcache reads back exactly what it wrote: dirty bits of both formats, hints, discards, stats. */
    private static void assertReadsBack(Path meta, int version, Written w) throws IOException {
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, true), Images.readOnly128())) {
            assertThat(md.version()).isEqualTo(version);
            assertThat(md.cleanWhenOpened()).isTrue();
            List<M> want = new ArrayList<>();
            for (int c = 0; c < w.origin().length; c++) {
                if (w.origin()[c] >= 0) {
                    want.add(new M(w.origin()[c], c, w.dirty().get(c), w.hints()[c], true));
                }
            }
            assertThat(Images.load(md, SMQ)).isEqualTo(want);
            assertThat(md.discardBlockSize()).isEqualTo(w.discardBlockSize());
            assertThat(md.discardNrBlocks()).isEqualTo(w.discardBlocks());
            BitSet discards = new BitSet();
            md.loadDiscards((bs, d, on) -> discards.set((int) d, on));
            assertThat(discards).isEqualTo(w.discards());
            assertThat(md.stats()).isEqualTo(new CacheStats(1, 2, 3, 4));
            assertThat(md.committedSuperblock().policyHintSize()).isEqualTo(4);
            assertThat(md.committedSuperblock().policyVersion()).containsExactly(2, 0, 0);
        }
    }
}
