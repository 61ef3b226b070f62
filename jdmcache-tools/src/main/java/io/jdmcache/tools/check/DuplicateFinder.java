package io.jdmcache.tools.check;

import java.util.Arrays;

/**
 * Finds values (origin blocks, up to 48 bits) seen more than once among up to {@code expected} values, in
 * little memory: a bitset over [0, max value] while that is no bigger than 4 bytes per expected value
 * (the usual case: origin blocks are dense), otherwise a sorted primitive array (int when every value
 * fits in 32 bits). Never boxes. Not thread-safe.
 */
public final class DuplicateFinder {
    private final long bitLimit;
    private long[] bits = new long[1024];
    private int[] ints;
    private long[] longs;
    private int n;
    private long[] dups = new long[0];
    private int nDups;

    public DuplicateFinder(long expected) {
        this.bitLimit = Math.max(1L << 26, 32L * expected);
    }

    public void add(long v) {
        if (bits != null) {
            if (v < bitLimit) {
                int w = (int) (v >>> 6);
                if (w >= bits.length) {
                    bits = Arrays.copyOf(bits, (int) Math.min(Math.max(w + 1L, 2L * bits.length), (bitLimit + 63) >>> 6));
                }
                long m = 1L << v;
                if ((bits[w] & m) != 0) {
                    addDup(v);
                } else {
                    bits[w] |= m;
                }
                return;
            }
            toArray();
        }
        append(v);
    }

    private void addDup(long v) {
        if (nDups == dups.length) {
            dups = Arrays.copyOf(dups, Math.max(8, nDups * 2));
        }
        dups[nDups++] = v;
    }

    /** Switches from the bitset to an array holding the (distinct) values seen so far. */
    private void toArray() {
        int count = 0;
        for (long w : bits) {
            count += Long.bitCount(w);
        }
        ints = new int[Math.max(16, count * 2)];
        for (int w = 0; w < bits.length; w++) {
            long word = bits[w];
            while (word != 0) {
                int b = Long.numberOfTrailingZeros(word);
                ints[n++] = (int) ((long) w * 64 + b);
                word &= word - 1;
            }
        }
        bits = null;
    }

    private void append(long v) {
        if (ints != null && (v >>> 32) != 0) {
            longs = new long[Math.max(16, ints.length)];
            for (int i = 0; i < n; i++) {
                longs[i] = ints[i] & 0xffffffffL;
            }
            ints = null;
        }
        if (ints != null) {
            if (n == ints.length) {
                ints = Arrays.copyOf(ints, n + (n >> 1) + 16);
            }
            ints[n++] = (int) v;
        } else {
            if (n == longs.length) {
                longs = Arrays.copyOf(longs, n + (n >> 1) + 16);
            }
            longs[n++] = v;
        }
    }

    /** The duplicated values (each once), after all values were added. */
    public long[] duplicates() {
        if (ints != null) {
            Arrays.parallelSort(ints, 0, n);
            for (int i = 1; i < n; i++) {
                if (ints[i] == ints[i - 1] && (nDups == 0 || dups[nDups - 1] != (ints[i] & 0xffffffffL))) {
                    addDup(ints[i] & 0xffffffffL);
                }
            }
        } else if (longs != null) {
            Arrays.parallelSort(longs, 0, n);
            for (int i = 1; i < n; i++) {
                if (longs[i] == longs[i - 1] && (nDups == 0 || dups[nDups - 1] != longs[i])) {
                    addDup(longs[i]);
                }
            }
        }
        long[] d = Arrays.copyOf(dups, nDups);
        Arrays.sort(d);
        int u = 0;
        for (int i = 0; i < d.length; i++) {
            if (i == 0 || d[i] != d[i - 1]) {
                d[u++] = d[i];
            }
        }
        return Arrays.copyOf(d, u);
    }
}
