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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata written while the wtlfu policy runs (promotions of whole-block writes and of read misses, blocks
 * dirtied by partial writes, a clean shutdown that stores wtlfu's name, version and hints) is loaded by the real
 * Linux kernel with {@code smq} in the table (through {@code ../shared/kernel-oracle}): the same used and dirty
 * counts, and every block reads the same bytes through the kernel's cache device as through jdmcache. The kernel
 * ignores the other policy's hints; migrations are off in the kernel so its counts are those it loaded. Then
 * jdmcache opens what the kernel left, under wtlfu again, with the same counts.
 */
@Tag("kernel")
class WtlfuKernelTest {
    static final int BS = KernelAgreementTest.BS;
    static final int BLOCK = KernelAgreementTest.BLOCK;
    static final int ORIGIN_BLOCKS = 96;
    static final int CACHE_BLOCKS = 32;

    @Test
    void theKernelLoadsWhatWtlfuLeft(@TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        Path cache = dir.resolve("cache.img");
        Path origin = dir.resolve("origin.img");
        KernelOracle.zeroFile(meta, 8 << 20);
        KernelOracle.fill(cache, CACHE_BLOCKS, BLOCK, "CACHE ");
        KernelOracle.fill(origin, ORIGIN_BLOCKS, BLOCK, "ORIGIN");
        CacheConfig cfg = CacheConfig.parse(meta + " " + cache + " " + origin + " " + BS
                + " 2 writeback metadata2 wtlfu 0");
        EngineOptions noIdle = EngineOptions.DEFAULTS.withIdleNanos(Long.MAX_VALUE / 4);

        int used;
        int dirty;
        List<String> expected = new ArrayList<>();
        try (CacheDevice d = CacheDevice.open(cfg, noIdle)) {
            assertThat(d.status()).contains(" wtlfu 6 window_percent 0 adaptive_window 0 duel 1 ");
            // 12 whole-block writes (promoted dirty), 8 blocks read until promoted (clean), 3 of them dirtied
            for (int b = 0; b < 12; b++) {
                d.write((long) b * BLOCK, ByteBuffer.wrap(KernelAgreementTest.block("wtlfu write", b)));
            }
            for (int round = 0; round < 4; round++) {
                for (int b = 40; b < 48; b++) {
                    d.read((long) b * BLOCK + 512 * round, ByteBuffer.allocate(4096));
                }
                quiesce(d);
            }
            for (int b = 40; b < 43; b++) {
                d.write((long) b * BLOCK + 1000, ByteBuffer.wrap("partial write".getBytes(StandardCharsets.US_ASCII)));
            }
            quiesce(d);
            used = d.residency();
            dirty = d.dirtyBlocks();
            for (int b = 0; b < ORIGIN_BLOCKS; b++) {
                ByteBuffer buf = ByteBuffer.allocate(BLOCK);
                d.read((long) b * BLOCK, buf);
                expected.add("MD5 " + b + " " + HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                        .digest(buf.array())));
            }
            quiesce(d);
            used = d.residency();
            dirty = d.dirtyBlocks();
        }
        System.out.printf("wtlfu left %d of %d cache blocks used, %d dirty%n", used, CACHE_BLOCKS, dirty);
        assertThat(dirty).as("whole-block and partial writes left dirty blocks").isGreaterThanOrEqualTo(15);
        assertThat(used).as("read misses were promoted too").isGreaterThan(dirty);

        Path guest = dir.resolve("guest.sh");
        Files.writeString(guest, "b=0; while [ $b -lt " + ORIGIN_BLOCKS + " ]; do "
                + "echo \"MD5 $b $(dd if=$DM_DEV bs=" + BLOCK + " skip=$b count=1 2>/dev/null | md5sum | cut -d' ' -f1)\"; "
                + "b=$((b+1)); done\n");
        KernelOracle.Result r = KernelOracle.run(List.of("--metadata", meta.toString(), "--cache", cache.toString(),
                "--origin", origin.toString(), "--block-size", String.valueOf(BS), "--mode", "writeback",
                "--metadata2", "--policy", "smq", "--no-migration", "--script", guest.toString()));
        assertThat(r.rc()).as(r.all()).isZero();
        Map<String, String> first = r.summary(false);
        assertThat(first.get("used")).as(r.all()).isEqualTo(Integer.toString(used));
        assertThat(first.get("dirty")).as(r.all()).isEqualTo(Integer.toString(dirty));
        assertThat(first.get("total")).isEqualTo(Integer.toString(CACHE_BLOCKS));
        assertThat(r.linesStartingWith("MD5 ")).as(r.all()).containsExactlyElementsOf(expected);

        try (CacheDevice d = CacheDevice.open(cfg, noIdle)) {
            assertThat(d.residency()).as("wtlfu loads what the kernel left").isEqualTo(used);
            assertThat(d.dirtyBlocks()).isEqualTo(dirty);
        }
    }

    /** Waits until the migration worker has nothing left to do (residency steady for a while). */
    private static void quiesce(CacheDevice d) throws InterruptedException {
        int last = -1;
        int steady = 0;
        for (int i = 0; i < 400 && steady < 10; i++) {
            int now = d.residency() * 100_000 + d.dirtyBlocks();
            steady = now == last ? steady + 1 : 0;
            last = now;
            Thread.sleep(20);
        }
    }
}
