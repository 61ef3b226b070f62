package io.jdmcache.sim.policy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * The Caffeine library's own bounded cache (W-TinyLFU with its hill-climbed window: Einziger, Friedman and Manes,
 * "TinyLFU: A Highly Efficient Cache Admission Policy", ACM ToS 2017), bounded to the same number of entries and
 * run on the calling thread (its maintenance executor is {@code Runnable::run}), so no background thread changes
 * what it holds: the library anchor of the comparison, not a re-implementation. A miss is a {@code put}, counted
 * as a fill (Caffeine always admits into its window); a hit is a {@code getIfPresent} that finds the block.
 * Caffeine still admits a warm candidate over its victim at random about once in 128 tries (a defence against
 * hash flooding, drawn from {@code ThreadLocalRandom}, whose seed cannot be set), so two runs differ: by up to
 * 1.5 points of hit ratio on the short LIRS traces, much less on long ones.
 */
final class CaffeineCache extends OnlineCache {
    private final Cache<Integer, Boolean> cache;

    CaffeineCache(int capacity, int blocks) {
        super(capacity, blocks);
        cache = Caffeine.newBuilder().maximumSize(capacity).executor(Runnable::run).build();
    }

    @Override
    public boolean access(int b, boolean write) {
        Integer key = b;
        if (cache.getIfPresent(key) != null) {
            return true;
        }
        if (capacity > 0) {
            cache.put(key, Boolean.TRUE);
            fill();
        }
        return false;
    }

    @Override
    public void discard(int b) {
        cache.invalidate(b);
    }

    @Override
    public boolean contains(int b) {
        return cache.asMap().containsKey(b);
    }

    @Override
    public int size() {
        cache.cleanUp();
        return (int) cache.estimatedSize();
    }
}
