package io.jdmcache.policy;

import java.util.Optional;

/**
 * A cache replacement policy: decides which origin blocks live on the cache device, and is the engine's
 * mapping table (origin block to cache block and back), as the kernel's {@code dm_cache_policy} is for
 * {@code dm-cache-target}. Create one with {@link Policies#create}.
 *
 * <h2>How the engine drives it</h2>
 * <ol>
 *   <li>At start, {@link #loadMapping} for every valid mapping read from the metadata (with the stored hint
 *       when the hints are usable), before any I/O.</li>
 *   <li>For every I/O, {@link #lookup} (or {@link #lookupWithWork} for an I/O that could be promoted without
 *       a copy). A hit gives the cache block; a miss goes to the origin. A write hit in writeback mode is
 *       followed by {@link #setDirty}.</li>
 *   <li>A migration worker repeatedly asks {@link #getBackgroundWork} (passing whether the origin has been
 *       idle), performs the work (copy, metadata update), then calls {@link #completeBackgroundWork} with
 *       the same work and whether it succeeded. After a successful write-back it calls {@link #clearDirty};
 *       after a successful promotion the block is clean, and the engine calls {@link #setDirty} if the
 *       promotion was a whole-block write that left the cache newer than the origin.</li>
 *   <li>A timer calls {@link #tick} about once a second, and the engine may also tick when an I/O completes
 *       (the kernel ticks from the completion of one tagged bio at a time): a cache block's hit is counted at
 *       most once per tick.</li>
 *   <li>At clean shutdown, {@link #getHint} (or {@link #forEachMapping}) gives the hints to store.</li>
 * </ol>
 *
 * <h2>State of a cache block</h2>
 * A cache block is <em>free</em>, <em>reserved</em> (a promotion into it is in flight: not mapped yet, so
 * lookups of its origin block miss), or <em>mapped</em> (to exactly one origin block; no origin block is
 * mapped twice). A mapped block is clean or dirty, and may have a demotion or write-back in flight. A dirty
 * block is never chosen for demotion: it is written back first. {@link #residency()} counts reserved and
 * mapped blocks.
 *
 * <h2>Thread safety</h2>
 * Every method may be called from any thread. Each implementation guards its state with one internal lock,
 * held for the short, non-blocking, allocation-free body of each call (a hash lookup and a few list moves;
 * the periodic redistribution in {@link #tick} is O(cache blocks) once a minute). Visitors passed to
 * {@link #forEachMapping} run under that lock and must not call back into the policy.
 *
 * <h2>Block numbers</h2>
 * Origin blocks are {@code long}s in {@code [0, originBlocks)}; cache blocks are {@code int}s in
 * {@code [0, cacheBlocks)}. Out-of-range numbers are refused with {@link IllegalArgumentException}.
 */
public interface CachePolicy {

    /** {@link #lookup} result: not in the cache, no background work queued. */
    int MISS = -1;

    /** {@link #lookup} result: not in the cache; background work (a promotion or a demotion) was queued. */
    int MISS_WORK_QUEUED = -2;

    /** Whether a {@link #lookup} result is a hit (then it is the cache block). */
    static boolean isHit(int lookupResult) {
        return lookupResult >= 0;
    }

    /**
     * The name stored in the metadata superblock: {@code smq} (also for {@code default}), {@code mq},
     * {@code cleaner} or {@code wtlfu}.
     */
    String name();

    /** The version stored in the metadata superblock ({@code 2.0.0} for smq, mq and cleaner, {@code 1.0.0} for wtlfu). */
    PolicyVersion version();

    /** The size in bytes of the per-cache-block hint ({@code 4}). */
    int hintSize();

    /** The number of cache blocks this policy was created for. */
    int cacheBlocks();

    /**
     * Looks an origin block up for an I/O. Never blocks on I/O, never allocates.
     *
     * <p>On a hit the block's entry is refreshed (it climbs one level at most once per tick). On a miss the
     * origin block's hotspot region is heated, and if it is hot enough a promotion is queued (if a cache
     * block is free) or, when the cache is full, a demotion of a cold clean block is queued to make room;
     * a later miss on the block then promotes it. Promotions are queued only while migrations are allowed.
     *
     * @param oblock   the origin block
     * @param dir      the I/O's direction
     * @param fastCopy whether promoting this block would be cheap (a write covering the whole block, or a
     *                 discarded block); such writes are promoted whenever a cache block is free
     * @return the cache block ({@code >= 0}) on a hit; {@link #MISS} or {@link #MISS_WORK_QUEUED} on a miss
     */
    int lookup(long oblock, IoDirection dir, boolean fastCopy);

    /**
     * As {@link #lookup}, but a promotion decided by this lookup is issued straight to the caller instead of
     * being queued for the migration worker, so the caller can optimise the I/O (write the whole block to
     * the cache, skipping the copy). The caller must complete the returned work.
     */
    LookupResult lookupWithWork(long oblock, IoDirection dir, boolean fastCopy);

    /**
     * Takes the next background work item, issuing it to the caller.
     *
     * <p>Queued promotions and demotions come first, in the order they were queued. When none is queued,
     * a write-back of the coldest dirty block is issued if the dirty target is not met: when {@code idle},
     * or for the cleaner policy, the target is "no dirty block" (any dirty block qualifies); when busy, only
     * when fewer than 25% of the cache blocks are clean, and only blocks untouched for a full write-back
     * period (10 s) qualify.
     *
     * @param idle whether the origin has been idle (the kernel uses 1 s without I/O)
     * @return the work, or empty when there is none
     */
    Optional<PolicyWork> getBackgroundWork(boolean idle);

    /**
     * Completes an issued work item. Promotion: on success the origin block is mapped (clean, at the top
     * level); on failure the reserved cache block is freed. Demotion: on success the mapping is dropped and
     * the cache block freed; on failure the block stays mapped and rejoins its queue. Write-back: the block
     * rejoins the clean or dirty queue according to its dirty flag (the engine clears it on success).
     *
     * @throws PolicyStateException if the work is not in flight (never issued, already completed, or
     *                              different from what was issued for its origin block)
     */
    void completeBackgroundWork(PolicyWork work, boolean success);

    /**
     * Marks a mapped cache block dirty (moves it to the dirty queue). A demotion of the block that is
     * queued but not yet issued is withdrawn (a dirty block is never demoted).
     *
     * @throws PolicyStateException if the block is not mapped, or a demotion of it has been issued (the
     *                              engine must keep writes out of a block while it demotes it)
     */
    void setDirty(int cblock);

    /**
     * As {@link #setDirty}, but a block whose demotion has been issued is refused with {@code false}, nothing
     * changed, instead of an exception: the engine's write path asks this way, and waits for the demotion to
     * complete before it tries again.
     *
     * @return whether the block is now dirty
     * @throws PolicyStateException if the block is not mapped
     */
    boolean trySetDirty(int cblock);

    /**
     * Marks a mapped cache block clean (moves it to the clean queue). A write-back of the block that is
     * queued but not yet issued is withdrawn.
     *
     * @throws PolicyStateException if the block is not mapped
     */
    void clearDirty(int cblock);

    /**
     * Loads a mapping from the metadata. The entry is placed at the level given by a valid hint (clamped to
     * 0..63, as an unsigned number), or at a pseudo-random level derived from the cache block otherwise, and
     * ahead of the ageing sentinels, so it can be demoted or written back straight away.
     *
     * @throws PolicyStateException if the cache block is already in use or the origin block already mapped
     */
    void loadMapping(long oblock, int cblock, boolean dirty, int hint, boolean hintValid);

    /**
     * Drops a mapping, whether clean or dirty (the engine's {@code invalidate_cblocks}). Background work
     * for the block that is queued but not yet issued is withdrawn.
     *
     * @return {@code false} if the cache block was not mapped (free, or reserved by a promotion)
     * @throws PolicyStateException if background work on the block has been issued
     */
    boolean invalidateMapping(int cblock);

    /**
     * As {@link #invalidateMapping}, but background work issued for the block is answered with
     * {@link Invalidation#BUSY}, nothing changed, instead of an exception.
     */
    Invalidation tryInvalidateMapping(int cblock);

    /** The 4-byte hint of a cache block: its level (0..63) if mapped, 0 otherwise. */
    int getHint(int cblock);

    /** The number of cache blocks in use (mapped, or reserved by an in-flight promotion). */
    int residency();

    /** The number of mapped blocks marked dirty. */
    int dirtyCount();

    /**
     * Advances the policy's notion of time: ends the hit-counting tick, and runs the periodic work that is
     * due on the policy's clock (rotating the ageing sentinels, re-balancing the hotspot queue and
     * re-assessing the promotion threshold every second, re-balancing the cache queues every minute).
     *
     * @param canBlock whether the caller may block (ignored: the policy's work is short and never blocks)
     */
    void tick(boolean canBlock);

    /**
     * Sets a tunable (a key/value pair from the table line or a message).
     *
     * @throws PolicyConfigException for a key the policy does not know or a malformed value
     */
    void setConfigValue(String key, String value);

    /** The policy's tunables for the status line. */
    ConfigValues emitConfigValues();

    /**
     * Allows or forbids migrations (promotions and demotions); write-backs are unaffected. The engine
     * forbids them in passthrough mode. The cleaner policy never promotes, whatever this says.
     */
    void allowMigrations(boolean allow);

    /**
     * The cache block holding an origin block, or {@code -1}: a pure query (no statistics, no promotion).
     */
    int lookupMapping(long oblock);

    /** The origin block held by a cache block, or {@code -1} if it is not mapped. A pure query. */
    long oblockOf(int cblock);

    /** Whether a cache block is mapped and dirty. */
    boolean isDirty(int cblock);

    /**
     * The first mapped cache block at or after {@code fromCblock}, or {@code -1}: a cursor over the mapped
     * blocks in increasing order, {@code for (c = p.nextMapped(0); c >= 0; c = p.nextMapped(c + 1))}.
     * O(distance to the next mapped block).
     */
    int nextMapped(int fromCblock);

    /** Visits every mapped cache block in increasing order, under the policy's lock (see the class doc). */
    void forEachMapping(MappingVisitor visitor);

    /** The bytes held in this policy's arrays. */
    MemoryFootprint memoryFootprint();
}
