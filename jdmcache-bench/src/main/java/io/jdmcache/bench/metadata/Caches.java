package io.jdmcache.bench.metadata;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.metadata.PolicyInfo;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fully mapped 1M-block caches for the metadata benchmarks. */
final class Caches {
    static final int BLOCKS = 1_000_000;
    static final PolicyInfo SMQ = new PolicyInfo("smq", 2, 0, 0, 4);

    private Caches() {
    }

    /** cache_metadata_size for {@code blocks} with 4-byte hints, rounded up to MiB (format-spec 3.7). */
    static long metadataBytes(long blocks) {
        long sectors = 8192 + blocks * 16 / 512 + blocks * 12 / 512;
        return (sectors * 512 + (1 << 20) - 1) >> 20 << 20;
    }

    static long origin(long cblock) {
        return cblock * 40503L + 17;
    }

    /** Maps every cache block, marks every third dirty, writes hints. Leaves the transaction open. */
    static void fill(CacheMetadata md) throws IOException {
        md.resize(BLOCKS);
        long[] dirty = new long[(BLOCKS + 63) / 64];
        for (int c = 0; c < BLOCKS; c++) {
            md.insertMapping(c, origin(c));
            if (c % 3 == 0) {
                dirty[c >>> 6] |= 1L << c;
            }
        }
        md.setDirtyBits(dirty, BLOCKS);
        md.writeHints(SMQ, c -> c & 63);
    }

    /** A memory image of a fully mapped 1M-block cache in {@code version}, committed clean. */
    static MemoryBlockDevice image(int version) throws IOException {
        MemoryBlockDevice dev = new MemoryBlockDevice("bench", metadataBytes(BLOCKS));
        try (CacheMetadata md = CacheMetadata.open(dev, MetadataOptions.readWrite(128).withFormatVersion(version))) {
            fill(md);
            md.commit(true);
        }
        return dev;
    }

    /** The image in a temporary file (deleted on exit). */
    static Path toFile(MemoryBlockDevice img) throws IOException {
        Path f = Files.createTempFile("jdmcache-bench", ".meta");
        f.toFile().deleteOnExit();
        try (RandomAccessFile out = new RandomAccessFile(f.toFile(), "rw")) {
            byte[] buf = new byte[1 << 20];
            for (long off = 0; off < img.size(); off += buf.length) {
                int n = (int) Math.min(buf.length, img.size() - off);
                img.read(off, ByteBuffer.wrap(buf, 0, n));
                out.write(buf, 0, n);
            }
        }
        return f;
    }

    /** A writable device holding a copy of {@code img}: in memory or in a temporary file. */
    static BlockDevice writableCopy(MemoryBlockDevice img, String kind) throws IOException {
        if (kind.equals("memory")) {
            return img.copy();
        }
        return FileBlockDevice.open(toFile(img), false);
    }
}
