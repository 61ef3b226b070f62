package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;

/** A superblock field breaks the rules (magic, version, flags, block sizes, feature flags, device size). */
public final class InvalidSuperblockException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final String field;

    public InvalidSuperblockException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The superblock field at fault ("magic", "version", ...). */
    public String field() {
        return field;
    }

    @Override
    public long block() {
        return 0;
    }
}
