package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;

/** A change that would drop cached data was refused because a cache block is dirty. */
public final class DirtyBlockException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final long cblock;

    public DirtyBlockException(long cblock, String message) {
        super(message);
        this.cblock = cblock;
    }

    /** The first dirty cache block in the way. */
    public long cblock() {
        return cblock;
    }
}
