package io.jdmcache.bench.policy;

/**
 * What one policy did with one trace.
 *
 * @param policy         column name
 * @param ios            I/Os replayed
 * @param hits           I/Os served from the cache
 * @param lateIos        I/Os in the second half of the trace
 * @param lateHits       hits among them (steady state, after warm-up)
 * @param promotions     completed promotions (blocks copied into the cache)
 * @param demotions      completed demotions
 * @param writebacks     completed write-backs
 * @param dirtyAtStart   dirty blocks before the first I/O (preloaded)
 * @param dirtyAtEnd     dirty blocks after the last I/O
 */
record ReplayResult(String policy, long ios, long hits, long lateIos, long lateHits, long promotions,
                    long demotions, long writebacks, long dirtyAtStart, long dirtyAtEnd) {

    double hitRatio() {
        return ios == 0 ? 0 : (double) hits / ios;
    }

    double lateHitRatio() {
        return lateIos == 0 ? 0 : (double) lateHits / lateIos;
    }
}
