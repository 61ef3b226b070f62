package io.jdmcache.sim.policy;

/** Plain demand LRU: every miss is admitted, evicting the least recently used block. */
final class Lru extends OnlineCache {
    private static final int L = 0;
    private final BlockLists lists;

    Lru(int capacity, int blocks) {
        super(capacity, blocks);
        lists = new BlockLists(blocks, 1);
    }

    @Override
    public boolean access(int b, boolean write) {
        if (lists.in(b, L)) {
            lists.moveToHead(L, b);
            return true;
        }
        if (capacity == 0) {
            return false;
        }
        if (lists.size(L) == capacity) {
            lists.popTail(L);
        }
        lists.pushHead(L, b);
        fill();
        return false;
    }

    @Override
    public void discard(int b) {
        lists.remove(b);
    }

    @Override
    public boolean contains(int b) {
        return lists.in(b, L);
    }

    @Override
    public int size() {
        return lists.size(L);
    }
}
