package io.jdmcache.policy;

import java.util.Arrays;

/**
 * A chained hash table from a block number to an entry index, threaded through an {@code int} chain array
 * (one per entry) with a quarter of a bucket per entry: the keys live with the owner (a {@code long[]} or
 * {@link PackedLongs}), so the table adds about 5 bytes per entry. Multiplicative (Fibonacci) hashing over a
 * power-of-two bucket count.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class BlockHashTable {
    private static final long GOLDEN_RATIO_64 = 0x61C8864680B583EBL;

    /** The keys: one of the two is set. */
    private final long[] keys;
    private final PackedLongs packed;
    private final int[] chain;
    private final int[] buckets;
    private final int shift;

    /** @param keys the key of each entry; only entries currently inserted are read */
    BlockHashTable(long[] keys) {
        this(keys, null, keys.length);
    }

    /** @param keys the key of each entry; only entries currently inserted are read */
    BlockHashTable(PackedLongs keys) {
        this(null, keys, keys.size());
    }

    private BlockHashTable(long[] keys, PackedLongs packed, int entries) {
        this.keys = keys;
        this.packed = packed;
        this.chain = new int[entries];
        int nrBuckets = Integer.highestOneBit(Math.max(entries / 4, 16) - 1) << 1;
        this.buckets = new int[nrBuckets];
        this.shift = 64 - Integer.numberOfTrailingZeros(nrBuckets);
        Arrays.fill(buckets, Links.NULL);
        Arrays.fill(chain, Links.NULL);
    }

    private long key(int e) {
        return keys != null ? keys[e] : packed.get(e);
    }

    private int bucket(long key) {
        return (int) ((key * GOLDEN_RATIO_64) >>> shift);
    }

    /** The entry with this key, or {@link Links#NULL}; no side effect. */
    int find(long key) {
        for (int e = buckets[bucket(key)]; e != Links.NULL; e = chain[e]) {
            if (key(e) == key) {
                return e;
            }
        }
        return Links.NULL;
    }

    /**
     * As {@link #find}, for a reader without the owner's lock (whose result the owner validates): it gives up,
     * with {@link Links#NULL}, after {@code maxSteps} entries, since a chain changing under it could loop.
     */
    int findBounded(long key, int maxSteps) {
        int steps = 0;
        for (int e = buckets[bucket(key)]; e != Links.NULL && steps < maxSteps; e = chain[e], steps++) {
            if (key(e) == key) {
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
            if (key(e) == key) {
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
        int b = bucket(key(e));
        chain[e] = buckets[b];
        buckets[b] = e;
    }

    /** Removes entry {@code e} (under its current key); no-op if absent. */
    void remove(int e) {
        int b = bucket(key(e));
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
