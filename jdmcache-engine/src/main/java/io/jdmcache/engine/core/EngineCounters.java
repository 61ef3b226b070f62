package io.jdmcache.engine.core;

import io.jdmcache.metadata.CacheStats;

import java.util.concurrent.atomic.LongAdder;

/**
 * The engine's live counters (contention-free adders, summed when read). The four I/O counters continue the
 * ones stored in the metadata ({@code base}); {@link #snapshot()} gives them all at once for status and metrics.
 */
public final class EngineCounters {
    /** The superblock keeps 32-bit counters. */
    private static final long MASK = 0xffffffffL;

    private final CacheStats base;
    private final LongAdder readHits = new LongAdder();
    private final LongAdder readMisses = new LongAdder();
    private final LongAdder writeHits = new LongAdder();
    private final LongAdder writeMisses = new LongAdder();
    private final LongAdder demotions = new LongAdder();
    private final LongAdder promotions = new LongAdder();
    private final LongAdder writebacks = new LongAdder();
    private final LongAdder writebackWrites = new LongAdder();
    private final LongAdder commits = new LongAdder();
    private final LongAdder migrationErrors = new LongAdder();
    private final LongAdder backgroundCommitErrors = new LongAdder();
    /**
     * Read and write misses counted by each thread: a caller reads it before and after a request (which runs on
     * its thread) to learn whether any of the request's blocks missed. Only misses pay for the look-up, and a
     * miss goes to the origin anyway.
     */
    private final ThreadLocal<long[]> threadMisses = ThreadLocal.withInitial(() -> new long[1]);

    /** @param base the counters stored in the metadata when it was opened */
    public EngineCounters(CacheStats base) {
        this.base = base;
    }

    public void readHit() {
        readHits.increment();
    }

    public void readMiss() {
        readMisses.increment();
        threadMisses.get()[0]++;
    }

    public void writeHit() {
        writeHits.increment();
    }

    public void writeMiss() {
        writeMisses.increment();
        threadMisses.get()[0]++;
    }

    /** The read and write misses the calling thread has counted so far. */
    public long threadMisses() {
        return threadMisses.get()[0];
    }

    public void demoted() {
        demotions.increment();
    }

    public void promoted() {
        promotions.increment();
    }

    /** {@code blocks} written back by one origin write. */
    public void wroteBack(int blocks) {
        writebackWrites.increment();
        writebacks.add(blocks);
    }

    public void committed() {
        commits.increment();
    }

    /** {@code items} migrations failed (see {@link BackgroundFailures}). */
    public void migrationsFailed(int items) {
        migrationErrors.add(items);
    }

    /** A periodic commit failed (see {@link BackgroundFailures}). */
    public void backgroundCommitFailed() {
        backgroundCommitErrors.increment();
    }

    /** Read hits, read misses, write hits and write misses, the stored ones included (as the superblock keeps them). */
    public CacheStats stats() {
        return new CacheStats((base.readHits() + readHits.sum()) & MASK,
                (base.readMisses() + readMisses.sum()) & MASK,
                (base.writeHits() + writeHits.sum()) & MASK,
                (base.writeMisses() + writeMisses.sum()) & MASK);
    }

    public Counters snapshot() {
        return new Counters(stats(), demotions.sum(), promotions.sum(), writebacks.sum(), writebackWrites.sum(),
                commits.sum(), migrationErrors.sum(), backgroundCommitErrors.sum());
    }
}
