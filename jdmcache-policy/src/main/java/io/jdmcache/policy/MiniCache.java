package io.jdmcache.policy;

/**
 * A miniature simulation of one replacement policy over a spatially sampled stream of origin blocks (Waldspurger
 * et al., "Cache Modeling and Optimization using Miniature Simulations", USENIX ATC 2017): a cache of the real
 * cache's size times the sampling rate, holding origin-block numbers only, that counts its hits. Two policies:
 * demand-fill LRU, and TinyLFU admission with bypass over probation and protected LRU segments (as
 * {@link TinyLfuPolicy} runs without a window), with a sketch of its own that halves at its own pace.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class MiniCache {
    private static final int NULL = -1;

    private final boolean lru;
    private final int capacity;
    private final int protectedMax;
    private final long[] key;
    private final int[] next;
    private final int[] prev;
    private final byte[] segment;
    private final int[] head = {NULL, NULL};
    private final int[] tail = {NULL, NULL};
    private final int[] count = new int[2];
    private final LongLongMap index;
    private int size;
    private long hits;
    private final FrequencySketch sketch;

    /** @param ageing for TinyLFU: accesses between two halvings of its own sketch, in its capacities */
    MiniCache(boolean lru, int capacity, int ageing) {
        this.lru = lru;
        this.sketch = lru ? null : new FrequencySketch(Math.max(1 << 16, 14L * Math.max(1, capacity)),
                (int) Math.max(32, (long) ageing * Math.max(1, capacity)));
        this.capacity = Math.max(1, capacity);
        this.protectedMax = (int) (0.8 * this.capacity);
        this.key = new long[this.capacity];
        this.next = new int[this.capacity];
        this.prev = new int[this.capacity];
        this.segment = new byte[this.capacity];
        this.index = new LongLongMap(this.capacity);
    }

    long hits() {
        return hits;
    }

    void resetHits() {
        hits = 0;
    }

    private void unlink(int e) {
        int s = segment[e];
        int p = prev[e];
        int n = next[e];
        if (p != NULL) {
            next[p] = n;
        } else {
            head[s] = n;
        }
        if (n != NULL) {
            prev[n] = p;
        } else {
            tail[s] = p;
        }
        count[s]--;
    }

    private void append(int s, int e) {
        segment[e] = (byte) s;
        prev[e] = tail[s];
        next[e] = NULL;
        if (tail[s] != NULL) {
            next[tail[s]] = e;
        } else {
            head[s] = e;
        }
        tail[s] = e;
        count[s]++;
    }

    /** One access of a sampled block. */
    void access(long ob) {
        if (sketch != null) {
            sketch.increment(ob);
        }
        long at = index.get(ob);
        if (at != LongLongMap.ABSENT) {
            int e = (int) at;
            hits++;
            unlink(e);
            if (lru || segment[e] == 1) {
                append(segment[e], e);
            } else {
                append(1, e);
                if (count[1] > protectedMax) {
                    int d = head[1];
                    unlink(d);
                    append(0, d);
                }
            }
            return;
        }
        int e;
        if (size < capacity) {
            e = size++;
        } else {
            int v = head[0] != NULL ? head[0] : head[1];
            if (!lru) {
                int f = sketch.frequency(ob);
                if (f < TinyLfuPolicy.MIN_ADMIT_FREQUENCY || f <= sketch.frequency(key[v])) {
                    return;
                }
            }
            unlink(v);
            index.remove(key[v]);
            e = v;
        }
        key[e] = ob;
        index.put(ob, e);
        append(0, e);
    }

    long bytes() {
        return 8L * key.length + 4L * next.length + 4L * prev.length + segment.length + index.bytes()
                + (sketch == null ? 0 : sketch.bytes());
    }
}
