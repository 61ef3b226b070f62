package io.jdmcache.metadata;

/**
 * How to open cache metadata.
 *
 * @param dataBlockSize     cache block size in sectors; must equal the stored one when the metadata exists
 * @param formatVersion     1 or 2: used only when an all-zero device is formatted
 * @param mayFormat         format an all-zero superblock (the kernel target always may)
 * @param readOnly          open without write access: nothing is written, not even the in-place flag update
 * @param allowOversized    accept a device larger than the space map can address, using only the first
 *                          {@value io.jdmcache.pdata.sm.MetadataSpaceMap#MAX_BLOCKS} blocks (as the kernel
 *                          does); otherwise such a device is refused
 * @param cacheBlocks       block cache size of the block manager, in 4 KiB blocks
 */
public record MetadataOptions(long dataBlockSize, int formatVersion, boolean mayFormat, boolean readOnly,
                              boolean allowOversized, int cacheBlocks) {
    public static final int DEFAULT_CACHE_BLOCKS = 4096;

    public MetadataOptions {
        if (formatVersion < Superblock.MIN_VERSION || formatVersion > Superblock.MAX_VERSION) {
            throw new IllegalArgumentException("metadata format version " + formatVersion + " (1 or 2)");
        }
    }

    /** Read-write, may format, format version 1. */
    public static MetadataOptions readWrite(long dataBlockSize) {
        return new MetadataOptions(dataBlockSize, 1, true, false, false, DEFAULT_CACHE_BLOCKS);
    }

    /** Read-only, any data block size (0 = take what is stored), never formats. */
    public static MetadataOptions readOnlyAny() {
        return new MetadataOptions(0, 1, false, true, true, DEFAULT_CACHE_BLOCKS);
    }

    public MetadataOptions withFormatVersion(int v) {
        return new MetadataOptions(dataBlockSize, v, mayFormat, readOnly, allowOversized, cacheBlocks);
    }

    public MetadataOptions withAllowOversized(boolean allow) {
        return new MetadataOptions(dataBlockSize, formatVersion, mayFormat, readOnly, allow, cacheBlocks);
    }

    public MetadataOptions withCacheBlocks(int n) {
        return new MetadataOptions(dataBlockSize, formatVersion, mayFormat, readOnly, allowOversized, n);
    }
}
