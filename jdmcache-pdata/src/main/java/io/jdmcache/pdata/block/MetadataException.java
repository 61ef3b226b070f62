package io.jdmcache.pdata.block;

import java.io.IOException;

/**
 * Something is wrong with the metadata or its device. Messages name the structure and the block at
 * fault; subclasses carry the same facts as fields.
 */
public abstract class MetadataException extends IOException {
    private static final long serialVersionUID = 1L;

    protected MetadataException(String message) {
        super(message);
    }

    protected MetadataException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The metadata block at fault, or -1 when the problem is not about one block. */
    public long block() {
        return -1;
    }
}
