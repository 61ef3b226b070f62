package io.jdmcache.pdata.block;

/** A shared (read) lock on a validated metadata block. */
public final class ReadBlock extends BlockRef {
    ReadBlock(BlockManager bm, int slot, long location, byte[] data) {
        super(bm, slot, location, data);
    }

    @Override
    boolean isWrite() {
        return false;
    }
}
