package io.jdmcache.sim.policy;

/**
 * S3-FIFO (Yang, Zhang, Qiu, Yue and Rashmi, "FIFO queues are all you need for cache eviction", SOSP'23,
 * algorithm 1): a small FIFO S (10% of the cache) takes new blocks, a main FIFO M (the rest) keeps those that
 * proved themselves, a ghost FIFO G (as many entries as M holds blocks) remembers blocks evicted from S. Each
 * resident block has a frequency of 0-3, raised by hits. Evicting from S moves a block with frequency above 1 to M
 * (frequency cleared), else evicts it into G; evicting from M reinserts a block with frequency above 0 (one less)
 * and evicts the first with 0. A miss on a block in G inserts it into M. Quick demotion: most one-hit blocks
 * leave from the small queue.
 */
final class S3Fifo extends OnlineCache {
    static final int SMALL = 0;
    static final int MAIN = 1;
    static final int GHOST = 2;
    private final BlockLists lists;
    private final byte[] freq;
    private final int smallTarget;
    private final int mainTarget;

    S3Fifo(int capacity, int blocks) {
        super(capacity, blocks);
        lists = new BlockLists(blocks, 3);
        freq = new byte[blocks];
        smallTarget = Math.max(1, capacity / 10);
        mainTarget = Math.max(1, capacity - smallTarget);
    }

    @Override
    public boolean access(int x, boolean write) {
        int where = lists.listOf(x);
        if (where == SMALL || where == MAIN) {
            if (freq[x] < 3) {
                freq[x]++;
            }
            return true;
        }
        if (capacity == 0) {
            return false;
        }
        while (size() >= capacity) {
            evict();
        }
        freq[x] = 0;
        if (where == GHOST) {
            lists.remove(x);
            lists.pushHead(MAIN, x);
        } else {
            lists.pushHead(SMALL, x);
        }
        fill();
        return false;
    }

    private void evict() {
        if (lists.size(SMALL) >= smallTarget || lists.size(MAIN) == 0) {
            evictSmall();
        } else {
            evictMain();
        }
    }

    private void evictSmall() {
        while (lists.size(SMALL) > 0) {
            int t = lists.popTail(SMALL);
            if (freq[t] > 1) {
                freq[t] = 0;
                lists.pushHead(MAIN, t);
                if (lists.size(MAIN) >= mainTarget + 1) {
                    evictMain();
                    return;
                }
            } else {
                lists.pushHead(GHOST, t);
                if (lists.size(GHOST) > mainTarget) {
                    lists.popTail(GHOST);
                }
                return;
            }
        }
        if (lists.size(MAIN) > 0) {
            evictMain();
        }
    }

    private void evictMain() {
        while (lists.size(MAIN) > 0) {
            int t = lists.popTail(MAIN);
            if (freq[t] > 0) {
                freq[t]--;
                lists.pushHead(MAIN, t);
            } else {
                return;
            }
        }
    }

    @Override
    public void discard(int b) {
        lists.remove(b);
    }

    @Override
    public boolean contains(int b) {
        int l = lists.listOf(b);
        return l == SMALL || l == MAIN;
    }

    @Override
    public int size() {
        return lists.size(SMALL) + lists.size(MAIN);
    }

    int listSize(int l) {
        return lists.size(l);
    }
}
