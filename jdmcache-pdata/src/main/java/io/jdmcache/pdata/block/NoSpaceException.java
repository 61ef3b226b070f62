package io.jdmcache.pdata.block;

/** The metadata space map has no free block left. */
public final class NoSpaceException extends MetadataException {
    private static final long serialVersionUID = 1L;

    public NoSpaceException(long nrBlocks) {
        super("out of metadata space: all " + nrBlocks + " metadata blocks are in use");
    }
}
