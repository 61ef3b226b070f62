package io.jdmcache.sim.policy;

/**
 * ARC, the Adaptive Replacement Cache (Megiddo and Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache",
 * FAST'03, figure 4). Two resident LRU lists, T1 (blocks seen once recently) and T2 (seen at least twice), and
 * their ghost lists B1 and B2 of blocks evicted from them; a hit in B1 grows the target size {@code p} of T1,
 * a hit in B2 shrinks it, so the split between recency and frequency follows the workload. Invariants:
 * |T1| + |T2| <= c, |T1| + |B1| <= c, |T1| + |T2| + |B1| + |B2| <= 2c, 0 <= p <= c.
 *
 * <p>Departure for discards, which the paper does not have: a discarded block leaves whichever list holds it,
 * and REPLACE runs only when the cache is full (after discards it may not be).
 */
final class Arc extends OnlineCache {
    static final int T1 = 0;
    static final int T2 = 1;
    static final int B1 = 2;
    static final int B2 = 3;
    private final BlockLists lists;
    private double p;

    Arc(int capacity, int blocks) {
        super(capacity, blocks);
        lists = new BlockLists(blocks, 4);
    }

    @Override
    public boolean access(int x, boolean write) {
        int where = lists.listOf(x);
        if (where == T1 || where == T2) {
            lists.moveToHead(T2, x); // case I
            return true;
        }
        if (capacity == 0) {
            return false;
        }
        int c = capacity;
        if (where == B1) { // case II
            p = Math.min(c, p + Math.max(1.0, (double) lists.size(B2) / lists.size(B1)));
            replace(false);
            lists.moveToHead(T2, x);
        } else if (where == B2) { // case III
            p = Math.max(0, p - Math.max(1.0, (double) lists.size(B1) / lists.size(B2)));
            replace(true);
            lists.moveToHead(T2, x);
        } else { // case IV
            int l1 = lists.size(T1) + lists.size(B1);
            int total = l1 + lists.size(T2) + lists.size(B2);
            if (l1 == c) {
                if (lists.size(T1) < c) {
                    lists.popTail(B1);
                    replace(false);
                } else {
                    lists.popTail(T1);
                }
            } else if (total >= c) {
                if (total >= 2 * c) {
                    lists.popTail(B2);
                }
                replace(false);
            }
            lists.pushHead(T1, x);
        }
        fill();
        return false;
    }

    /** REPLACE(x, p): makes room in the cache, moving the LRU block of T1 or T2 to its ghost list. */
    private void replace(boolean inB2) {
        if (lists.size(T1) + lists.size(T2) < capacity) {
            return;
        }
        int t1 = lists.size(T1);
        if (t1 >= 1 && (inB2 && t1 == p || t1 > p)) {
            lists.pushHead(B1, lists.popTail(T1));
        } else if (lists.size(T2) > 0) {
            lists.pushHead(B2, lists.popTail(T2));
        } else {
            lists.pushHead(B1, lists.popTail(T1));
        }
    }

    @Override
    public void discard(int b) {
        lists.remove(b);
    }

    @Override
    public boolean contains(int b) {
        int l = lists.listOf(b);
        return l == T1 || l == T2;
    }

    @Override
    public int size() {
        return lists.size(T1) + lists.size(T2);
    }

    int listSize(int l) {
        return lists.size(l);
    }

    double target() {
        return p;
    }
}
