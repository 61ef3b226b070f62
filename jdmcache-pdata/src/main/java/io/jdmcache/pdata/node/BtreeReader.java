package io.jdmcache.pdata.node;

import io.jdmcache.pdata.block.BlockReader;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;

/** Read-only btree operations over validated blocks: lookup and in-order leaf traversal. */
public final class BtreeReader {
    /** The kernel's trees are at most this deep; a deeper walk means a cycle or garbage. */
    public static final int MAX_DEPTH = 16;

    /** Receives leaf entries in ascending key order. */
    @FunctionalInterface
    public interface EntryVisitor {
        /** Return false to stop the walk. */
        boolean visit(long key, byte[] leaf, int valueOffset) throws MetadataException;
    }

    private BtreeReader() {
    }

    /**
     * Looks {@code key} up; on a hit copies its value into {@code out} (value-size bytes) and returns true.
     * O(depth) block reads.
     */
    public static boolean lookup(BlockReader r, long root, long key, byte[] out) throws MetadataException {
        long b = root;
        for (int depth = 0; depth < MAX_DEPTH; depth++) {
            try (ReadBlock n = r.read(b, BtreeNode.VALIDATOR)) {
                byte[] d = n.data();
                int i = BtreeNode.lowerBound(d, key);
                if (i < 0) {
                    return false;
                }
                if (BtreeNode.isLeaf(d)) {
                    if (BtreeNode.key(d, i) != key) {
                        return false;
                    }
                    BtreeNode.getValue(d, i, out, 0);
                    return true;
                }
                b = BtreeNode.value64(d, i);
            }
        }
        throw new CorruptBlockException(BtreeNode.KIND, b, "btree deeper than " + MAX_DEPTH + " levels");
    }

    /** Looks up an 8-byte value; returns {@code missing} when absent. */
    public static long lookup64(BlockReader r, long root, long key, long missing) throws MetadataException {
        byte[] out = new byte[8];
        return lookup(r, root, key, out) ? io.jdmcache.pdata.block.Bytes.i64(out, 0) : missing;
    }

    /**
     * Visits every leaf entry in key order (depth-first). Checks that leaf value sizes equal
     * {@code valueSize} (when it is > 0).
     */
    public static void walk(BlockReader r, long root, int valueSize, EntryVisitor v) throws MetadataException {
        walk(r, root, valueSize, v, 0);
    }

    private static boolean walk(BlockReader r, long b, int valueSize, EntryVisitor v, int depth)
            throws MetadataException {
        if (depth >= MAX_DEPTH) {
            throw new CorruptBlockException(BtreeNode.KIND, b, "btree deeper than " + MAX_DEPTH + " levels");
        }
        try (ReadBlock n = r.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = n.data();
            int nr = BtreeNode.nrEntries(d);
            if (BtreeNode.isLeaf(d)) {
                if (valueSize > 0 && BtreeNode.valueSize(d) != valueSize) {
                    throw new CorruptBlockException(BtreeNode.KIND, b, "leaf value size "
                            + BtreeNode.valueSize(d) + ", expected " + valueSize);
                }
                for (int i = 0; i < nr; i++) {
                    if (!v.visit(BtreeNode.key(d, i), d, BtreeNode.valueOffset(d, i))) {
                        return false;
                    }
                }
                return true;
            }
            long[] children = new long[nr];
            for (int i = 0; i < nr; i++) {
                children[i] = BtreeNode.value64(d, i);
            }
            n.close();
            for (long c : children) {
                if (!walk(r, c, valueSize, v, depth + 1)) {
                    return false;
                }
            }
            return true;
        }
    }
}
