package io.jdmcache.policy;

/**
 * A fixed-capacity map from non-negative {@code long} keys to {@code long} values: open addressing, linear
 * probing, backward-shift deletion, primitive arrays only. O(1) expected per operation.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class LongLongMap {
    static final long ABSENT = -1;
    private static final long GOLDEN_RATIO_64 = 0x61C8864680B583EBL;

    private final int capacity;
    private final long[] keys;
    private final long[] values;
    private final int shift;
    private int size;

    LongLongMap(int capacity) {
        this.capacity = capacity;
        int n = Integer.highestOneBit(Math.max(2, capacity * 2) - 1) << 1;
        this.keys = new long[n];
        this.values = new long[n];
        java.util.Arrays.fill(keys, ABSENT);
        this.shift = 64 - Integer.numberOfTrailingZeros(n);
    }

    int size() {
        return size;
    }

    boolean isFull() {
        return size >= capacity;
    }

    private int home(long key) {
        return (int) ((key * GOLDEN_RATIO_64) >>> shift);
    }

    private int slot(long key) {
        int mask = keys.length - 1;
        for (int i = home(key); keys[i] != ABSENT; i = (i + 1) & mask) {
            if (keys[i] == key) {
                return i;
            }
        }
        return -1;
    }

    boolean containsKey(long key) {
        return slot(key) >= 0;
    }

    /** The value of {@code key}, or {@link #ABSENT}. */
    long get(long key) {
        int i = slot(key);
        return i < 0 ? ABSENT : values[i];
    }

    /** Puts a key that is not present; refused (false) when full. */
    boolean put(long key, long value) {
        if (size >= capacity) {
            return false;
        }
        int mask = keys.length - 1;
        int i = home(key);
        while (keys[i] != ABSENT) {
            if (keys[i] == key) {
                values[i] = value;
                return true;
            }
            i = (i + 1) & mask;
        }
        keys[i] = key;
        values[i] = value;
        size++;
        return true;
    }

    /** Removes {@code key} and returns its value, or {@link #ABSENT}. */
    long remove(long key) {
        int i = slot(key);
        if (i < 0) {
            return ABSENT;
        }
        long v = values[i];
        int mask = keys.length - 1;
        int hole = i;
        for (int j = (hole + 1) & mask; keys[j] != ABSENT; j = (j + 1) & mask) {
            int h = home(keys[j]);
            boolean movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
            if (movable) {
                keys[hole] = keys[j];
                values[hole] = values[j];
                hole = j;
            }
        }
        keys[hole] = ABSENT;
        size--;
        return v;
    }

    long bytes() {
        return 8L * keys.length + 8L * values.length;
    }
}
