package io.jdmcache.metadata;

import java.io.IOException;

/** Receives the discard bitset when the metadata is loaded (the kernel's load_discard_fn). */
@FunctionalInterface
public interface DiscardVisitor {
    /**
     * @param discardBlockSize sectors per discard block as stored
     * @param dblock           the discard block
     * @param discarded        whether it is known to be discarded (always false after an unclean stop)
     */
    void discard(long discardBlockSize, long dblock, boolean discarded) throws IOException;
}
