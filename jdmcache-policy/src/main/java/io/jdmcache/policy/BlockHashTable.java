package io.jdmcache.policy;

import java.util.Arrays;

/**
 * A chained hash table from a block number to an entry index, threaded through an {@code int} chain array
 * (one per entry) with a quarter of a bucket per entry: the keys live in the owner's {@code long[]}, so the
 * table adds about 5 bytes per entry. Multiplicative (Fibonacci) hashing over a power-of-two bucket count.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class BlockHashTable {
    private static final long GOLDEN_RATIO_64 = 0x61C8864680B583EBL;

    private final long[] keys;
    private final int[] chain;
    private final int[] buckets;
    private final int shift;

    /** @param keys the key of each entry; only entries currently inserted are read */
    BlockHashTable(long[] keys) {
        this.keys = keys;
        this.chain = new int[keys.length];
        int nrBuckets = Integer.highestOneBit(Math.max(keys.length / 4, 16) - 1) << 1;
        this.buckets = new int[nrBuckets];
        this.shift = 64 - Integer.numberOfTrailingZeros(nrBuckets);
        Arrays.fill(buckets, Links.NULL);
        Arrays.fill(chain, Links.NULL);
    }

    private int bucket(long key) {
        return (int) ((key * GOLDEN_RATIO_64) >>> shift);
    }

    /** The entry with this key, or {@link Links#NULL}; no side effect. */
    int find(long key) {
        for (int e = buckets[bucket(key)]; e != Links.NULL; e = chain[e]) {
            if (keys[e] == key) {
                return e;
            }
        }
        return Links.NULL;
    }

    /** The entry with this key, or {@link Links#NULL}; a found entry moves to the front of its chain. */
    int lookup(long key) {
        int b = bucket(key);
        int prev = Links.NULL;
        for (int e = buckets[b]; e != Links.NULL; e = chain[e]) {
            if (keys[e] == key) {
                if (prev != Links.NULL) {
                    chain[prev] = chain[e];
                    chain[e] = buckets[b];
                    buckets[b] = e;
                }
                return e;
            }
            prev = e;
        }
        return Links.NULL;
    }

    /** Inserts entry {@code e} under its current key, which must not be present. */
    void insert(int e) {
        int b = bucket(keys[e]);
        chain[e] = buckets[b];
        buckets[b] = e;
    }

    /** Removes entry {@code e} (under its current key); no-op if absent. */
    void remove(int e) {
        int b = bucket(keys[e]);
        int prev = Links.NULL;
        for (int x = buckets[b]; x != Links.NULL; x = chain[x]) {
            if (x == e) {
                if (prev == Links.NULL) {
                    buckets[b] = chain[x];
                } else {
                    chain[prev] = chain[x];
                }
                chain[x] = Links.NULL;
                return;
            }
            prev = x;
        }
    }

    int bucketCount() {
        return buckets.length;
    }

    long bytes() {
        return 4L * chain.length + 4L * buckets.length;
    }
}
