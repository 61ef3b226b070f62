package io.jdmcache.policy;

import java.util.Arrays;

/**
 * A chained hash table from a block number to an entry index, threaded through an {@code int} chain array
 * (one per entry) with a quarter of a bucket per entry: the keys live with the owner (a {@code long[]} or
 * {@link PackedLongs}), so the table adds 5 bytes per entry. Multiplicative (Fibonacci) hashing: the top 32
 * bits of the key times 2^64/phi, scaled to the bucket count by a multiply and a shift (so the count need not
 * be a power of two).
 *
 * <p>Sizing: {@code max(entries / 4, 16)} buckets, a load of 4 entries a bucket when every entry is in. The
 * kernel's smq sizes its table for the same load but rounds the bucket count up to a power of two, which at
 * 10 million cache blocks gives 4,194,304 buckets instead of 2,500,000 (0.68 bytes more per cache block, a
 * load of 2.4); here the chains are on average that much longer instead (a miss walks 4 entries, not 2.4).
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
        this.buckets = new int[bucketsFor(entries)];
        Arrays.fill(buckets, Links.NULL);
        Arrays.fill(chain, Links.NULL);
    }

    private long key(int e) {
        return keys != null ? keys[e] : packed.get(e);
    }

    /** The bucket count of a table of {@code entries} entries. */
    static int bucketsFor(int entries) {
        return Math.max(entries / 4, 16);
    }

    private int bucket(long key) {
        return (int) (((key * GOLDEN_RATIO_64) >>> 32) * buckets.length >>> 32);
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
