package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;

/** An operation was refused because of the metadata's mode (read-only, fail, or needs_check). */
public final class MetadataModeException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final MetadataMode mode;

    public MetadataModeException(MetadataMode mode, String message) {
        super(message);
        this.mode = mode;
    }

    public MetadataModeException(MetadataMode mode, String message, Throwable cause) {
        super(message, cause);
        this.mode = mode;
    }

    public MetadataMode mode() {
        return mode;
    }
}
