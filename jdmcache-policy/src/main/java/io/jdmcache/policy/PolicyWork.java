package io.jdmcache.policy;

import java.util.Objects;

/**
 * One background work item handed by a policy to the engine: promote, demote or write back one block.
 *
 * <p>A value: two items are equal when op, origin block and cache block are equal. The policy keeps the
 * item's state itself (in primitive slots of its background tracker, keyed by origin block, and the
 * tracker never holds two items for one origin block), so the engine may keep this record, pass it across
 * threads and hand it back to {@link CachePolicy#completeBackgroundWork}; completing an item that is not
 * in flight is refused. One small record is allocated per migration, which moves a whole cache block
 * (at least 32 KiB); lookups, the per-I/O path, never allocate.
 *
 * @param op     what to do
 * @param oblock the origin block, {@code >= 0}
 * @param cblock the cache block, {@code >= 0}
 */
public record PolicyWork(WorkOp op, long oblock, int cblock) {
    public PolicyWork {
        Objects.requireNonNull(op, "op");
        if (oblock < 0) {
            throw new IllegalArgumentException("negative origin block " + oblock);
        }
        if (cblock < 0) {
            throw new IllegalArgumentException("negative cache block " + cblock);
        }
    }

    @Override
    public String toString() {
        return op.name().toLowerCase(java.util.Locale.ROOT) + "(oblock=" + oblock + ", cblock=" + cblock + ")";
    }
}
