package io.jdmcache.bench.policy;

import java.util.Arrays;

/**
 * Plain demand LRU: every miss is inserted at once, evicting the least recently used block. Primitive arrays
 * indexed by origin block and by slot; O(1) per I/O.
 */
final class LruReplay implements Replay {
    private static final int NONE = -1;

    @Override
    public String name() {
        return "LRU";
    }

    @Override
    public ReplayResult replay(Trace trace, int cacheBlocks) {
        int[] slotOf = new int[trace.originBlocks()];
        Arrays.fill(slotOf, NONE);
        int[] blockOf = new int[cacheBlocks];
        int[] prev = new int[cacheBlocks];
        int[] next = new int[cacheBlocks];
        int head = NONE;
        int tail = NONE;
        int used = 0;
        HitCounter counter = new HitCounter(trace.length());
        int[] blocks = trace.blocks();
        for (int i = 0; i < blocks.length; i++) {
            int b = blocks[i];
            int s = slotOf[b];
            if (s != NONE) {
                counter.hit(i);
                if (s == head) {
                    continue;
                }
                // unlink, then push at the head
                next[prev[s]] = next[s];
                if (next[s] != NONE) {
                    prev[next[s]] = prev[s];
                } else {
                    tail = prev[s];
                }
            } else if (cacheBlocks == 0) {
                continue;
            } else if (used < cacheBlocks) {
                s = used++;
                slotOf[b] = s;
                blockOf[s] = b;
                if (tail == NONE) {
                    tail = s;
                }
            } else {
                s = tail;
                tail = prev[s];
                if (tail != NONE) {
                    next[tail] = NONE;
                } else {
                    head = NONE;
                }
                slotOf[blockOf[s]] = NONE;
                slotOf[b] = s;
                blockOf[s] = b;
                if (tail == NONE) {
                    tail = s;
                }
            }
            prev[s] = NONE;
            next[s] = head;
            if (head != NONE) {
                prev[head] = s;
            }
            head = s;
        }
        return new ReplayResult(name(), blocks.length, counter.hits(), counter.lateIos(blocks.length),
                counter.lateHits(), 0, 0, 0, 0, 0);
    }
}
