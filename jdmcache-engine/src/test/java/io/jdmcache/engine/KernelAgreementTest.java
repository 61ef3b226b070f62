package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.metadata.KernelOracle;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real kernel agrees with the engine (through {@code ../shared/kernel-oracle}, Linux's dm-cache in qemu):
 * after the engine shuts down cleanly, with clean and dirty blocks cached, the kernel loads the metadata with
 * the same used and dirty counts, and every block read through the kernel's cache device has the same bytes as
 * read through jdmcache. Migrations are off in the kernel ({@code migration_threshold 0}) so its counts are
 * those it loaded.
 */
@Tag("kernel")
class KernelAgreementTest {
    static final int BS = 128;
    static final int BLOCK = BS * 512;
    static final int ORIGIN_BLOCKS = 96;
    static final int CACHE_BLOCKS = 32;

    @ParameterizedTest(name = "metadata format {0}")
    @ValueSource(ints = {1, 2})
    void kernelLoadsWhatTheEngineLeftAndReadsTheSameData(int version, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        Path cache = dir.resolve("cache.img");
        Path origin = dir.resolve("origin.img");
        KernelOracle.zeroFile(meta, 8 << 20);
        KernelOracle.fill(cache, CACHE_BLOCKS, BLOCK, "CACHE ");
        KernelOracle.fill(origin, ORIGIN_BLOCKS, BLOCK, "ORIGIN");
        CacheConfig cfg = CacheConfig.parse(meta + " " + cache + " " + origin + " " + BS + " "
                + (version == 2 ? "2 writeback metadata2" : "1 writeback") + " smq 0");
        EngineOptions noIdle = EngineOptions.DEFAULTS.withIdleNanos(Long.MAX_VALUE / 4);

        // 20 whole-block writes (promoted dirty), cleaned by the cleaner policy
        try (CacheDevice d = CacheDevice.open(cfg, noIdle)) {
            for (int b = 0; b < 20; b++) {
                d.write((long) b * BLOCK, ByteBuffer.wrap(block("first write", b)));
            }
        }
        try (CacheDevice d = CacheDevice.open(cfg.withPolicy("cleaner", List.of()), noIdle)) {
            CacheDeviceTest.waitClean(d);
        }
        int used;
        int dirty;
        List<String> expected = new ArrayList<>();
        try (CacheDevice d = CacheDevice.open(cfg, noIdle)) {
            // 8 more promoted dirty, 5 clean ones dirtied by partial writes, 6 uncached blocks written
            for (int b = 40; b < 48; b++) {
                d.write((long) b * BLOCK, ByteBuffer.wrap(block("second write", b)));
            }
            for (int b = 0; b < 5; b++) {
                d.write((long) b * BLOCK + 1000, ByteBuffer.wrap("partial write".getBytes(StandardCharsets.US_ASCII)));
            }
            for (int b = 80; b < 86; b++) {
                d.write((long) b * BLOCK + 7, ByteBuffer.wrap("origin write".getBytes(StandardCharsets.US_ASCII)));
            }
            used = d.residency();
            dirty = d.dirtyBlocks();
            for (int b = 0; b < ORIGIN_BLOCKS; b++) {
                ByteBuffer buf = ByteBuffer.allocate(BLOCK);
                d.read((long) b * BLOCK, buf);
                expected.add("MD5 " + b + " " + HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                        .digest(buf.array())));
            }
        }
        assertThat(used).isEqualTo(28);
        assertThat(dirty).isEqualTo(13);

        Path guest = dir.resolve("guest.sh");
        Files.writeString(guest, "b=0; while [ $b -lt " + ORIGIN_BLOCKS + " ]; do "
                + "echo \"MD5 $b $(dd if=$DM_DEV bs=" + BLOCK + " skip=$b count=1 2>/dev/null | md5sum | cut -d' ' -f1)\"; "
                + "b=$((b+1)); done\n");
        List<String> args = new ArrayList<>(List.of("--metadata", meta.toString(), "--cache", cache.toString(),
                "--origin", origin.toString(), "--block-size", String.valueOf(BS), "--mode", "writeback",
                "--no-migration", "--script", guest.toString()));
        if (version == 2) {
            args.add("--metadata2");
        }
        KernelOracle.Result r = KernelOracle.run(args);
        assertThat(r.rc()).as(r.all()).isZero();
        Map<String, String> first = r.summary(false);
        assertThat(first.get("used")).as(r.all()).isEqualTo(Integer.toString(used));
        assertThat(first.get("dirty")).as(r.all()).isEqualTo(Integer.toString(dirty));
        assertThat(first.get("total")).isEqualTo(Integer.toString(CACHE_BLOCKS));
        assertThat(r.linesStartingWith("MD5 ")).as(r.all()).containsExactlyElementsOf(expected);
    }

    static byte[] block(String tag, int b) {
        byte[] line = String.format("%s %06d\n", tag, b).getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[BLOCK];
        for (int i = 0; i < BLOCK; i++) {
            out[i] = line[i % line.length];
        }
        return out;
    }

}
