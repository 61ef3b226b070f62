package io.jdmcache.metadata;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.Vectors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Moving metadata images between reference vectors, memory devices and files, for tests. */
final class Images {
    static final PolicyInfo SMQ = new PolicyInfo("smq", 2, 0, 0, 4);

    private Images() {
    }

    /** A memory device holding the reference image {@code name}; read-only if asked. */
    static MemoryBlockDevice vector(String name, boolean readOnly) throws IOException {
        return memory(name, Vectors.image(name), readOnly);
    }

    static MemoryBlockDevice memory(String name, byte[] img, boolean readOnly) throws IOException {
        MemoryBlockDevice dev = new MemoryBlockDevice(name, img.length);
        dev.write(0, ByteBuffer.wrap(img));
        dev.setReadOnly(readOnly);
        return dev;
    }

    /** The whole contents of a device. */
    static byte[] bytes(MemoryBlockDevice dev) throws IOException {
        byte[] b = new byte[(int) dev.size()];
        dev.read(0, ByteBuffer.wrap(b));
        return b;
    }

    /** Writes a device's contents to a file (for the external tools). */
    static void toFile(MemoryBlockDevice dev, Path file) throws IOException {
        Files.write(file, bytes(dev));
    }

    /** Read-only, any data block size, a small block cache. */
    static MetadataOptions readOnly() {
        return MetadataOptions.readOnlyAny().withCacheBlocks(64);
    }

    /** Read-only, data block size 128 (every reference image uses it). */
    static MetadataOptions readOnly128() {
        return new MetadataOptions(128, 1, false, true, true, 64);
    }

    /** One loaded mapping. */
    record M(long oblock, long cblock, boolean dirty, long hint, boolean hintValid) {
    }

    static List<M> load(CacheMetadata md, PolicyInfo p) throws IOException {
        List<M> out = new ArrayList<>();
        md.loadMappings(p, (o, c, d, h, hv) -> out.add(new M(o, c, d, h, hv)));
        return out;
    }

    /** metadata sectors per cache_metadata_size (format-spec 3.7), in bytes rounded up to whole MiB. */
    static long metadataBytes(long nrCacheBlocks, int hintWidth) {
        long sectors = 8192 + nrCacheBlocks * 16 / 512 + nrCacheBlocks * (hintWidth + 8) / 512;
        long mib = 1 << 20;
        return (sectors * 512 + mib - 1) / mib * mib;
    }
}
