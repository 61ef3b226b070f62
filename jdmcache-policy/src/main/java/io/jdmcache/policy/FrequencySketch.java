package io.jdmcache.policy;

/**
 * A count-min sketch of 4-bit counters with periodic ageing: TinyLFU's approximate frequency of every origin
 * block seen lately (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", ACM
 * Transactions on Storage 13(4), 2017, section 3). Four counters per key, chosen by double hashing (Kirsch and
 * Mitzenmacher) over one {@code long[]} of sixteen counters a word (any number of words: a hash is mapped onto
 * the counters by a multiply and shift, so the sketch need not be a power of two); an increment raises only the key's counters
 * that hold its current minimum (the conservative update, which over-counts less than raising all four); a
 * key's estimate is the minimum of its counters, at most 15. After {@code sampleSize} increments every counter
 * is halved (the paper's reset), so the sketch follows a changing workload and old popularity fades.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class FrequencySketch {
    static final int MAX_FREQUENCY = 15;
    private static final long RESET_MASK = 0x7777_7777_7777_7777L;
    private static final long ONE_MASK = 0x1111_1111_1111_1111L;

    private final long[] table;
    private final long nrCounters;
    private int sampleSize;
    private int size;

    /**
     * @param counters   the number of counters wanted (rounded up to a multiple of 16, at least 64, at most 2^32 - 16)
     * @param sampleSize increments between two halvings, {@code >= 1}
     */
    FrequencySketch(long counters, int sampleSize) {
        long n = (Math.min(Math.max(64, counters), (1L << 32) - 16) + 15) & ~15L;
        this.table = new long[(int) (n >>> 4)];
        this.nrCounters = n;
        this.sampleSize = Math.max(1, sampleSize);
    }

    private static long mix(long x) {
        x = (x ^ (x >>> 30)) * 0xBF58476D1CE4E5B9L;
        x = (x ^ (x >>> 27)) * 0x94D049BB133111EBL;
        return x ^ (x >>> 31);
    }

    /** Counter {@code i} of a key: its double hash mapped onto {@code [0, counters)} by a multiply and shift. */
    private long counterIndex(long h1, long h2, int i) {
        return (((h1 + i * h2) >>> 32) * nrCounters) >>> 32;
    }

    private int get(long idx) {
        return (int) (table[(int) (idx >>> 4)] >>> ((idx & 15) << 2)) & 15;
    }

    /** The estimated number of recent accesses of {@code key}, 0..15. */
    int frequency(long key) {
        long h1 = mix(key);
        long h2 = mix(h1 ^ 0x9E3779B97F4A7C15L) | 1;
        int min = MAX_FREQUENCY;
        for (int i = 0; i < 4; i++) {
            min = Math.min(min, get(counterIndex(h1, h2, i)));
        }
        return min;
    }

    /** Counts one access of {@code key}; every {@code sampleSize} accesses all counters are halved. */
    void increment(long key) {
        if (add(key) && ++size >= sampleSize) {
            reset();
        }
    }

    /** Raises {@code key}'s counters by one (conservatively); whether anything changed. */
    private boolean add(long key) {
        long h1 = mix(key);
        long h2 = mix(h1 ^ 0x9E3779B97F4A7C15L) | 1;
        int min = MAX_FREQUENCY;
        for (int i = 0; i < 4; i++) {
            min = Math.min(min, get(counterIndex(h1, h2, i)));
        }
        if (min == MAX_FREQUENCY) {
            return false;
        }
        for (int i = 0; i < 4; i++) {
            long idx = counterIndex(h1, h2, i);
            if (get(idx) == min) {
                table[(int) (idx >>> 4)] += 1L << ((idx & 15) << 2);
            }
        }
        return true;
    }

    /**
     * Raises {@code key}'s estimate to at least {@code frequency} (for hints loaded at start: not accesses, so
     * they do not count toward the next halving).
     */
    void raise(long key, int frequency) {
        int f = Math.min(frequency, MAX_FREQUENCY);
        for (int k = 0; k < MAX_FREQUENCY && frequency(key) < f; k++) {
            add(key);
        }
    }

    /** Halves every counter. */
    void reset() {
        long odd = 0;
        for (int i = 0; i < table.length; i++) {
            odd += Long.bitCount(table[i] & ONE_MASK);
            table[i] = (table[i] >>> 1) & RESET_MASK;
        }
        size = (int) Math.max(0, (size - (odd >>> 2)) >>> 1);
    }

    /** Changes the number of increments between two halvings (from the next increment on). */
    void setSampleSize(int n) {
        sampleSize = Math.max(1, n);
    }

    long counters() {
        return nrCounters;
    }

    int sampleSize() {
        return sampleSize;
    }

    long bytes() {
        return 8L * table.length;
    }
}
