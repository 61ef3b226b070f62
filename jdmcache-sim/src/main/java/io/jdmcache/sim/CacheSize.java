package io.jdmcache.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A cache size as {@code --cache-blocks} or {@code --cache-size} gives it: blocks, bytes, or a percentage of the
 * trace's distinct blocks ({@code 5%}), resolved per trace.
 */
public record CacheSize(Unit unit, double value, String text) {
    public enum Unit { BLOCKS, BYTES, PERCENT }

    /** The largest cache the simulator runs. */
    public static final int MAX_BLOCKS = 1 << 28;

    /** The cache blocks for a trace with this many distinct blocks (a percentage: at least 1). */
    public int blocks(int distinctBlocks, long blockBytes) {
        double b = switch (unit) {
            case BLOCKS -> value;
            case BYTES -> Math.floor(value / blockBytes);
            case PERCENT -> Math.max(1, Math.round(distinctBlocks * value / 100));
        };
        if (b > MAX_BLOCKS) {
            throw new IllegalArgumentException("cache size " + text + " is " + (long) b + " blocks, more than the "
                    + MAX_BLOCKS + " the simulator runs");
        }
        return (int) b;
    }

    /** {@code N[,N...]} for {@code --cache-blocks}: block counts or percentages. */
    public static List<CacheSize> parseBlocks(String option, String list) {
        List<CacheSize> sizes = new ArrayList<>();
        for (String s : split(option, list)) {
            if (s.endsWith("%")) {
                sizes.add(percent(option, s));
                continue;
            }
            long n = parseCount(s);
            if (n < 0 || n > MAX_BLOCKS) {
                throw new IllegalArgumentException(option + ": '" + s + "' is not a number of blocks in [0, "
                        + MAX_BLOCKS + "] or a percentage of the trace's distinct blocks (5%)");
            }
            sizes.add(new CacheSize(Unit.BLOCKS, n, s));
        }
        return sizes;
    }

    /** {@code SIZE[,SIZE...]} for {@code --cache-size}: bytes with an optional k, M, G, T suffix, or percentages. */
    public static List<CacheSize> parseBytes(String option, String list) {
        List<CacheSize> sizes = new ArrayList<>();
        for (String s : split(option, list)) {
            if (s.endsWith("%")) {
                sizes.add(percent(option, s));
                continue;
            }
            String lower = s.toLowerCase(Locale.ROOT);
            int shift = 0;
            String digits = lower;
            String[][] suffixes = {{"kib", "10"}, {"mib", "20"}, {"gib", "30"}, {"tib", "40"}, {"k", "10"},
                {"m", "20"}, {"g", "30"}, {"t", "40"}, {"b", "0"}};
            for (String[] suf : suffixes) {
                if (lower.endsWith(suf[0])) {
                    shift = Integer.parseInt(suf[1]);
                    digits = lower.substring(0, lower.length() - suf[0].length());
                    break;
                }
            }
            long n = parseCount(digits);
            if (n < 0 || n > (Long.MAX_VALUE >> shift)) {
                throw new IllegalArgumentException(option + ": '" + s + "' is not a size (bytes, or a number with"
                        + " k, M, G or T: 512M, 2G) or a percentage of the trace's distinct blocks (5%)");
            }
            sizes.add(new CacheSize(Unit.BYTES, (double) (n << shift), s));
        }
        return sizes;
    }

    private static CacheSize percent(String option, String s) {
        String v = s.substring(0, s.length() - 1);
        double p;
        try {
            p = v.matches("\\d+(\\.\\d+)?") ? Double.parseDouble(v) : -1;
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (!(p > 0 && p <= 100)) {
            throw new IllegalArgumentException(option + ": '" + s + "' is not a percentage in (0, 100]");
        }
        return new CacheSize(Unit.PERCENT, p, s);
    }

    private static List<String> split(String option, String list) {
        List<String> parts = new ArrayList<>();
        for (String p : list.split(",", -1)) {
            String s = p.strip();
            if (s.isEmpty()) {
                throw new IllegalArgumentException(option + ": empty size in '" + list + "'");
            }
            parts.add(s);
        }
        return parts;
    }

    private static long parseCount(String s) {
        if (!s.matches("\\d{1,18}")) {
            return -1;
        }
        return Long.parseLong(s);
    }
}
