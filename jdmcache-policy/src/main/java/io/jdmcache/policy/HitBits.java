package io.jdmcache.policy;

import java.util.Arrays;

/** One bit per entry: "already counted as hit in this period". Not thread-safe. */
final class HitBits {
    private final long[] words;

    HitBits(int bits) {
        this.words = new long[(bits + 63) >>> 6];
    }

    /** Sets bit {@code i} and returns whether it was already set. */
    boolean testAndSet(int i) {
        int w = i >>> 6;
        long mask = 1L << i;
        long old = words[w];
        words[w] = old | mask;
        return (old & mask) != 0;
    }

    void clear(int i) {
        words[i >>> 6] &= ~(1L << i);
    }

    void clearAll() {
        Arrays.fill(words, 0L);
    }

    long bytes() {
        return 8L * words.length;
    }
}
