package io.jdmcache.policy;

/** Receives the mappings of a policy, one call per mapped cache block, in increasing cache block order. */
@FunctionalInterface
public interface MappingVisitor {
    /**
     * @param cblock the cache block
     * @param oblock the origin block it holds
     * @param dirty  whether the policy believes the block is dirty
     * @param hint   the block's 4-byte hint (its level), as {@link CachePolicy#getHint} would return
     */
    void visit(int cblock, long oblock, boolean dirty, int hint);
}
