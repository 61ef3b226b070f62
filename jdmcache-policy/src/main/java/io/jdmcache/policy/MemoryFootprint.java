package io.jdmcache.policy;

/**
 * Bytes held in a policy's primitive arrays, from their actual lengths (array object headers excluded).
 *
 * @param cacheBlocks      number of cache blocks
 * @param cacheEntryBytes  per-cache-block state: mapping (oblock), queue links, level and flags, hash chain
 *                         and buckets, hit bits, plus the 256 sentinel entries
 * @param hotspotBlocks    number of hotspot blocks (the promotion filter's coarse regions)
 * @param hotspotBytes     hotspot state: its entries, hash table and hit bits
 * @param trackerBytes     the background work tracker (fixed size, independent of the cache size)
 */
public record MemoryFootprint(long cacheBlocks, long cacheEntryBytes, long hotspotBlocks, long hotspotBytes,
                              long trackerBytes) {

    /** Everything. */
    public long totalBytes() {
        return cacheEntryBytes + hotspotBytes + trackerBytes;
    }

    /** Mapping plus policy state per cache block, hotspot excluded. */
    public double cacheBytesPerBlock() {
        return cacheBlocks == 0 ? 0 : (double) cacheEntryBytes / cacheBlocks;
    }

    /** Hotspot state divided by the number of cache blocks (it is sized from them). */
    public double hotspotBytesPerCacheBlock() {
        return cacheBlocks == 0 ? 0 : (double) hotspotBytes / cacheBlocks;
    }

    /** Everything divided by the number of cache blocks. */
    public double totalBytesPerCacheBlock() {
        return cacheBlocks == 0 ? 0 : (double) totalBytes() / cacheBlocks;
    }
}
