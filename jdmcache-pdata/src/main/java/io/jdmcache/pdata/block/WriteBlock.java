package io.jdmcache.pdata.block;

/**
 * An exclusive (write) lock on a metadata block. The block is marked dirty; its block number and
 * checksum are filled in by its validator when it is written back.
 */
public final class WriteBlock extends BlockRef {
    WriteBlock(BlockManager bm, int slot, long location, byte[] data) {
        super(bm, slot, location, data);
    }

    @Override
    boolean isWrite() {
        return true;
    }
}
