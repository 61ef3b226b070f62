package io.jdmcache.pdata.block;

import java.io.IOException;

/** The device failed to read or write a metadata block. */
public final class MetadataIoException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final long block;

    public MetadataIoException(String what, long block, IOException cause) {
        super(what + " of metadata block " + block + " failed: " + cause.getMessage(), cause);
        this.block = block;
    }

    public MetadataIoException(String what, IOException cause) {
        super(what + " failed: " + cause.getMessage(), cause);
        this.block = -1;
    }

    @Override
    public long block() {
        return block;
    }
}
