package io.jdmcache.metadata;

import java.io.IOException;

/** Receives each valid mapping when the metadata is loaded (the kernel's load_mapping_fn). */
@FunctionalInterface
public interface MappingVisitor {
    /**
     * @param oblock    the origin block
     * @param cblock    the cache block holding it
     * @param dirty     whether the cache copy may differ from the origin (always true after an unclean stop)
     * @param hint      the policy's hint (valid only when {@code hintValid})
     * @param hintValid whether the stored hint belongs to the loading policy
     */
    void mapping(long oblock, long cblock, boolean dirty, long hint, boolean hintValid) throws IOException;
}
