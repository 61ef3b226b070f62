package io.jdmcache.pdata.block;

/** A change was attempted while the metadata is read-only. */
public final class ReadOnlyException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public ReadOnlyException(String what) {
        super(what + ": the metadata is read-only");
    }
}
