package io.jdmcache.policy;

/**
 * smq's cache queues: a clean and a dirty 64-level {@link MultiQueue} over the cache entries, each aged by
 * two generations of sentinels per level, and the per-block "hit counted this period" bits.
 *
 * <p>Sentinels: entries {@code cacheBlocks .. cacheBlocks + 255} of the shared {@link Links}; per level, one
 * write-back sentinel of each generation in the dirty queue and one demote sentinel of each generation in
 * the clean queue. Rotating a generation moves its sentinels to the back of their levels, so in every level
 * the order is: entries untouched for over a period, the older sentinel, entries from the last period, the
 * newer sentinel, the newest entries. "Peeking without crossing sentinels" therefore finds only entries
 * untouched for a full period. The per-block hit bits live with the {@link CacheEntries}' flags.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class CacheQueues {
    static final int NR_LEVELS = 64;
    static final int NR_SENTINELS = 4 * NR_LEVELS;

    private final Links links;
    private final int base;
    private final MultiQueue clean;
    private final MultiQueue dirty;
    private final CacheEntries entries;
    private boolean currentWriteback;
    private boolean currentDemote;

    CacheQueues(Links links, CacheEntries entries, int cacheBlocks) {
        this.links = links;
        this.base = cacheBlocks;
        this.clean = new MultiQueue(links, NR_LEVELS, 0, 0);
        this.dirty = new MultiQueue(links, NR_LEVELS, 0, 0);
        this.entries = entries;
        for (int level = 0; level < NR_LEVELS; level++) {
            for (int k = 0; k < 4; k++) {
                links.level[base + k * NR_LEVELS + level] = (byte) level;
            }
        }
        pushSentinels(false);
        pushSentinels(true);
        currentWriteback = true;
        currentDemote = true;
    }

    private int writebackSentinel(int level, boolean generation) {
        return base + (generation ? 0 : NR_LEVELS) + level;
    }

    private int demoteSentinel(int level, boolean generation) {
        return base + 2 * NR_LEVELS + (generation ? 0 : NR_LEVELS) + level;
    }

    private void pushSentinels(boolean generation) {
        for (int level = 0; level < NR_LEVELS; level++) {
            dirty.push(writebackSentinel(level, generation));
            clean.push(demoteSentinel(level, generation));
        }
    }

    /** Starts a new write-back period: the older generation of write-back sentinels becomes the newest. */
    void rotateWritebackSentinels() {
        currentWriteback = !currentWriteback;
        for (int level = 0; level < NR_LEVELS; level++) {
            int s = writebackSentinel(level, currentWriteback);
            dirty.remove(s);
            dirty.push(s);
        }
    }

    /** Starts a new demote period (same as {@link #rotateWritebackSentinels} for the clean queue). */
    void rotateDemoteSentinels() {
        currentDemote = !currentDemote;
        for (int level = 0; level < NR_LEVELS; level++) {
            int s = demoteSentinel(level, currentDemote);
            clean.remove(s);
            clean.push(s);
        }
    }

    private MultiQueue queue(boolean isDirty) {
        return isDirty ? dirty : clean;
    }

    /** Appends {@code c} at the back of its level in the clean or dirty queue. */
    void push(int c, boolean isDirty) {
        queue(isDirty).push(c);
    }

    /** Puts {@code c} at the front of its level, ahead of both sentinels. */
    void pushFront(int c, boolean isDirty) {
        queue(isDirty).pushFront(c);
    }

    void remove(int c, boolean isDirty) {
        queue(isDirty).remove(c);
    }

    /**
     * A hit on {@code c}: the first hit of the period lifts it one level (swapping with an entry of the level
     * above, which keeps its age relative to the write-back sentinels in the dirty queue); later hits in the
     * same period change nothing.
     */
    void hit(int c, boolean isDirty) {
        if (entries.testAndSetHit(c)) {
            return;
        }
        if (!isDirty) {
            clean.requeue(c, 1, Links.NULL, Links.NULL);
            return;
        }
        int level = links.level[c];
        dirty.requeue(c, 1, writebackSentinel(level, !currentWriteback), writebackSentinel(level, currentWriteback));
    }

    /** Forgets that {@code c} was hit this period (the block is being reused). */
    void forgetHit(int c) {
        entries.clearHit(c);
    }

    /** The demotion candidate: the oldest clean block in the lower half of the levels, or {@link Links#NULL}. */
    int peekDemotion() {
        return clean.peek(NR_LEVELS / 2, true);
    }

    /**
     * The write-back candidate: the oldest dirty block of the lowest level; with {@code anyAge} false, only
     * one untouched for a full write-back period. {@link Links#NULL} if none.
     */
    int peekWriteback(boolean anyAge) {
        return dirty.peek(NR_LEVELS, anyAge);
    }

    /** Dirty blocks in the dirty queue (blocks with work in flight are out of the queues). */
    int dirtyQueued() {
        return dirty.size();
    }

    int cleanQueued() {
        return clean.size();
    }

    /** Ends a cache period: hits count again, and both queues are re-balanced. */
    void endPeriod() {
        entries.clearAllHits();
        dirty.redistribute();
        clean.redistribute();
    }

    long bytes() {
        return 0; // the links are counted by their owner, the hit bits by the entries
    }
}
