package io.jdmcache.policy;

/**
 * A stochastic multiqueue: {@code nrLevels} LRU lists stacked into levels over one {@link Links}. An entry
 * sits at the level stored in {@code links.level}; within a level the head is the oldest. Used entries
 * climb levels by swapping places with an entry of the level above (which drops one level), so the most
 * used entries gather at the top without any hit counters; {@link #redistribute} periodically restores a
 * target population per level.
 *
 * <p>Sentinel entries may sit in the lists to mark ageing periods; they are never returned by the peeks
 * and pops and are not counted in {@link #size()}.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class MultiQueue {
    private final Links links;
    private final LevelLists lists;
    private final int nrLevels;
    private final int[] targetCount;
    private final int nrTopLevels;
    private final int nrInTopLevels;
    private int size;
    private int lastTargetSize;

    /**
     * @param nrTopLevels   how many top levels get a separate, smaller population ({@code 0}: all levels
     *                      share the population evenly)
     * @param nrInTopLevels the population of those top levels
     */
    MultiQueue(Links links, int nrLevels, int nrTopLevels, int nrInTopLevels) {
        if (nrLevels < 2 || nrLevels > 64) {
            throw new IllegalArgumentException("levels must be in [2, 64]: " + nrLevels);
        }
        this.links = links;
        this.lists = new LevelLists(links, nrLevels);
        this.nrLevels = nrLevels;
        this.targetCount = new int[nrLevels];
        this.nrTopLevels = nrTopLevels;
        this.nrInTopLevels = nrInTopLevels;
    }

    int nrLevels() {
        return nrLevels;
    }

    /** Non-sentinel entries in the queue. */
    int size() {
        return size;
    }

    /** Non-sentinel entries at one level. */
    int levelSize(int level) {
        return lists.count(level);
    }

    /** Appends {@code e} at the back (newest end) of its level. */
    void push(int e) {
        lists.addTail(links.level[e], e);
        countIn(e);
    }

    /** Puts {@code e} at the front (oldest end) of its level. */
    void pushFront(int e) {
        lists.addHead(links.level[e], e);
        countIn(e);
    }

    /** Inserts {@code e} just before {@code old}; both must be at the same level. */
    void pushBefore(int old, int e) {
        lists.addBefore(links.level[e], old, e);
        countIn(e);
    }

    void remove(int e) {
        lists.remove(links.level[e], e);
        if (!links.isSentinel(e)) {
            size--;
        }
    }

    /**
     * The oldest entry of the lowest populated level below {@code maxLevel}, or {@link Links#NULL}. Without
     * {@code crossSentinels} only the entries in front of a level's first sentinel qualify (those that have
     * not moved for a full sentinel period).
     */
    int peek(int maxLevel, boolean crossSentinels) {
        int max = Math.min(maxLevel, nrLevels);
        for (int level = 0; level < max; level++) {
            for (int e = lists.head(level); e != Links.NULL; e = links.next[e]) {
                if (!links.isSentinel(e)) {
                    return e;
                }
                if (!crossSentinels) {
                    break;
                }
            }
        }
        return Links.NULL;
    }

    /** Removes and returns the oldest entry of the lowest populated level, or {@link Links#NULL}. */
    int pop() {
        int e = peek(nrLevels, true);
        if (e != Links.NULL) {
            remove(e);
        }
        return e;
    }

    /**
     * Moves {@code e} to the back of a level {@code extraLevels} higher (capped at the top), swapping with the
     * first non-sentinel entry of that level, which drops to {@code e}'s old level. With {@code extraLevels}
     * of 0, or at the top, {@code e} just moves to the back of its level.
     *
     * <p>When {@code olderSentinel} is given (the queue is aged by two generations of sentinels,
     * {@code olderSentinel} then {@code newerSentinel} at {@code e}'s level), the dropped entry keeps its age:
     * it lands in front of the older sentinel if it was in front of every sentinel of its level, in front of
     * the newer one if it had passed one sentinel, at the back otherwise.
     */
    void requeue(int e, int extraLevels, int olderSentinel, int newerSentinel) {
        int oldLevel = links.level[e];
        int newLevel = Math.min(nrLevels - 1, oldLevel + extraLevels);
        if (extraLevels > 0 && oldLevel < nrLevels - 1) {
            int passed = 0;
            int swap = lists.head(newLevel);
            while (swap != Links.NULL && links.isSentinel(swap)) {
                passed++;
                swap = links.next[swap];
            }
            if (swap != Links.NULL) {
                remove(swap);
                links.level[swap] = (byte) oldLevel;
                if (olderSentinel == Links.NULL || passed > 1) {
                    push(swap);
                } else if (passed == 0) {
                    pushBefore(olderSentinel, swap);
                } else {
                    pushBefore(newerSentinel, swap);
                }
            }
        }
        remove(e);
        links.level[e] = (byte) newLevel;
        push(e);
    }

    /**
     * Re-balances the levels to their target populations: from the bottom up, a level short of its target
     * takes the oldest entries of the nearest populated levels above, and a level over its target passes its
     * newest entries up one level. Sentinels stay where they are. O(entries moved + levels).
     */
    void redistribute() {
        setTargets();
        for (int level = 0; level < nrLevels - 1; level++) {
            int target = targetCount[level];
            while (lists.count(level) < target) {
                int e = takeOldestFrom(level + 1);
                if (e == Links.NULL) {
                    break;
                }
                links.level[e] = (byte) level;
                lists.addTail(level, e);
            }
            while (lists.count(level) > target) {
                int e = lists.popTail(level);
                if (e == Links.NULL) {
                    break;
                }
                links.level[e] = (byte) (level + 1);
                lists.addTail(level + 1, e);
            }
        }
    }

    /** Target population of a level, as set by the last {@link #redistribute}. */
    int target(int level) {
        return targetCount[level];
    }

    private int takeOldestFrom(int fromLevel) {
        for (int level = fromLevel; level < nrLevels; level++) {
            int e = lists.popHead(level);
            if (e != Links.NULL) {
                return e;
            }
        }
        return Links.NULL;
    }

    private void setTargets() {
        if (lastTargetSize == size) {
            return;
        }
        lastTargetSize = size;
        if (nrTopLevels > nrLevels) {
            spread(size, 0, nrLevels);
            return;
        }
        int split = nrLevels - nrTopLevels;
        spread(nrInTopLevels, split, nrLevels);
        spread(Math.max(0, size - nrInTopLevels), 0, split);
    }

    private void spread(int entries, int fromLevel, int toLevel) {
        int levels = toLevel - fromLevel;
        if (levels == 0) {
            return;
        }
        int each = entries / levels;
        int extra = entries % levels;
        for (int level = fromLevel; level < toLevel; level++) {
            targetCount[level] = level < fromLevel + extra ? each + 1 : each;
        }
    }

    private void countIn(int e) {
        if (!links.isSentinel(e)) {
            size++;
        }
    }
}
