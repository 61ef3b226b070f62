package io.jdmcache.sim.policy;

/**
 * What one policy did with one trace and cache size.
 *
 * @param policy      the policy's name
 * @param cacheBlocks the cache size in blocks
 * @param accesses    accesses replayed (discards not counted)
 * @param hits        accesses whose block was in the cache
 * @param fills       blocks written into the cache: admissions of a demand-fill policy, promotions of the
 *                    engine's policies
 */
public record SimResult(String policy, int cacheBlocks, long accesses, long hits, long fills) {
    public double hitRatio() {
        return accesses == 0 ? 0 : (double) hits / accesses;
    }

    /** Fills per 1,000 accesses. */
    public double fillsPerThousand() {
        return accesses == 0 ? 0 : 1000.0 * fills / accesses;
    }
}
