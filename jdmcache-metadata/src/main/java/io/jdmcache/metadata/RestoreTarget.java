package io.jdmcache.metadata;

/**
 * What a restore fills: {@link MetadataBuilder} (everything in memory first, any order) or
 * {@link StreamingMetadataBuilder} (written as it comes, cache blocks in ascending order).
 */
public interface RestoreTarget {
    long cacheBlocks();

    /** Maps {@code cblock} to {@code oblock}. */
    void setMapping(long cblock, long oblock, boolean dirty);

    /** Sets the 4-byte hint of {@code cblock}. */
    void setHint(long cblock, int hint);

    /** Sizes the discard bitset. */
    void setDiscardGeometry(long blockSize, long nrBlocks);

    /** Marks discard blocks [from, to) discarded. */
    void setDiscarded(long from, long to);

    /** Thrown by a streaming target when the input leaves ascending order: restore falls back to memory. */
    final class OutOfOrderException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public OutOfOrderException(String message) {
            super(message, null, false, false);
        }
    }
}
