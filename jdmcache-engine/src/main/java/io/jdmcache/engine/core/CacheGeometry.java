package io.jdmcache.engine.core;

/**
 * The block arithmetic of a cache: its block size, how many cache and origin blocks it has, and how a request
 * is cut into pieces that each lie within one cache block. The tail of the origin that does not fill a whole
 * cache block (from {@code originBlocks * blockBytes} to {@code size}) is never cached.
 *
 * @param blockBytes   the cache block size in bytes
 * @param blockSectors the cache block size in 512-byte sectors
 * @param cacheBlocks  blocks on the cache device
 * @param originBlocks whole cache blocks of the origin (the cacheable part)
 * @param size         the cache's size in bytes (the origin's, or the table line's length)
 */
public record CacheGeometry(long blockBytes, long blockSectors, int cacheBlocks, long originBlocks, long size) {

    /** The origin block holding byte {@code pos}. */
    public long block(long pos) {
        return pos / blockBytes;
    }

    /** The first byte of origin block {@code b}. */
    public long start(long b) {
        return b * blockBytes;
    }

    /** Where byte {@code in} of cache block {@code c} lies on the cache device. */
    public long cacheOffset(int c, long in) {
        return c * blockBytes + in;
    }

    /** Whether origin block {@code b} can be cached (it is not the partial tail of the origin). */
    public boolean cacheable(long b) {
        return b < originBlocks;
    }

    /** The length of the piece that starts at {@code pos} and ends at {@code end} or at its block's end. */
    public int pieceLength(long pos, long end) {
        long in = pos % blockBytes;
        return (int) Math.min(end - pos, blockBytes - in);
    }

    /** The first cacheable block that {@code [offset, offset + length)} covers wholly. */
    public long firstWholeBlock(long offset) {
        return (offset + blockBytes - 1) / blockBytes;
    }

    /** One past the last cacheable block that {@code [offset, offset + length)} covers wholly. */
    public long endWholeBlock(long offset, long length) {
        return Math.min((offset + length) / blockBytes, originBlocks);
    }
}
