package io.jdmcache.pdata.testing;

import io.jdmcache.pdata.block.BlockReader;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.node.BtreeNode;

/**
 * Checks the structural rules the kernel and the tools enforce on a btree (format-spec 4.8): strictly
 * ascending keys, keys inside the range the parent gives, every non-root node at least a third full,
 * leaves all at one depth, leaf value size as expected. Returns the depth (1 = a single leaf).
 */
public final class TreeChecker {
    private TreeChecker() {
    }

    public static int check(BlockReader r, long root, int valueSize) throws MetadataException {
        int[] leafDepth = {-1};
        check(r, root, valueSize, true, Long.MIN_VALUE, Long.MAX_VALUE, 1, leafDepth);
        return leafDepth[0];
    }

    private static void check(BlockReader r, long b, int vs, boolean isRoot, long lo, long hi, int depth,
                              int[] leafDepth) throws MetadataException {
        long[] children;
        long[] keys;
        try (ReadBlock rb = r.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = rb.data();
            int nr = BtreeNode.nrEntries(d);
            int max = BtreeNode.maxEntries(d);
            if (max % 3 != 0) {
                throw new AssertionError("block " + b + ": max_entries " + max + " not a multiple of 3");
            }
            if (!isRoot && nr < max / 3) {
                throw new AssertionError("block " + b + ": " + nr + " entries < max/3 = " + max / 3);
            }
            keys = new long[nr];
            for (int i = 0; i < nr; i++) {
                keys[i] = BtreeNode.key(d, i);
                if (i > 0 && keys[i] <= keys[i - 1]) {
                    throw new AssertionError("block " + b + ": keys out of order at " + i);
                }
                if (keys[i] < lo || (i > 0 && keys[i] >= hi)) {
                    throw new AssertionError("block " + b + ": key " + keys[i] + " outside [" + lo + ", " + hi + ")");
                }
            }
            if (BtreeNode.isLeaf(d)) {
                if (BtreeNode.valueSize(d) != vs) {
                    throw new AssertionError("block " + b + ": leaf value size " + BtreeNode.valueSize(d));
                }
                if (leafDepth[0] == -1) {
                    leafDepth[0] = depth;
                } else if (leafDepth[0] != depth) {
                    throw new AssertionError("leaves at depths " + leafDepth[0] + " and " + depth);
                }
                return;
            }
            if (BtreeNode.valueSize(d) != 8 || max != BtreeNode.maxEntriesFor(8)) {
                throw new AssertionError("block " + b + ": internal node with value size " + BtreeNode.valueSize(d));
            }
            if (nr == 0) {
                throw new AssertionError("block " + b + ": empty internal node");
            }
            children = new long[nr];
            for (int i = 0; i < nr; i++) {
                children[i] = BtreeNode.value64(d, i);
            }
        }
        for (int i = 0; i < children.length; i++) {
            long childHi = i + 1 < keys.length ? keys[i + 1] : hi;
            check(r, children[i], vs, false, keys[i], childHi, depth + 1, leafDepth);
        }
    }
}
