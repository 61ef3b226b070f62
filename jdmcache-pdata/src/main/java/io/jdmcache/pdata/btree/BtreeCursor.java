package io.jdmcache.pdata.btree;

import io.jdmcache.pdata.block.BlockReader;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.node.BtreeReader;

/**
 * Ascending iteration over a btree's entries. It copies one leaf at a time out of the block cache, so it
 * holds no lock between calls; the tree must not change while the cursor is in use.
 *
 * <pre>
 * for (BtreeCursor c = tree.cursor(root); c.next(); ) { use(c.key(), c.valueLong()); }
 * </pre>
 */
public final class BtreeCursor {
    private final BlockReader reader;
    private final int width;
    private final long[][] stackChildren = new long[BtreeReader.MAX_DEPTH][];
    private final int[] stackPos = new int[BtreeReader.MAX_DEPTH];
    private int depth;
    private final long[] keys;
    private final byte[] values;
    private int leafNr;
    private int pos = -1;
    private boolean exhausted;

    BtreeCursor(BlockReader reader, long root, int width) throws MetadataException {
        this.reader = reader;
        this.width = width;
        this.keys = new long[BtreeNode.maxEntriesFor(width)];
        this.values = new byte[keys.length * width];
        depth = 0;
        descend(root);
    }

    /** Opens a cursor over any tree, outside a transaction (e.g. on a read-only block manager). */
    public static BtreeCursor open(BlockReader reader, long root, int width) throws MetadataException {
        return new BtreeCursor(reader, root, width);
    }

    /** Loads the leftmost leaf under {@code b}. */
    private void descend(long b) throws MetadataException {
        while (true) {
            if (depth >= BtreeReader.MAX_DEPTH) {
                throw new CorruptBlockException(BtreeNode.KIND, b, "btree deeper than " + BtreeReader.MAX_DEPTH);
            }
            try (ReadBlock r = reader.read(b, BtreeNode.VALIDATOR)) {
                byte[] d = r.data();
                int nr = BtreeNode.nrEntries(d);
                if (BtreeNode.isLeaf(d)) {
                    if (BtreeNode.valueSize(d) != width) {
                        throw new CorruptBlockException(BtreeNode.KIND, b, "leaf value size "
                                + BtreeNode.valueSize(d) + ", expected " + width);
                    }
                    if (nr > keys.length) {
                        throw new CorruptBlockException(BtreeNode.KIND, b, "leaf holds " + nr + " entries");
                    }
                    for (int i = 0; i < nr; i++) {
                        keys[i] = BtreeNode.key(d, i);
                    }
                    System.arraycopy(d, BtreeNode.valueOffset(d, 0), values, 0, nr * width);
                    leafNr = nr;
                    pos = -1;
                    return;
                }
                long[] children = new long[nr];
                for (int i = 0; i < nr; i++) {
                    children[i] = BtreeNode.value64(d, i);
                }
                stackChildren[depth] = children;
                stackPos[depth] = 0;
                depth++;
                if (nr == 0) {
                    leafNr = 0;
                    pos = -1;
                    return;
                }
                b = children[0];
            }
        }
    }

    /** Moves to the next entry; false when there is none. */
    public boolean next() throws MetadataException {
        if (exhausted) {
            return false;
        }
        while (true) {
            if (pos + 1 < leafNr) {
                pos++;
                return true;
            }
            // climb to the next unvisited child
            while (depth > 0) {
                int d = depth - 1;
                if (stackPos[d] + 1 < stackChildren[d].length) {
                    stackPos[d]++;
                    long child = stackChildren[d][stackPos[d]];
                    descend(child);
                    break;
                }
                depth--;
            }
            if (depth == 0 && pos + 1 >= leafNr) {
                exhausted = true;
                return false;
            }
        }
    }

    public long key() {
        return keys[pos];
    }

    /** The current value, for widths of at most 8 bytes. */
    public long valueLong() {
        return Bytes.getN(values, pos * width, width);
    }

    /** Copies the current value into {@code out[off..]}. */
    public void value(byte[] out, int off) {
        System.arraycopy(values, pos * width, out, off, width);
    }
}
