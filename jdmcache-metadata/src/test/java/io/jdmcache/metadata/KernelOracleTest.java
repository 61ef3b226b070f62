package io.jdmcache.metadata;

import io.jdmcache.pdata.io.FileBlockDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real kernel is the judge: it loads metadata jdmcache wrote (both formats) with the expected used and
 * dirty counts and serves mapped blocks from the cache device; after it writes and removes the device
 * cleanly, jdmcache reads the kernel's mappings, dirty bits and hints. The kernel also formats a zeroed
 * device that jdmcache then reads.
 */
@Tag("kernel")
class KernelOracleTest {
    static final int BS = 128;
    static final int BLOCK_BYTES = BS * 512;
    static final PolicyInfo SMQ = new PolicyInfo("smq", 2, 0, 0, 4);

    static final String GUEST = String.join("\n",
            "rd() { dd if=$DM_DEV bs=65536 skip=$1 count=1 2>/dev/null | head -n1; }",
            "for b in 7 10 11 12 100; do echo \"READ $b $(rd $b)\"; done",
            "for b in 10 50; do",
            "  yes \"guest wrote block $b\" | head -c 65536 > /tmp/blk",
            "  dd if=/tmp/blk of=$DM_DEV bs=65536 seek=$b oflag=direct 2>/dev/null",
            "done",
            "echo \"READ 50 $(rd 50)\"",
            "");

    record M(long oblock, long cblock, boolean dirty, long hint, boolean hintValid) {
    }

    static Map<Long, M> load(CacheMetadata md) throws Exception {
        Map<Long, M> out = new TreeMap<>();
        md.loadMappings(SMQ, (o, c, d, h, hv) -> out.put(c, new M(o, c, d, h, hv)));
        return out;
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    void kernelLoadsJdmcacheMetadataAndJdmcacheReadsTheKernelsChanges(int version, @TempDir Path dir)
            throws Exception {
        Path meta = dir.resolve("meta.img");
        Path cache = dir.resolve("cache.img");
        Path origin = dir.resolve("origin.img");
        KernelOracle.zeroFile(meta, 8 << 20);
        KernelOracle.fill(cache, 64, BLOCK_BYTES, "CACHE ");
        KernelOracle.fill(origin, 256, BLOCK_BYTES, "ORIGIN");
        MetadataOptions opts = MetadataOptions.readWrite(BS).withFormatVersion(version);
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, false), opts)) {
            md.resize(64);
            md.insertMapping(0, 10);
            md.insertMapping(1, 11);
            md.insertMapping(2, 100);
            md.insertMapping(5, 7);
            long[] dirty = {0b110};
            md.setDirtyBits(dirty, 64);
            md.writeHints(SMQ, c -> c == 5 ? 3 : 1);
            md.commit(true);
        }
        List<String> args = new ArrayList<>(List.of("--metadata", meta.toString(), "--cache", cache.toString(),
                "--origin", origin.toString(), "--block-size", String.valueOf(BS), "--no-migration",
                "--script", writeGuest(dir).toString()));
        if (version == 2) {
            args.add("--metadata2");
        }
        KernelOracle.Result r = KernelOracle.run(args);
        assertThat(r.rc()).as(r.all()).isZero();
        Map<String, String> first = r.summary(false);
        assertThat(first.get("used")).as(r.all()).isEqualTo("4");
        assertThat(first.get("dirty")).as(r.all()).isEqualTo("2");
        assertThat(first.get("total")).isEqualTo("64");
        // mapped blocks come from the cache device, the others from the origin
        assertThat(r.linesStartingWith("READ 7 ")).containsExactly("READ 7 CACHE  block 000005");
        assertThat(r.linesStartingWith("READ 10 ")).containsExactly("READ 10 CACHE  block 000000");
        assertThat(r.linesStartingWith("READ 11 ")).containsExactly("READ 11 CACHE  block 000001");
        assertThat(r.linesStartingWith("READ 12 ")).containsExactly("READ 12 ORIGIN block 000012");
        assertThat(r.linesStartingWith("READ 100 ")).containsExactly("READ 100 CACHE  block 000002");
        assertThat(r.linesStartingWith("READ 50 ")).containsExactly("READ 50 guest wrote block 50");
        Map<String, String> last = r.summary(true);

        // the kernel's clean shutdown, read back by jdmcache
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, true), MetadataOptions.readOnlyAny())) {
            assertThat(md.version()).isEqualTo(version);
            assertThat(md.cleanWhenOpened()).isTrue();
            assertThat(md.policyName()).isEqualTo("smq");
            Map<Long, M> got = load(md);
            assertThat(got).hasSize(Integer.parseInt(last.get("used")));
            assertThat(got.values().stream().filter(M::dirty).count()).isEqualTo(Long.parseLong(last.get("dirty")));
            assertThat(got.get(0L).oblock()).isEqualTo(10);
            assertThat(got.get(0L).dirty()).as("the kernel wrote block 10: dirty").isTrue();
            assertThat(got.values()).anySatisfy(m -> {
                assertThat(m.oblock()).isEqualTo(50);
                assertThat(m.dirty()).isTrue();
            });
            assertThat(got.values()).allMatch(M::hintValid);
            assertThat(md.committedSuperblock().policyHintSize()).isEqualTo(4);
            assertThat(md.committedSuperblock().policyVersion()[0]).isEqualTo(2);
        }
        // and Debian's checker agrees
        ExternalTools.Result check = ExternalTools.run("cache_check", meta.toString());
        assertThat(check.rc()).as(check.stderr()).isZero();
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    void kernelFormatsAZeroedDeviceThatJdmcacheReads(int version, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        Path cache = dir.resolve("cache.img");
        Path origin = dir.resolve("origin.img");
        KernelOracle.zeroFile(meta, 8 << 20);
        KernelOracle.fill(cache, 64, BLOCK_BYTES, "CACHE ");
        KernelOracle.fill(origin, 256, BLOCK_BYTES, "ORIGIN");
        List<String> args = new ArrayList<>(List.of("--metadata", meta.toString(), "--cache", cache.toString(),
                "--origin", origin.toString(), "--block-size", String.valueOf(BS), "--no-migration",
                "--script", writeGuest(dir).toString()));
        if (version == 2) {
            args.add("--metadata2");
        }
        KernelOracle.Result r = KernelOracle.run(args);
        assertThat(r.rc()).as(r.all()).isZero();
        Map<String, String> last = r.summary(true);
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, false), MetadataOptions.readWrite(BS))) {
            assertThat(md.version()).isEqualTo(version);
            assertThat(md.cacheBlocks()).isEqualTo(64);
            Map<Long, M> got = load(md);
            assertThat(got).hasSize(Integer.parseInt(last.get("used")));
            assertThat(got.values()).extracting(M::oblock).contains(10L, 50L);
            assertThat(got.values().stream().filter(M::dirty).count()).isEqualTo(Long.parseLong(last.get("dirty")));
            assertThat(md.totalMetadataBlocks()).isEqualTo(Long.parseLong(last.get("meta_total")));
            // the status before removal predates the final commit (hints, dirty bits), which adds blocks
            assertThat(md.totalMetadataBlocks() - md.freeMetadataBlocks())
                    .isBetween(Long.parseLong(last.get("meta_used")), Long.parseLong(last.get("meta_used")) + 8);
            // jdmcache can go on from the kernel's image: a change and a clean commit
            md.insertMapping(63, 200);
            md.commit(true);
        }
        ExternalTools.Result check = ExternalTools.run("cache_check", meta.toString());
        assertThat(check.rc()).as(check.stderr()).isZero();
    }

    private static Path writeGuest(Path dir) throws Exception {
        Path g = dir.resolve("guest.sh");
        Files.writeString(g, GUEST);
        return g;
    }
}
