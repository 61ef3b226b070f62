package io.jdmcache.engine.core;

import io.jdmcache.metadata.CacheStats;

/**
 * The engine's counters at one moment (what the status line and the metrics print).
 *
 * @param io              read hits, read misses, write hits, write misses, the ones stored in the metadata included
 * @param demotions       clean blocks dropped from the cache
 * @param promotions      blocks copied (or written whole) into the cache
 * @param writebacks      dirty blocks copied back to the origin
 * @param writebackWrites origin writes that carried write-backs (adjacent ones are merged)
 * @param commits         metadata transactions committed
 * @param migrationErrors migrations that failed (promotions, demotions, write-backs, whole-block writes that
 *                        were to be promoted)
 * @param backgroundCommitErrors periodic commits (the timer's) that failed
 */
public record Counters(CacheStats io, long demotions, long promotions, long writebacks, long writebackWrites,
                       long commits, long migrationErrors, long backgroundCommitErrors) {
}
