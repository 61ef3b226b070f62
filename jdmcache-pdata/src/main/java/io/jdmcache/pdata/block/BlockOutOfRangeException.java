package io.jdmcache.pdata.block;

/** A block number points past the end of the metadata device. */
public final class BlockOutOfRangeException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final long block;
    private final long nrBlocks;

    public BlockOutOfRangeException(long block, long nrBlocks) {
        super("block out of bounds (" + Long.toUnsignedString(block) + " >= " + nrBlocks
                + "): past the end of the metadata device");
        this.block = block;
        this.nrBlocks = nrBlocks;
    }

    @Override
    public long block() {
        return block;
    }

    public long nrBlocks() {
        return nrBlocks;
    }
}
