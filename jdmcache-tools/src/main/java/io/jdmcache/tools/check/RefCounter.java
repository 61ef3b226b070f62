package io.jdmcache.tools.check;

/**
 * References found by walking the metadata, per block, and who made the first one (for messages).
 * Blocks outside the device are not counted (the walkers report them).
 */
final class RefCounter {
    private final int[] refs;
    private final byte[] owner;
    static final String[] OWNERS = {"?", "superblock", "space map", "mapping array", "hint array", "dirty bitset",
            "discard bitset"};
    static final int SUPERBLOCK = 1;
    static final int SPACE_MAP = 2;
    static final int MAPPINGS = 3;
    static final int HINTS = 4;
    static final int DIRTY = 5;
    static final int DISCARDS = 6;

    RefCounter(long nrBlocks) {
        refs = new int[(int) nrBlocks];
        owner = new byte[(int) nrBlocks];
    }

    /** Counts one reference; returns the count before it. */
    int add(long b, int who) {
        if (b < 0 || b >= refs.length) {
            return 0;
        }
        int before = refs[(int) b]++;
        if (before == 0) {
            owner[(int) b] = (byte) who;
        }
        return before;
    }

    int count(long b) {
        return refs[(int) b];
    }

    String owner(long b) {
        return OWNERS[owner[(int) b]];
    }

    int size() {
        return refs.length;
    }
}
