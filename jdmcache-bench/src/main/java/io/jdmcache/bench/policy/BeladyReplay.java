package io.jdmcache.bench.policy;

import java.util.Arrays;

/**
 * Belady's MIN with bypass, the offline optimum for a cache that can only take a block when it is accessed:
 * on a miss with the cache full, the cached block whose next use is furthest away is evicted, unless the
 * missed block itself is used again later than that, in which case it is not cached at all.
 *
 * <p>Next uses are precomputed backwards (one int per I/O); the cached blocks sit in a binary max-heap of
 * {@code nextUse << 32 | block} with lazy deletion (an entry is live while it matches the block's current next
 * use). O(log C) per I/O amortised.
 */
final class BeladyReplay implements Replay {
    private static final int NEVER = Integer.MAX_VALUE;
    private static final int NOT_CACHED = -1;

    @Override
    public String name() {
        return "OPT";
    }

    @Override
    public ReplayResult replay(Trace trace, int cacheBlocks) {
        int[] blocks = trace.blocks();
        int n = blocks.length;
        int[] nextUse = new int[n];
        int[] seenAt = new int[trace.originBlocks()];
        Arrays.fill(seenAt, NEVER);
        for (int i = n - 1; i >= 0; i--) {
            nextUse[i] = seenAt[blocks[i]];
            seenAt[blocks[i]] = i;
        }
        int[] cachedNext = seenAt; // reuse: NOT_CACHED or the block's pending next use
        Arrays.fill(cachedNext, NOT_CACHED);
        LongMaxHeap heap = new LongMaxHeap(Math.max(16, cacheBlocks * 2));
        int used = 0;
        HitCounter counter = new HitCounter(n);
        for (int i = 0; i < n; i++) {
            int b = blocks[i];
            int nu = nextUse[i];
            if (cachedNext[b] != NOT_CACHED) {
                counter.hit(i);
                cachedNext[b] = nu;
                heap.push(key(nu, b));
                continue;
            }
            if (cacheBlocks == 0) {
                continue;
            }
            if (used < cacheBlocks) {
                used++;
            } else {
                long top = liveTop(heap, cachedNext);
                int victimNext = (int) (top >>> 32);
                if (victimNext <= nu) {
                    continue; // bypass: the new block is needed later than anything cached
                }
                heap.pop();
                cachedNext[(int) top] = NOT_CACHED;
            }
            cachedNext[b] = nu;
            heap.push(key(nu, b));
            if (heap.size() > 4 * Math.max(16, cacheBlocks)) {
                heap.compact(e -> cachedNext[(int) e] == (int) (e >>> 32));
            }
        }
        return new ReplayResult(name(), n, counter.hits(), counter.lateIos(n), counter.lateHits(), 0, 0, 0, 0, 0);
    }

    private static long key(int nextUse, int block) {
        return ((long) nextUse << 32) | block;
    }

    private static long liveTop(LongMaxHeap heap, int[] cachedNext) {
        while (true) {
            long top = heap.peek();
            if (cachedNext[(int) top] == (int) (top >>> 32)) {
                return top;
            }
            heap.pop();
        }
    }
}
