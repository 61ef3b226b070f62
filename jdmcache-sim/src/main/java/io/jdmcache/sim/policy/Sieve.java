package io.jdmcache.sim.policy;

/**
 * SIEVE (Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is Simpler than LRU: an Efficient Turn-Key Eviction
 * Algorithm for Web Caches", NSDI'24, figure 2): one FIFO queue, new blocks at its head, a visited bit per block
 * set by hits, and a hand that sweeps from the tail towards the head: a visited block it passes is cleared and
 * kept in place, the first unvisited one is evicted and the hand stays where it was. Hits move nothing.
 */
final class Sieve extends OnlineCache {
    private static final int Q = 0;
    private final BlockLists lists;
    private final boolean[] visited;
    private int hand = BlockLists.NONE;

    Sieve(int capacity, int blocks) {
        super(capacity, blocks);
        lists = new BlockLists(blocks, 1);
        visited = new boolean[blocks];
    }

    @Override
    public boolean access(int x, boolean write) {
        if (lists.in(x, Q)) {
            visited[x] = true;
            return true;
        }
        if (capacity == 0) {
            return false;
        }
        if (lists.size(Q) >= capacity) {
            evict();
        }
        visited[x] = false;
        lists.pushHead(Q, x);
        fill();
        return false;
    }

    private void evict() {
        int o = hand != BlockLists.NONE ? hand : lists.tail(Q);
        while (visited[o]) {
            visited[o] = false;
            o = lists.prev(o);
            if (o == BlockLists.NONE) {
                o = lists.tail(Q);
            }
        }
        hand = lists.prev(o);
        lists.remove(o);
    }

    @Override
    public void discard(int b) {
        if (!lists.in(b, Q)) {
            return;
        }
        if (hand == b) {
            hand = lists.prev(b);
        }
        lists.remove(b);
    }

    @Override
    public boolean contains(int b) {
        return lists.in(b, Q);
    }

    @Override
    public int size() {
        return lists.size(Q);
    }
}
