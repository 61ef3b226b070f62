package io.jdmcache.pdata.array;

import io.jdmcache.pdata.block.BlockReader;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.btree.BtreeCursor;

/**
 * Sequential read of an array's first {@code length} values without a lookup from the root per value: a
 * btree cursor yields the array blocks in order, and each block's values are copied out once. Missing or
 * short array blocks are reported with the indices they should have held, when the cursor reaches the first
 * missing index: every value that is present is delivered first. Holds no lock between calls.
 */
public final class ArrayCursor {
    private final BlockReader reader;
    private final BtreeCursor blocks;
    private final int width;
    private final int perBlock;
    private final long length;
    private final long[] values;
    private long blockIndex = -1;
    private int inBlock;
    private int blockCount;
    private long index = -1;
    /** A short last block was loaded: reported when the cursor moves past its entries. */
    private CorruptBlockException shortBlock;

    private ArrayCursor(BlockReader reader, long root, int width, long length) throws MetadataException {
        this.reader = reader;
        this.blocks = BtreeCursor.open(reader, root, 8);
        this.width = width;
        this.perBlock = ArrayBlock.maxEntriesFor(width);
        this.length = length;
        this.values = new long[perBlock];
    }

    public static ArrayCursor open(BlockReader reader, long root, int width, long length) throws MetadataException {
        if (width < 1 || width > 8) {
            throw new IllegalArgumentException("array value width " + width + " (1..8)");
        }
        return new ArrayCursor(reader, root, width, length);
    }

    /** Moves to the next index below the length; false at the end. */
    public boolean next() throws MetadataException {
        if (index + 1 >= length) {
            return false;
        }
        if (blockIndex < 0 || inBlock + 1 >= blockCount) {
            loadNextBlock();
        } else {
            inBlock++;
        }
        index++;
        return true;
    }

    private void loadNextBlock() throws MetadataException {
        if (shortBlock != null) {
            throw shortBlock;
        }
        long expected = blockIndex + 1;
        long first = expected * perBlock;
        if (!blocks.next()) {
            throw new CorruptBlockException(ArrayBlock.KIND, -1, "array block " + expected + " (entries "
                    + first + ".." + (length - 1) + ") is missing");
        }
        if (blocks.key() != expected) {
            throw new CorruptBlockException(ArrayBlock.KIND, blocks.valueLong(), "array block index "
                    + blocks.key() + " found where block " + expected + " (entries from " + first + ") belongs");
        }
        long loc = blocks.valueLong();
        try (ReadBlock r = reader.read(loc, ArrayBlock.VALIDATOR)) {
            byte[] d = r.data();
            if (ArrayBlock.valueSize(d) != width) {
                throw new CorruptBlockException(ArrayBlock.KIND, loc, "value size " + ArrayBlock.valueSize(d)
                        + ", expected " + width);
            }
            int nr = ArrayBlock.nrEntries(d);
            long need = Math.min(perBlock, length - first);
            if (nr < need) {
                CorruptBlockException e = new CorruptBlockException(ArrayBlock.KIND, loc, "array block " + expected
                        + " holds " + nr + " entries, expected " + need + " (entries " + (first + nr) + ".."
                        + (first + need - 1) + " are missing)");
                if (nr == 0) {
                    throw e;
                }
                shortBlock = e;
            }
            blockCount = (int) Math.min(need, nr);
            if (width == 8) {
                for (int i = 0; i < blockCount; i++) {
                    values[i] = Bytes.i64(d, ArrayBlock.HEADER_SIZE + 8 * i);
                }
            } else {
                for (int i = 0; i < blockCount; i++) {
                    values[i] = Bytes.getN(d, ArrayBlock.HEADER_SIZE + width * i, width);
                }
            }
        }
        blockIndex = expected;
        inBlock = 0;
    }

    /** The current index. */
    public long index() {
        return index;
    }

    /** The current value. */
    public long value() {
        return values[inBlock];
    }

    /**
     * Skips to the end of the current array block and returns how many values it held, exposing them
     * through {@link #blockValues()}; for bulk consumers. Returns 0 at the end.
     */
    public int nextBlock() throws MetadataException {
        if (index + 1 >= length) {
            return 0;
        }
        if (blockIndex >= 0 && inBlock + 1 < blockCount) {
            throw new IllegalStateException("nextBlock in the middle of a block");
        }
        loadNextBlock();
        inBlock = blockCount - 1;
        index += blockCount;
        return blockCount;
    }

    /** The values of the block loaded by {@link #nextBlock()} (valid until the next call). */
    public long[] blockValues() {
        return values;
    }
}
