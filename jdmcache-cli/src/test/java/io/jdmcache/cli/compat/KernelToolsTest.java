package io.jdmcache.cli.compat;

import io.jdmcache.metadata.KernelOracle;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real kernel judges the tools: format 2 metadata made by {@code cache_restore} with dirty blocks loads
 * with the right dirty count; after {@code cache_writeback} the kernel accepts the cache in passthrough mode
 * (which it refuses while any block is dirty), reports 0 dirty, and reads the written-back data from the
 * origin.
 */
@Tag("kernel")
class KernelToolsTest {
    static final int BS = 128;
    static final int BLOCK_BYTES = BS * 512;

    static final String GUEST = String.join("\n",
            "rd() { dd if=$DM_DEV bs=65536 skip=$1 count=1 2>/dev/null | head -n1; }",
            "for b in 7 10 11 12 100; do echo \"READ $b $(rd $b)\"; done",
            "");

    @Test
    void restoredDirtyBlocksAreSeenByTheKernelAndWritebackCleansThem(@TempDir Path dir) throws Exception {
        Path xml = dir.resolve("in.xml");
        Files.writeString(xml, String.join("\n",
                "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"64\" policy=\"smq\" hint_width=\"4\">",
                "  <mappings>",
                "    <mapping cache_block=\"0\" origin_block=\"10\" dirty=\"false\"/>",
                "    <mapping cache_block=\"1\" origin_block=\"11\" dirty=\"true\"/>",
                "    <mapping cache_block=\"2\" origin_block=\"100\" dirty=\"true\"/>",
                "    <mapping cache_block=\"5\" origin_block=\"7\" dirty=\"true\"/>",
                "  </mappings>",
                "</superblock>", ""));
        Path meta = dir.resolve("meta.img");
        Path cache = dir.resolve("cache.img");
        Path origin = dir.resolve("origin.img");
        KernelOracle.zeroFile(meta, 8 << 20);
        KernelOracle.fill(cache, 64, BLOCK_BYTES, "CACHE ");
        KernelOracle.fill(origin, 256, BLOCK_BYTES, "ORIGIN");
        ToolRun restore = ToolRun.ours("cache_restore", "-i", xml.toString(), "-o", meta.toString(),
                "--metadata-version", "2");
        assertThat(restore.rc()).as(restore.err()).isZero();
        Path guest = dir.resolve("guest.sh");
        Files.writeString(guest, GUEST);

        KernelOracle.Result r = KernelOracle.run(args(meta, cache, origin, guest, "writeback"));
        assertThat(r.rc()).as(r.all()).isZero();
        Map<String, String> first = r.summary(false);
        assertThat(first.get("used")).as(r.all()).isEqualTo("4");
        assertThat(first.get("dirty")).as(r.all()).isEqualTo("3");
        assertThat(r.linesStartingWith("READ 11 ")).containsExactly("READ 11 CACHE  block 000001");
        assertThat(r.linesStartingWith("READ 12 ")).containsExactly("READ 12 ORIGIN block 000012");

        ToolRun wb = ToolRun.ours("cache_writeback", "--metadata-device", meta.toString(), "--origin-device",
                origin.toString(), "--fast-device", cache.toString());
        assertThat(wb.rc()).as(wb.err()).isZero();
        assertThat(wb.out()).contains("3/3 blocks successfully copied.");

        KernelOracle.Result p = KernelOracle.run(args(meta, cache, origin, guest, "passthrough"));
        assertThat(p.rc()).as("passthrough loads only when every block is clean\n" + p.all()).isZero();
        assertThat(p.summary(false).get("dirty")).isEqualTo("0");
        // passthrough reads come from the origin, which now holds the written-back cache blocks
        assertThat(p.linesStartingWith("READ 11 ")).containsExactly("READ 11 CACHE  block 000001");
        assertThat(p.linesStartingWith("READ 100 ")).containsExactly("READ 100 CACHE  block 000002");
        assertThat(p.linesStartingWith("READ 7 ")).containsExactly("READ 7 CACHE  block 000005");
        // the clean block was not copied: the origin still has its own data there
        assertThat(p.linesStartingWith("READ 10 ")).containsExactly("READ 10 ORIGIN block 000010");
        assertThat(ToolRun.ours("cache_check", meta.toString()).rc()).isZero();
    }

    private static List<String> args(Path meta, Path cache, Path origin, Path guest, String mode) {
        return new ArrayList<>(List.of("--metadata", meta.toString(), "--cache", cache.toString(), "--origin",
                origin.toString(), "--block-size", String.valueOf(BS), "--mode", mode, "--metadata2",
                "--no-migration", "--script", guest.toString()));
    }
}
