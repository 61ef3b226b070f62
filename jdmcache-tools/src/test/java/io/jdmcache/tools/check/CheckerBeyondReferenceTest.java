package io.jdmcache.tools.check;

import io.jdmcache.metadata.ExternalTools;
import io.jdmcache.metadata.Superblock;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.Checksums;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.pdata.sm.BitmapBlock;
import io.jdmcache.pdata.testing.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Damage Debian's cache_check 0.9 misses and jdmcache's checker finds, on the same image. */
class CheckerBeyondReferenceTest {

    static String check(Path img) throws Exception {
        try (FileBlockDevice dev = FileBlockDevice.open(img, true)) {
            CheckReport r = CacheChecker.check(dev, CheckOptions.ALL);
            StringBuilder sb = new StringBuilder(r.failed() ? "FAILED\n" : "PASSED\n");
            r.lines().forEach(l -> sb.append(l.text()).append('\n'));
            return sb.toString();
        }
    }

    @Test
    void aMissingReferenceCountIsFound(@TempDir Path dir) throws Exception {
        byte[] img = Vectors.image("small-v2");
        Superblock sb = Superblock.unpack(Arrays.copyOf(img, 4096));
        // the bitmap is block 3 (format-spec 11.1); drop the count of the mapping root to 0
        int bitmap = 3 * 4096;
        long mappingRoot = sb.mappingRoot();
        byte[] blk = Arrays.copyOfRange(img, bitmap, bitmap + 4096);
        int word = 16 + 8 * (int) (mappingRoot / 32);
        long w = Bytes.i64(blk, word);
        int p = 2 * (int) (mappingRoot % 32);
        w &= ~(3L << p);
        Bytes.put64(blk, word, w);
        Checksums.stamp(blk, BitmapBlock.SALT);
        System.arraycopy(blk, 0, img, bitmap, 4096);
        Path f = dir.resolve("bad-refcount.img");
        Files.write(f, img);

        ExternalTools.Result debian = ExternalTools.run("cache_check", f.toString());
        assertThat(debian.rc()).as("Debian's cache_check 0.9 does not look at reference counts").isZero();
        String ours = check(f);
        assertThat(ours).startsWith("FAILED")
                .contains("block " + mappingRoot + " (mapping array) is referenced 1 times but its reference count is 0");
    }

    @Test
    void aDamagedDirtyBitsetIsFound(@TempDir Path dir) throws Exception {
        byte[] img = Vectors.image("small-v2");
        Superblock sb = Superblock.unpack(Arrays.copyOf(img, 4096));
        long dirtyRoot = sb.dirtyRoot();
        // the dirty bitset's root leaf points at its single array block; zero that block
        long ablock = Bytes.i64(img, (int) dirtyRoot * 4096 + 32 + 8 * 252);
        Arrays.fill(img, (int) ablock * 4096, (int) ablock * 4096 + 4096, (byte) 0);
        Path f = dir.resolve("bad-dirty.img");
        Files.write(f, img);

        ExternalTools.Result debian = ExternalTools.run("cache_check", f.toString());
        assertThat(debian.rc()).as("Debian's cache_check 0.9 does not read the dirty bitset").isZero();
        String ours = check(f);
        assertThat(ours).startsWith("FAILED").contains("examining dirty bitset")
                .contains("missing dirty bits [0, 1023]").contains("array block (block " + ablock);
    }
}
