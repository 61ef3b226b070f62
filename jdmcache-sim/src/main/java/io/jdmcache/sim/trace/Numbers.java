package io.jdmcache.sim.trace;

/** Allocation-free parsing of non-negative numbers inside a string; -1 for anything else. */
final class Numbers {
    private Numbers() {
    }

    /** A non-negative decimal number in {@code s[from, to)}, or -1 (empty, a sign, another character, overflow). */
    static long decimal(CharSequence s, int from, int to) {
        if (from >= to) {
            return -1;
        }
        long v = 0;
        for (int i = from; i < to; i++) {
            int d = s.charAt(i) - '0';
            if (d < 0 || d > 9 || v > (Long.MAX_VALUE - d) / 10) {
                return -1;
            }
            v = v * 10 + d;
        }
        return v;
    }

    static long decimal(CharSequence s) {
        return decimal(s, 0, s.length());
    }

    /** A non-negative number, hexadecimal with a {@code 0x} prefix or decimal, or -1. */
    static long hexOrDecimal(CharSequence s, int from, int to) {
        if (to - from > 2 && s.charAt(from) == '0' && (s.charAt(from + 1) == 'x' || s.charAt(from + 1) == 'X')) {
            long v = 0;
            if (to - from - 2 > 16 || to - from - 2 == 16 && Character.digit(s.charAt(from + 2), 16) > 7) {
                return -1;
            }
            for (int i = from + 2; i < to; i++) {
                int d = Character.digit(s.charAt(i), 16);
                if (d < 0) {
                    return -1;
                }
                v = v << 4 | d;
            }
            return v;
        }
        return decimal(s, from, to);
    }

    /** Whether {@code s} is a non-negative decimal number with an optional fraction ({@code 12}, {@code 12.5}). */
    static boolean isUnsignedDecimal(CharSequence s) {
        int n = s.length();
        int dot = -1;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '.' && dot < 0 && i > 0) {
                dot = i;
            } else if (c < '0' || c > '9') {
                return false;
            }
        }
        return n > 0 && dot != n - 1;
    }
}
