package io.jdmcache.policy;

/**
 * The per-cache-block state of a policy, indexed by cache block: origin block, flags, and the mapping
 * table (origin block to cache block) as a {@link BlockHashTable} over the origin blocks. Free blocks are
 * kept in a list threaded through the shared {@link Links} (a block is never in a queue while free), and
 * handed out lowest block first.
 *
 * <p>Flags, four bits a block: {@link #MAPPED} (in the mapping table), {@link #DIRTY}, {@link #PENDING}
 * (background work in flight: the block is out of its queue, or reserved by a promotion), and the cache
 * queues' {@link #testAndSetHit hit bit} (hit this period). {@link #ALLOCATED} (not free) is not stored: a
 * block in use is mapped or reserved, so it is either flag.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class CacheEntries {
    static final byte MAPPED = 1;
    static final byte DIRTY = 2;
    static final byte PENDING = 4;
    private static final byte HIT = 8;
    /** Not free: mapped, or reserved by a promotion (which is pending). */
    static final byte ALLOCATED = MAPPED | PENDING;

    private final int nrBlocks;
    private final PackedLongs oblock;
    /** Four flag bits per block, two blocks a byte (block {@code c} in the low nibble when {@code c} is even). */
    private final byte[] flags;
    private final BlockHashTable table;
    private final LevelLists free;
    private int allocated;
    private int dirty;

    CacheEntries(Links links, int nrBlocks, long originBlocks) {
        this.nrBlocks = nrBlocks;
        this.oblock = new PackedLongs(nrBlocks, originBlocks);
        this.flags = new byte[(nrBlocks + 1) >>> 1];
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
            setFlags(c, 0); // the caller marks it pending (reserved) or maps it at once
            allocated++;
        }
        return c;
    }

    /** Takes a particular free block. */
    void allocate(int c) {
        free.remove(0, c);
        setFlags(c, 0); // mapped by the caller at once
        allocated++;
    }

    /** Returns a block that is out of every queue and not mapped to the free list. */
    void release(int c) {
        if (has(c, DIRTY)) {
            dirty--;
        }
        setFlags(c, 0);
        oblock.set(c, 0);
        allocated--;
        free.addTail(0, c);
    }

    /** Enters {@code c -> ob} into the mapping table. */
    void map(int c, long ob) {
        oblock.set(c, ob);
        set(c, MAPPED);
        table.insert(c);
    }

    /** Removes {@code c} from the mapping table. */
    void unmap(int c) {
        table.remove(c);
        clear(c, MAPPED);
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
        return oblock.get(c);
    }

    private int flagsOf(int c) {
        return (flags[c >>> 1] >>> ((c & 1) << 2)) & 0xf;
    }

    private void setFlags(int c, int f) {
        int shift = (c & 1) << 2;
        flags[c >>> 1] = (byte) ((flags[c >>> 1] & ~(0xf << shift)) | f << shift);
    }

    boolean has(int c, byte flag) {
        return (flagsOf(c) & flag) != 0;
    }

    void set(int c, byte flag) {
        setFlags(c, flagsOf(c) | flag);
    }

    void clear(int c, byte flag) {
        setFlags(c, flagsOf(c) & ~flag);
    }

    void setDirty(int c, boolean d) {
        boolean was = has(c, DIRTY);
        if (was == d) {
            return;
        }
        if (d) {
            set(c, DIRTY);
            dirty++;
        } else {
            clear(c, DIRTY);
            dirty--;
        }
    }

    /**
     * For a reader without the lock (the policy validates what it read under its seqlock): the block mapped to
     * {@code ob} if it has no work in flight and its hit bit is set, else {@link Links#NULL}.
     */
    int findRepeatHit(long ob) {
        int c = table.findBounded(ob, 64);
        if (c == Links.NULL) {
            return Links.NULL;
        }
        int f = flagsOf(c);
        return (f & (MAPPED | PENDING | HIT)) == (MAPPED | HIT) ? c : Links.NULL;
    }

    /** For a reader without the lock (validated as {@link #findRepeatHit}): mapped, dirty, no work in flight. */
    boolean isQuietlyDirty(int c) {
        return (flagsOf(c) & (MAPPED | PENDING | DIRTY)) == (MAPPED | DIRTY);
    }

    /** Sets the hit bit of {@code c} and returns whether it was set already. */
    boolean testAndSetHit(int c) {
        int f = flagsOf(c);
        if ((f & HIT) != 0) {
            return true;
        }
        setFlags(c, f | HIT);
        return false;
    }

    void clearHit(int c) {
        clear(c, HIT);
    }

    /** Clears every block's hit bit. */
    void clearAllHits() {
        byte keep = (byte) ~(HIT | HIT << 4);
        for (int i = 0; i < flags.length; i++) {
            flags[i] &= keep;
        }
    }

    /** The origin block mapped to {@code c}, or -1 when it is not mapped (the caller holds the policy's lock). */
    long oblockIfMapped(int c) {
        return has(c, MAPPED) ? oblock(c) : -1;
    }

    /** Whether {@code c} is mapped and dirty. */
    boolean mappedDirty(int c) {
        return has(c, MAPPED) && has(c, DIRTY);
    }

    /** The first mapped cache block from {@code from} on, or -1. */
    int nextMapped(int from) {
        for (int c = Math.max(0, from); c < nrBlocks; c++) {
            if (has(c, MAPPED)) {
                return c;
            }
        }
        return -1;
    }

    /** Each mapped block in cache-block order, with its origin block, dirty flag and {@code hint}'s value. */
    void forEachMapping(MappingVisitor visitor, java.util.function.IntUnaryOperator hint) {
        for (int c = 0; c < nrBlocks; c++) {
            if (has(c, MAPPED)) {
                visitor.visit(c, oblock(c), has(c, DIRTY), hint.applyAsInt(c));
            }
        }
    }

    long bytes() {
        return oblock.bytes() + flags.length + table.bytes();
    }
}
