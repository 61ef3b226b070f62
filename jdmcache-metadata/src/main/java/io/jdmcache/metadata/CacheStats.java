package io.jdmcache.metadata;

/** The four hit/miss counters kept in the superblock (u32 on disk: they wrap). */
public record CacheStats(long readHits, long readMisses, long writeHits, long writeMisses) {
    public static final CacheStats ZERO = new CacheStats(0, 0, 0, 0);

    public CacheStats {
        readHits &= 0xffffffffL;
        readMisses &= 0xffffffffL;
        writeHits &= 0xffffffffL;
        writeMisses &= 0xffffffffL;
    }
}
