package io.jdmcache.pdata.array;

import io.jdmcache.pdata.block.BlockAllocator;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.node.BtreeBuilder;

/**
 * Builds a new array of a known length from values given in index order (the fast path of
 * {@code dm_array_new}): each array block is filled and written once, and the btree over the blocks is
 * built bottom-up. Holds one array block at a time.
 */
public final class ArrayBuilder {
    private final BlockAllocator alloc;
    private final int width;
    private final int perBlock;
    private final long length;
    private final BtreeBuilder tree;
    private WriteBlock current;
    private long blockIndex = -1;
    private int inBlock;
    private long added;

    public ArrayBuilder(BlockAllocator alloc, int width, long length) {
        if (width < 1 || width > 8) {
            throw new IllegalArgumentException("array value width " + width + " (1..8)");
        }
        if (length < 0) {
            throw new IllegalArgumentException("negative array length " + length);
        }
        this.alloc = alloc;
        this.width = width;
        this.perBlock = ArrayBlock.maxEntriesFor(width);
        this.length = length;
        this.tree = new BtreeBuilder(alloc, 8, (length + perBlock - 1) / perBlock);
    }

    /** Appends the value of the next index. */
    public void append(long value) throws MetadataException {
        if (added == length) {
            throw new IllegalStateException("more than " + length + " values");
        }
        if (current == null || inBlock == perBlock) {
            startBlock();
        }
        Bytes.putN(current.data(), ArrayBlock.HEADER_SIZE + inBlock * width, width, value);
        inBlock++;
        added++;
    }

    private void startBlock() throws MetadataException {
        if (current != null) {
            current.close();
        }
        blockIndex++;
        current = alloc.newBlock(ArrayBlock.VALIDATOR);
        int count = (int) Math.min(perBlock, length - blockIndex * perBlock);
        ArrayBlock.init(current.data(), width, count);
        inBlock = 0;
        tree.add(blockIndex, current.location());
    }

    /** Finishes the array and returns its root. */
    public long finish() throws MetadataException {
        if (added != length) {
            throw new IllegalStateException("array of " + length + " values got " + added);
        }
        if (current != null) {
            current.close();
            current = null;
        }
        return tree.finish();
    }
}
