package io.jdmcache.policy;

/**
 * The per-cache-block state of a policy, indexed by cache block: origin block, flags, and the mapping
 * table (origin block to cache block) as a {@link BlockHashTable} over the origin blocks. Free blocks are
 * kept in a list threaded through the shared {@link Links} (a block is never in a queue while free), and
 * handed out lowest block first.
 *
 * <p>Flags: {@link #ALLOCATED} (not free), {@link #MAPPED} (in the mapping table), {@link #DIRTY},
 * {@link #PENDING} (background work in flight: the block is out of its queue).
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class CacheEntries {
    static final byte ALLOCATED = 1;
    static final byte MAPPED = 2;
    static final byte DIRTY = 4;
    static final byte PENDING = 8;

    private final int nrBlocks;
    private final long[] oblock;
    private final byte[] flags;
    private final BlockHashTable table;
    private final LevelLists free;
    private int allocated;
    private int dirty;

    CacheEntries(Links links, int nrBlocks) {
        this.nrBlocks = nrBlocks;
        this.oblock = new long[nrBlocks];
        this.flags = new byte[nrBlocks];
        this.table = new BlockHashTable(oblock);
        this.free = new LevelLists(links, 1);
        for (int c = 0; c < nrBlocks; c++) {
            free.addTail(0, c);
        }
    }

    int nrBlocks() {
        return nrBlocks;
    }

    int allocated() {
        return allocated;
    }

    int freeCount() {
        return nrBlocks - allocated;
    }

    int dirtyCount() {
        return dirty;
    }

    /** Takes the lowest free block (flags: allocated, clean, not mapped, not pending), or {@link Links#NULL}. */
    int allocate() {
        int c = free.popHead(0);
        if (c != Links.NULL) {
            flags[c] = ALLOCATED;
            allocated++;
        }
        return c;
    }

    /** Takes a particular free block. */
    void allocate(int c) {
        free.remove(0, c);
        flags[c] = ALLOCATED;
        allocated++;
    }

    /** Returns a block that is out of every queue and not mapped to the free list. */
    void release(int c) {
        if (has(c, DIRTY)) {
            dirty--;
        }
        flags[c] = 0;
        oblock[c] = 0;
        allocated--;
        free.addTail(0, c);
    }

    /** Enters {@code c -> ob} into the mapping table. */
    void map(int c, long ob) {
        oblock[c] = ob;
        flags[c] |= MAPPED;
        table.insert(c);
    }

    /** Removes {@code c} from the mapping table. */
    void unmap(int c) {
        table.remove(c);
        flags[c] &= ~MAPPED;
    }

    /** The block mapped to {@code ob}, or {@link Links#NULL}; no side effect. */
    int find(long ob) {
        return table.find(ob);
    }

    /** The block mapped to {@code ob}, or {@link Links#NULL}; moves it to the front of its hash chain. */
    int lookup(long ob) {
        return table.lookup(ob);
    }

    long oblock(int c) {
        return oblock[c];
    }

    boolean has(int c, byte flag) {
        return (flags[c] & flag) != 0;
    }

    void set(int c, byte flag) {
        flags[c] |= flag;
    }

    void clear(int c, byte flag) {
        flags[c] &= ~flag;
    }

    void setDirty(int c, boolean d) {
        boolean was = has(c, DIRTY);
        if (was == d) {
            return;
        }
        if (d) {
            flags[c] |= DIRTY;
            dirty++;
        } else {
            flags[c] &= ~DIRTY;
            dirty--;
        }
    }

    long bytes() {
        return 8L * oblock.length + flags.length + table.bytes();
    }
}
