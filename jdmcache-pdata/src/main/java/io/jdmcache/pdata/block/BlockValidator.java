package io.jdmcache.pdata.block;

/**
 * What a block of one kind must look like on disk, passed with every lock call (the kernel's
 * {@code dm_block_validator}). Implementations are stateless values.
 */
public interface BlockValidator {

    /** The kind's name in messages ("btree node", "array block", ...). */
    String name();

    /** Fills in the fields that depend on the location and the content (block number, checksum). */
    void prepareForWrite(byte[] block, long location);

    /**
     * Checks a block just read from {@code location}: the stored block number first
     * ({@link WrongLocationException}), then the checksum ({@link ChecksumException}), then the kind's
     * structural rules ({@link CorruptBlockException}).
     */
    void check(byte[] block, long location) throws MetadataException;
}
