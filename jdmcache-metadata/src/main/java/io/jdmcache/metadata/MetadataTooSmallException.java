package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;

/** The metadata device is smaller than {@link MetadataSize} requires for the cache; nothing was written. */
public final class MetadataTooSmallException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public MetadataTooSmallException(String message) {
        super(message);
    }
}
