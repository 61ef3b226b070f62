package io.jdmcache.policy;

/**
 * The link fields of an entry space: for each entry index, the next and previous index in whichever list
 * holds it, and its level. Entries at {@code sentinelStart} and above are sentinels (markers that age the
 * lists but are never returned as entries). Indexes replace pointers; {@link #NULL} ends a list.
 *
 * <p>Not thread-safe: owned by one policy, used under its lock.
 */
final class Links {
    static final int NULL = -1;

    final int[] next;
    final int[] prev;
    final byte[] level;
    final int sentinelStart;

    Links(int entries, int sentinels) {
        int size = Math.addExact(entries, sentinels);
        this.next = new int[size];
        this.prev = new int[size];
        this.level = new byte[size];
        this.sentinelStart = entries;
        java.util.Arrays.fill(next, NULL);
        java.util.Arrays.fill(prev, NULL);
    }

    boolean isSentinel(int e) {
        return e >= sentinelStart;
    }

    int size() {
        return next.length;
    }

    long bytes() {
        return 4L * next.length + 4L * prev.length + level.length;
    }
}
