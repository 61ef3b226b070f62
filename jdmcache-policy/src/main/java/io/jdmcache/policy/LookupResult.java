package io.jdmcache.policy;

import java.util.Objects;

/**
 * The answer of {@link CachePolicy#lookupWithWork}: a hit, a miss, or a promotion that the caller must carry
 * out now (the kernel's {@code lookup_with_work}). Allocates for hits, so the engine uses it only for the
 * I/Os it can optimise (a write covering a whole block, or a discarded block), where a promotion without
 * a copy is possible; every other I/O goes through the allocation-free {@link CachePolicy#lookup}.
 */
public sealed interface LookupResult permits LookupResult.Hit, LookupResult.Miss, LookupResult.Promote {

    /** A miss with no background work queued. */
    Miss MISS = new Miss(false);
    /** A miss after which background work (a demotion to make room) was queued. */
    Miss MISS_WORK_QUEUED = new Miss(true);

    /** The block is mapped to {@code cblock}. */
    record Hit(int cblock) implements LookupResult {
        public Hit {
            if (cblock < 0) {
                throw new IllegalArgumentException("negative cache block " + cblock);
            }
        }
    }

    /** The block is not in the cache. */
    record Miss(boolean backgroundQueued) implements LookupResult {
    }

    /**
     * The block is not in the cache, and the policy has reserved a free cache block for it and issued the
     * promotion to the caller, who must perform it (or decide to skip the copy) and then call
     * {@link CachePolicy#completeBackgroundWork} with this work. Until then the block is still a miss.
     */
    record Promote(PolicyWork work) implements LookupResult {
        public Promote {
            Objects.requireNonNull(work, "work");
            if (work.op() != WorkOp.PROMOTE) {
                throw new IllegalArgumentException("not a promotion: " + work);
            }
        }
    }
}
