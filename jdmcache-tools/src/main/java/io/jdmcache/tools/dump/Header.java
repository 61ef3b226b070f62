package io.jdmcache.tools.dump;

/**
 * The superblock facts a dump shows or a repair keeps.
 *
 * @param uuid             the uuid bytes up to the first NUL (usually empty)
 * @param version          metadata format, 1 or 2
 * @param cleanShutdown    the clean-shutdown flag
 * @param dataBlockSize    cache block size in sectors
 * @param cacheBlocks      number of cache blocks
 * @param policy           policy name
 * @param policyVersion    major, minor, patch
 * @param hintWidth        hint size in bytes (a stored 0 reads as 4, as the reference tools do)
 * @param discardBlockSize discard block size in sectors (0 when there is no discard bitset)
 * @param discardNrBlocks  number of discard blocks
 * @param hasDiscards      whether any discard bit is set (read before the mappings so a writer can say so up front)
 */
public record Header(byte[] uuid, int version, boolean cleanShutdown, long dataBlockSize, long cacheBlocks,
                     String policy, int[] policyVersion, int hintWidth, long discardBlockSize,
                     long discardNrBlocks, boolean hasDiscards) {
}
