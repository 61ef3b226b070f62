package io.jdmcache.sim.trace;

import java.util.Arrays;

/** A growable open-addressing map from {@code long} keys to non-negative {@code int} values (linear probing). */
final class LongIntMap {
    private static final long GOLDEN_RATIO_64 = 0x9E3779B97F4A7C15L;
    private long[] keys = new long[1024];
    private int[] values = new int[1024];
    private int size;
    private int shift = 64 - 10;

    LongIntMap() {
        Arrays.fill(values, -1);
    }

    /** The value for the key, or -1. */
    int get(long key) {
        int mask = keys.length - 1;
        for (int i = (int) ((key * GOLDEN_RATIO_64) >>> shift); ; i = (i + 1) & mask) {
            int v = values[i];
            if (v < 0 || keys[i] == key) {
                return v;
            }
        }
    }

    /** Sets the value of a key that is not present; {@code value >= 0}. */
    void put(long key, int value) {
        if (2 * (size + 1) > keys.length) {
            grow();
        }
        insert(keys, values, shift, key, value);
        size++;
    }

    private static void insert(long[] ks, int[] vs, int shift, long key, int value) {
        int mask = ks.length - 1;
        int i = (int) ((key * GOLDEN_RATIO_64) >>> shift);
        while (vs[i] >= 0) {
            i = (i + 1) & mask;
        }
        ks[i] = key;
        vs[i] = value;
    }

    private void grow() {
        long[] ks = new long[keys.length * 2];
        int[] vs = new int[keys.length * 2];
        Arrays.fill(vs, -1);
        int s = shift - 1;
        for (int i = 0; i < keys.length; i++) {
            if (values[i] >= 0) {
                insert(ks, vs, s, keys[i], values[i]);
            }
        }
        keys = ks;
        values = vs;
        shift = s;
    }

    int size() {
        return size;
    }
}
