package io.jdmcache.pdata.block;

/**
 * A locked metadata block. Close it (try-with-resources) to release the lock. The byte array is the
 * cached block itself: valid only until {@link #close()}.
 */
public abstract sealed class BlockRef implements AutoCloseable permits ReadBlock, WriteBlock {
    final BlockManager bm;
    final int slot;
    final long location;
    final byte[] data;
    private boolean released;

    BlockRef(BlockManager bm, int slot, long location, byte[] data) {
        this.bm = bm;
        this.slot = slot;
        this.location = location;
        this.data = data;
    }

    /** The block number. */
    public final long location() {
        return location;
    }

    /** The block's 4096 bytes. Callers holding a {@link ReadBlock} must not modify them. */
    public final byte[] data() {
        return data;
    }

    abstract boolean isWrite();

    @Override
    public final void close() {
        if (!released) {
            released = true;
            bm.release(slot, isWrite());
        }
    }
}
