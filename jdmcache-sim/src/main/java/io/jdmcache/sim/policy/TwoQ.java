package io.jdmcache.sim.policy;

/**
 * 2Q, the full version (Johnson and Shasha, "2Q: A Low Overhead High Performance Buffer Management Replacement
 * Algorithm", VLDB'94, section 2.2): a first access puts a block in A1in, a FIFO of {@code Kin} = 25% of the
 * cache; a block pushed out of A1in is remembered (without its data) in A1out, a FIFO of {@code Kout} = 50% of
 * the cache's entries; a miss on a block remembered in A1out puts it in Am, an LRU list. Re-accesses while in
 * A1in (correlated references) change nothing, so one burst of accesses does not make a block hot.
 */
final class TwoQ extends OnlineCache {
    static final int AM = 0;
    static final int A1IN = 1;
    static final int A1OUT = 2;
    private final BlockLists lists;
    private final int kin;
    private final int kout;

    TwoQ(int capacity, int blocks) {
        super(capacity, blocks);
        lists = new BlockLists(blocks, 3);
        kin = Math.max(1, capacity / 4);
        kout = Math.max(1, capacity / 2);
    }

    @Override
    public boolean access(int x, boolean write) {
        int where = lists.listOf(x);
        if (where == AM) {
            lists.moveToHead(AM, x);
            return true;
        }
        if (where == A1IN) {
            return true;
        }
        if (capacity == 0) {
            return false;
        }
        reclaim();
        if (where == A1OUT) {
            lists.remove(x);
            lists.pushHead(AM, x);
        } else {
            lists.pushHead(A1IN, x);
        }
        fill();
        return false;
    }

    /** Frees a place when the cache is full: from A1in while it is over Kin (remembering it), else from Am. */
    private void reclaim() {
        if (size() < capacity) {
            return;
        }
        if (lists.size(A1IN) > kin || lists.size(AM) == 0) {
            int y = lists.popTail(A1IN);
            lists.pushHead(A1OUT, y);
            if (lists.size(A1OUT) > kout) {
                lists.popTail(A1OUT);
            }
        } else {
            lists.popTail(AM);
        }
    }

    @Override
    public void discard(int b) {
        lists.remove(b);
    }

    @Override
    public boolean contains(int b) {
        int l = lists.listOf(b);
        return l == AM || l == A1IN;
    }

    @Override
    public int size() {
        return lists.size(AM) + lists.size(A1IN);
    }

    int listSize(int l) {
        return lists.size(l);
    }
}
