package io.jdmcache.metadata;

import io.jdmcache.pdata.io.FileBlockDevice;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exact-dirty marker: committed dirty bits are trusted after an unclean stop only when the last commit
 * carried it; a commit without it, or an in-place flag change, removes it; Debian's cache_check and cache_dump
 * accept an image that carries it; and the kernel ignores it (loading every mapping dirty after an unclean
 * stop) and removes it at its first commit.
 */
class ExactDirtyMarkerTest {
    static final int BS = 128;
    static final PolicyInfo SMQ = new PolicyInfo("smq", 2, 0, 0, 4);

    /** origin block by cache block, and which are dirty, as loaded. */
    static Map<Long, Boolean> dirtyByCblock(CacheMetadata md) throws Exception {
        Map<Long, Boolean> out = new HashMap<>();
        md.loadMappings(SMQ, (o, c, d, h, hv) -> out.put(c, d));
        return out;
    }

    static CacheMetadata open(Path meta, int version) throws Exception {
        return CacheMetadata.open(FileBlockDevice.open(meta, false),
                MetadataOptions.readWrite(BS).withFormatVersion(version));
    }

    /** Four mappings (cache blocks 0, 1, 2, 70), block 1 and 70 dirty, committed unclean with the marker. */
    static void writeUncleanExact(Path meta, int version) throws Exception {
        KernelOracle.zeroFile(meta, 8 << 20);
        try (CacheMetadata md = open(meta, version)) {
            md.resize(80);
            md.insertMapping(0, 10);
            md.insertMapping(1, 11);
            md.insertMapping(2, 100);
            md.insertMapping(70, 7);
            md.setDirtyBits(new long[2], 80);
            md.setDirtyWords(new long[] {0, 1}, new long[] {0b10, 1L << 6}, 2);
            md.commit(false, true);
        }
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    void markedBitsAreTrustedAfterAnUncleanStopAndUnmarkedOnesAreNot(int version, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        writeUncleanExact(meta, version);
        try (CacheMetadata md = open(meta, version)) {
            assertThat(md.cleanWhenOpened()).isFalse();
            assertThat(md.exactDirtyWhenOpened()).isTrue();
            assertThat(dirtyByCblock(md)).isEqualTo(Map.of(0L, false, 1L, true, 2L, false, 70L, true));
            // only some words rewritten: block 1 clean, block 2 dirty
            md.setDirtyWords(new long[] {0}, new long[] {0b100}, 1);
            md.commit(false, true);
        }
        try (CacheMetadata md = open(meta, version)) {
            assertThat(dirtyByCblock(md)).isEqualTo(Map.of(0L, false, 1L, false, 2L, true, 70L, true));
            md.commit(false); // a commit without the marker: the kernel's all-dirty rule again
        }
        try (CacheMetadata md = open(meta, version)) {
            assertThat(md.exactDirtyWhenOpened()).isFalse();
            assertThat(dirtyByCblock(md)).isEqualTo(Map.of(0L, true, 1L, true, 2L, true, 70L, true));
        }
    }

    @Test
    void inPlaceFlagChangesRemoveTheMarker(@TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        writeUncleanExact(meta, 2);
        try (CacheMetadata md = open(meta, 2)) {
            md.setNeedsCheck(); // what a failed metadata operation does
        }
        try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(meta, true), Images.readOnly128())) {
            assertThat(md.exactDirtyWhenOpened()).isFalse();
            assertThat(dirtyByCblock(md).values()).containsOnly(true);
        }
        // a clean stop with the marker; the next open clears the clean flag in place, dropping the marker,
        // so a crash before the opener's first commit loads every block dirty
        writeUncleanExact(meta, 2);
        try (CacheMetadata md = open(meta, 2)) {
            md.commit(true, true);
        }
        try (CacheMetadata md = open(meta, 2)) {
            assertThat(md.cleanWhenOpened()).isTrue();
        }
        try (CacheMetadata md = open(meta, 2)) {
            assertThat(md.cleanWhenOpened()).isFalse();
            assertThat(md.exactDirtyWhenOpened()).isFalse();
            assertThat(dirtyByCblock(md).values()).containsOnly(true);
        }
    }

    @Test
    void aMarkerThatDoesNotMatchTheRootsIsIgnored(@TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        writeUncleanExact(meta, 2);
        byte[] b = Files.readAllBytes(meta);
        assertThat(Superblock.exactDirtyMarker(b)).isTrue();
        b[Superblock.EXACT_DIRTY_OFFSET + 8] ^= 1; // the copy of the mapping root
        assertThat(Superblock.exactDirtyMarker(b)).isFalse();
        b[Superblock.EXACT_DIRTY_OFFSET + 8] ^= 1;
        b[192] ^= 1; // the mapping root itself
        assertThat(Superblock.exactDirtyMarker(b)).isFalse();
    }

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    void debiansCheckAndDumpAcceptAMarkedImage(int version, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        writeUncleanExact(meta, version);
        assertThat(Superblock.exactDirtyMarker(Files.readAllBytes(meta))).isTrue();
        ExternalTools.Result check = ExternalTools.run("cache_check", meta.toString());
        assertThat(check.rc()).as(check.stdout() + check.stderr()).isZero();
        ExternalTools.Result dump = ExternalTools.run("cache_dump", meta.toString());
        assertThat(dump.rc()).as(dump.stderr()).isZero();
        assertThat(dump.stdout()).contains("<mapping cache_block=\"0\" origin_block=\"10\"")
                .contains("<mapping cache_block=\"70\" origin_block=\"7\"");
    }

    @Tag("kernel")
    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    void theKernelIgnoresTheMarkerAndRemovesItAtItsFirstCommit(int version, @TempDir Path dir) throws Exception {
        Path meta = dir.resolve("meta.img");
        Path cache = dir.resolve("cache.img");
        Path origin = dir.resolve("origin.img");
        writeUncleanExact(meta, version);
        KernelOracle.fill(cache, 80, BS * 512, "CACHE ");
        KernelOracle.fill(origin, 256, BS * 512, "ORIGIN");
        // the guest waits for the kernel's periodic commit (its table load marked the transaction changed),
        // then reads the marker's bytes straight from the metadata device, before the clean-stop commit
        Path guest = dir.resolve("guest.sh");
        Files.writeString(guest, String.join("\n",
                "sleep 4",
                "echo \"MARKER $(dd if=$META_DEV bs=4096 count=1 iflag=direct 2>/dev/null | od -A n -v -t x1 -j "
                        + Superblock.EXACT_DIRTY_OFFSET + " -N 24 | tr -d ' \\n')\"",
                ""));
        List<String> args = new ArrayList<>(List.of("--metadata", meta.toString(), "--cache", cache.toString(),
                "--origin", origin.toString(), "--block-size", String.valueOf(BS), "--no-migration",
                "--script", guest.toString()));
        if (version == 2) {
            args.add("--metadata2");
        }
        KernelOracle.Result r = KernelOracle.run(args);
        assertThat(r.rc()).as(r.all()).isZero();
        // an unclean stop: the kernel loads every mapping dirty, marker or not
        assertThat(r.summary(false).get("used")).as(r.all()).isEqualTo("4");
        assertThat(r.summary(false).get("dirty")).as(r.all()).isEqualTo("4");
        List<String> marker = r.linesStartingWith("MARKER ");
        assertThat(marker).as(r.all()).hasSize(1);
        assertThat(marker.get(0).substring(7).trim()).as(r.all()).isEqualTo("0".repeat(48));
        byte[] after = Files.readAllBytes(meta);
        assertThat(Superblock.exactDirtyMarker(after)).isFalse();
        try (RandomAccessFile f = new RandomAccessFile(meta.toFile(), "r")) {
            byte[] pad = new byte[24];
            f.seek(Superblock.EXACT_DIRTY_OFFSET);
            f.readFully(pad);
            assertThat(pad).containsOnly((byte) 0);
        }
    }
}
