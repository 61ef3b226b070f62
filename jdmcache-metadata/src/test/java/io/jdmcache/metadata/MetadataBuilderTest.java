package io.jdmcache.metadata;

import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.pdata.testing.DumpXml;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Fresh images built in one go pass Debian's cache_check and dump back as built; jdmcache reads them. */
class MetadataBuilderTest {
    static final PolicyInfo SMQ = new PolicyInfo("smq", 2, 0, 0, 4);

    static long metadataBytes(long blocks) {
        long sectors = 8192 + blocks * 16 / 512 + blocks * 12 / 512;
        long bytes = sectors * 512;
        return (bytes + (1 << 20) - 1) / (1 << 20) * (1 << 20);
    }

    @ParameterizedTest(name = "v{0} {1} blocks")
    @CsvSource({"1,0", "2,0", "1,1024", "2,1024", "1,65536", "2,65536", "2,1000000"})
    void builtImagesPassTheReferenceChecker(int version, long blocks, @TempDir Path dir) throws Exception {
        Path img = dir.resolve("meta.img");
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(metadataBytes(blocks));
        }
        Random rnd = new Random(blocks * 31 + version);
        MetadataBuilder b = new MetadataBuilder(version, 128, blocks);
        b.setPolicy(SMQ);
        long[] oblock = new long[(int) blocks];
        boolean[] dirty = new boolean[(int) blocks];
        int[] hint = new int[(int) blocks];
        for (int c = 0; c < blocks; c++) {
            if (rnd.nextInt(10) < 7) {
                oblock[c] = (c * 40503L + 17) % (1 << 24) + 1;
                dirty[c] = rnd.nextInt(3) == 0;
                hint[c] = rnd.nextInt(64);
                b.setMapping(c, oblock[c], dirty[c]);
                b.setHint(c, hint[c]);
            }
        }
        b.setDiscardGeometry(1024, 300);
        b.setDiscarded(10, 20);
        b.setDiscarded(299, 300);
        try (FileBlockDevice dev = FileBlockDevice.open(img, false)) {
            b.write(dev, true);
        }
        ExternalTools.Result check = ExternalTools.run("cache_check", img.toString());
        if (blocks == 0) {
            // cache_check 0.9 cannot read any empty cache, its own included (vectors/zero-blocks-*)
            assertThat(check.stderr()).contains("missing mappings [1, 0]");
        } else {
            assertThat(check.rc()).as(check.stderr()).isZero();
        }
        if (blocks > 0 && blocks <= 65536) { // cache_dump 0.9 fails on empty caches too
            ExternalTools.Result dump = ExternalTools.run("cache_dump", img.toString());
            assertThat(dump.rc()).as(dump.stderr()).isZero();
            DumpXml x = new DumpXml(dump.stdout());
            assertThat(x.nrCacheBlocks).isEqualTo(blocks);
            int mapped = 0;
            for (int c = 0; c < blocks; c++) {
                if (oblock[c] != 0) {
                    mapped++;
                    long[] m = x.mappings.get((long) c);
                    assertThat(m).isNotNull();
                    assertThat(m[0]).isEqualTo(oblock[c]);
                    if (version == 1) {
                        assertThat(m[1] == 1).isEqualTo(dirty[c]);
                    }
                    assertThat(x.hints.get((long) c)).isEqualTo(hint[c]);
                }
            }
            assertThat(x.mappings).hasSize(mapped);
        }
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(img, true), MetadataOptions.readOnlyAny())) {
            List<long[]> got = new ArrayList<>();
            md.loadMappings(SMQ, (o, c, d, h, hv) -> {
                assertThat(hv).isTrue();
                got.add(new long[] {o, c, d ? 1 : 0, h});
            });
            for (long[] g : got) {
                int c = (int) g[1];
                assertThat(g[0]).isEqualTo(oblock[c]);
                assertThat(g[2] == 1).isEqualTo(dirty[c]);
                assertThat(g[3]).isEqualTo(hint[c]);
            }
            List<Long> disc = new ArrayList<>();
            md.loadDiscards((bs, d, on) -> {
                if (on) {
                    disc.add(d);
                }
            });
            assertThat(disc).hasSize(11).contains(10L, 19L, 299L);
        }
    }
}
