package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;

/** A mapping could not be loaded; names the cache block (and origin block when known). */
public final class MappingLoadException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final long cblock;
    private final long oblock;

    public MappingLoadException(long cblock, long oblock, String message, Throwable cause) {
        super(message, cause);
        this.cblock = cblock;
        this.oblock = oblock;
    }

    public long cblock() {
        return cblock;
    }

    /** The origin block, or -1 when it was not known. */
    public long oblock() {
        return oblock;
    }

    /** The metadata block at fault when the cause names one (a bad checksum, a block past the end), else -1. */
    @Override
    public long block() {
        return getCause() instanceof MetadataException m ? m.block() : -1;
    }
}
