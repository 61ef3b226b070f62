package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;

/**
 * Where a format keeps the dirty state: inside each mapping (format 1) or in a separate bitset (format 2).
 * Chosen once from the superblock version.
 */
interface DirtyFormat {

    /** Mapping flag bits a mapping may carry in this format. */
    int allowedMappingFlags();

    /** Creates the format's empty dirty structure when formatting. */
    void format(MetadataCore core) throws MetadataException;

    /**
     * Refuses dirty bits this format cannot take (IllegalArgumentException) before anything changes:
     * {@code words} must hold {@code nrBits} bits, and format 2 needs exactly one bit per cache block.
     */
    default void checkDirtyBits(MetadataCore core, long[] words, long nrBits) {
        if (nrBits < 0 || words == null || (long) words.length * 64 < Math.min(nrBits, core.cacheBlocks)) {
            throw new IllegalArgumentException("dirty bits: " + (words == null ? "no words" : words.length + " words")
                    + " cannot hold " + nrBits + " bits");
        }
    }

    /** Writes the dirty state of cache blocks [0, nrBits) from {@code words} (bit i of word i/64). */
    void setDirtyBits(MetadataCore core, long[] words, long nrBits) throws MetadataException;

    /** Writes the dirty state of cache blocks [64w, 64w + 64) that exist from {@code value} (bit i: block 64w+i). */
    void setDirtyWord(MetadataCore core, long w, long value) throws MetadataException;

    /** Grows or shrinks the dirty structure with the mapping array. */
    void resize(MetadataCore core, long oldBlocks, long newBlocks) throws MetadataException;

    /** The first dirty cache block in [from, to), or -1. */
    long firstDirty(MetadataCore core, long from, long to) throws MetadataException;

    /** A reader of the stored dirty bits, aligned with the mapping cursor; null when format 1. */
    DirtySource openDirtySource(MetadataCore core) throws MetadataException;

    /** Sequential access to stored dirty bits. */
    interface DirtySource {
        boolean dirty(long cblock, long mappingValue) throws MetadataException;
    }

    static DirtyFormat of(int version) {
        return version >= 2 ? new Format2() : new Format1();
    }
}
