package io.jdmcache.metadata;

import io.jdmcache.pdata.io.FileBlockDevice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * One shared, reference-counted {@link CacheMetadata} per metadata device (the kernel's metadata list that
 * lets an inactive and an active table share the object). A device is identified by its file key (device
 * and inode) or, where the file system has none, its real path. Thread-safe.
 */
public final class MetadataRegistry {
    private static final MetadataRegistry GLOBAL = new MetadataRegistry();
    private final Map<Object, CacheMetadata> open = new HashMap<>();

    /** The process-wide registry. */
    public static MetadataRegistry global() {
        return GLOBAL;
    }

    /**
     * Opens the metadata on {@code path}, or returns the object already open for that device with one more
     * holder. A second open must ask for the same data block size (0 accepts any) and may not ask for write
     * access to an object opened read-only; its other options are ignored, as in the kernel.
     */
    public synchronized CacheMetadata open(Path path, MetadataOptions options) throws IOException {
        Object key = keyOf(path);
        CacheMetadata m = open.get(key);
        if (m != null) {
            long have = m.openedDataBlockSize();
            if (options.dataBlockSize() > 0 && have != options.dataBlockSize()) {
                throw new InvalidSuperblockException("data_block_size", path + ": changing the data block size (from "
                        + have + " to " + options.dataBlockSize() + ") is not supported");
            }
            if (!options.readOnly() && m.options().readOnly()) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, path
                        + ": already open read-only in this process");
            }
            m.retain();
            return m;
        }
        FileBlockDevice dev = FileBlockDevice.open(path, options.readOnly());
        try {
            m = CacheMetadata.open(dev, options, this, key);
        } catch (IOException | RuntimeException e) {
            dev.close();
            throw e;
        }
        open.put(key, m);
        return m;
    }

    /** Number of devices open through this registry. */
    public synchronized int openDevices() {
        return open.size();
    }

    /** Drops one holder of {@code m}; the last one tears it down. A release after that does nothing. */
    synchronized void release(CacheMetadata m) throws IOException {
        if (m.releaseReference() == 0) {
            // only this object: a newer one may have been opened for the same device since
            open.remove(m.registryKey(), m);
            m.teardown();
        }
    }

    private static Object keyOf(Path path) throws IOException {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        Object k = a.fileKey();
        return k != null ? k : path.toRealPath();
    }
}
