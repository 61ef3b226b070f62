package io.jdmcache.tools.dump;

import java.io.IOException;

/** The metadata cannot be read in full (and the reader was not asked to salvage). */
public final class DamagedMetadataException extends IOException {
    private static final long serialVersionUID = 1L;

    public DamagedMetadataException(String message) {
        super(message);
    }
}
