package io.jdmcache.sim.policy;

import java.util.Arrays;
import java.util.function.LongConsumer;

import io.jdmcache.sim.trace.Trace;

/**
 * Belady's MIN with bypass (Belady, "A study of replacement algorithms for a virtual-storage computer", IBM
 * Systems Journal 1966), the offline optimum for a cache that can take a block only when it is accessed: on a miss
 * with the cache full, the cached block whose next use is furthest away is evicted, unless the missed block itself
 * is used again later than that, in which case it is not admitted at all. A discard ends a block's use (its next
 * use before the discard is "never"), and drops it.
 *
 * <p>Next uses are precomputed backwards (one int per event); the cached blocks sit in a binary max-heap of
 * {@code nextUse << 32 | block} with lazy deletion (an entry is live while it matches the block's current next use).
 * O(log C) per access amortised.
 */
final class Opt implements SimPolicy {
    private static final int NEVER = Integer.MAX_VALUE;
    private static final int NOT_CACHED = -1;

    @Override
    public String name() {
        return "opt";
    }

    @Override
    public Kind kind() {
        return Kind.ORACLE;
    }

    @Override
    public String description() {
        return "Belady's MIN with bypass (IBM Systems Journal 1966): the offline optimum";
    }

    @Override
    public SimResult run(Trace trace, int cacheBlocks, LongConsumer progress) {
        int[] events = trace.events();
        int n = events.length;
        int[] nextUse = new int[n];
        int[] seenAt = new int[trace.blocks()];
        Arrays.fill(seenAt, NEVER);
        for (int i = n - 1; i >= 0; i--) {
            int e = events[i];
            if (e >= 0) {
                nextUse[i] = seenAt[e];
                seenAt[e] = i;
            } else {
                seenAt[~e] = NEVER;
            }
        }
        int[] cachedNext = seenAt; // reuse: NOT_CACHED or the block's pending next use
        Arrays.fill(cachedNext, NOT_CACHED);
        LongMaxHeap heap = new LongMaxHeap(Math.max(16, cacheBlocks * 2));
        int used = 0;
        long hits = 0;
        long fills = 0;
        long accesses = 0;
        int reported = 0;
        for (int i = 0; i < n; i++) {
            if (i - reported >= PROGRESS_EVERY) {
                progress.accept(i - reported);
                reported = i;
            }
            int b = events[i];
            if (b < 0) {
                if (cachedNext[~b] != NOT_CACHED) {
                    cachedNext[~b] = NOT_CACHED;
                    used--;
                }
                continue;
            }
            accesses++;
            int nu = nextUse[i];
            if (cachedNext[b] != NOT_CACHED) {
                hits++;
                cachedNext[b] = nu;
                heap.push(key(nu, b));
            } else if (cacheBlocks > 0) {
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
                fills++;
                cachedNext[b] = nu;
                heap.push(key(nu, b));
            }
            if (heap.size() > 4 * Math.max(16, cacheBlocks)) {
                heap.compact(e -> cachedNext[(int) e] == (int) (e >>> 32));
            }
        }
        progress.accept(n - reported);
        return new SimResult(name(), cacheBlocks, accesses, hits, fills);
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
