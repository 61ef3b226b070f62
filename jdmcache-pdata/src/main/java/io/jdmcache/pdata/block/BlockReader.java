package io.jdmcache.pdata.block;

/** Read access to validated metadata blocks (the block manager, or a transaction manager over it). */
@FunctionalInterface
public interface BlockReader {
    ReadBlock read(long location, BlockValidator validator) throws MetadataException;

    /** A hint that blocks {@code first..first+count-1} will be read soon; the default ignores it. */
    default void prefetch(long first, int count) throws MetadataException {
    }
}
