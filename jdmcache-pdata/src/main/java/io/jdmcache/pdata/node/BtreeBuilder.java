package io.jdmcache.pdata.node;

import io.jdmcache.pdata.block.BlockAllocator;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.WriteBlock;

import java.util.Arrays;

/**
 * Builds a btree bottom-up from entries given in strictly ascending key order, filling leaves left to
 * right. The number of entries is known up front, so every level is split evenly into
 * ⌈n/max⌉ nodes: every non-root node holds at least half of max_entries, which satisfies the kernel's
 * and the tools' rules. The tree takes over whatever references the values carry.
 *
 * <p>Streaming: one leaf is held at a time; only the first key and location of each node are kept.
 */
public final class BtreeBuilder {
    private final BlockAllocator alloc;
    private final int valueSize;
    private final long total;
    private final int leaves;
    private final long perLeaf;
    private final long extra;
    private long added;
    private WriteBlock leaf;
    private int leafIndex = -1;
    private int leafTarget;
    private long lastKey;
    private long[] firstKeys;
    private long[] locations;

    public BtreeBuilder(BlockAllocator alloc, int valueSize, long totalEntries) {
        if (valueSize < 1 || BtreeNode.maxEntriesFor(valueSize) < 3) {
            throw new IllegalArgumentException("bad value size " + valueSize);
        }
        this.alloc = alloc;
        this.valueSize = valueSize;
        this.total = totalEntries;
        int max = BtreeNode.maxEntriesFor(valueSize);
        long k = Math.max(1, (totalEntries + max - 1) / max);
        if (k > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too many entries " + totalEntries);
        }
        this.leaves = (int) k;
        this.perLeaf = totalEntries / k;
        this.extra = totalEntries % k;
        this.firstKeys = new long[leaves];
        this.locations = new long[leaves];
    }

    /** Appends an entry whose value is the first value-size bytes at {@code value[off..]}. */
    public void add(long key, byte[] value, int off) throws MetadataException {
        byte[] d = next(key);
        int i = BtreeNode.nrEntries(d);
        BtreeNode.setKey(d, i, key);
        System.arraycopy(value, off, d, BtreeNode.valueOffset(d, i), valueSize);
        BtreeNode.setNrEntries(d, i + 1);
    }

    /** Appends an entry with a little-endian value of value-size bytes (at most 8). */
    public void add(long key, long value) throws MetadataException {
        byte[] d = next(key);
        int i = BtreeNode.nrEntries(d);
        BtreeNode.setKey(d, i, key);
        Bytes.putN(d, BtreeNode.valueOffset(d, i), valueSize, value);
        BtreeNode.setNrEntries(d, i + 1);
    }

    private byte[] next(long key) throws MetadataException {
        if (added == total) {
            throw new IllegalStateException("more than the announced " + total + " entries");
        }
        if (added > 0 && Long.compareUnsigned(key, lastKey) <= 0) {
            throw new IllegalArgumentException("keys must ascend: " + key + " after " + lastKey);
        }
        if (leaf == null || BtreeNode.nrEntries(leaf.data()) == leafTarget) {
            startLeaf(key);
        }
        lastKey = key;
        added++;
        return leaf.data();
    }

    private void startLeaf(long firstKey) throws MetadataException {
        if (leaf != null) {
            leaf.close();
        }
        leafIndex++;
        leaf = alloc.newBlock(BtreeNode.VALIDATOR);
        BtreeNode.init(leaf.data(), BtreeNode.LEAF, valueSize);
        leafTarget = (int) (perLeaf + (leafIndex < extra ? 1 : 0));
        firstKeys[leafIndex] = firstKey;
        locations[leafIndex] = leaf.location();
    }

    /** Finishes the tree and returns its root. */
    public long finish() throws MetadataException {
        if (added != total) {
            throw new IllegalStateException("announced " + total + " entries but got " + added);
        }
        if (total == 0) {
            try (WriteBlock root = alloc.newBlock(BtreeNode.VALIDATOR)) {
                BtreeNode.init(root.data(), BtreeNode.LEAF, valueSize);
                return root.location();
            }
        }
        leaf.close();
        leaf = null;
        long[] keys = firstKeys;
        long[] locs = locations;
        int n = leaves;
        int max = BtreeNode.maxEntriesFor(8);
        while (n > 1) {
            int k = (n + max - 1) / max;
            int per = n / k;
            int ext = n % k;
            long[] upKeys = new long[k];
            long[] upLocs = new long[k];
            int src = 0;
            for (int node = 0; node < k; node++) {
                int count = per + (node < ext ? 1 : 0);
                try (WriteBlock w = alloc.newBlock(BtreeNode.VALIDATOR)) {
                    byte[] d = w.data();
                    BtreeNode.init(d, BtreeNode.INTERNAL, 8);
                    for (int i = 0; i < count; i++) {
                        BtreeNode.setKey(d, i, keys[src + i]);
                        BtreeNode.setValue64(d, i, locs[src + i]);
                    }
                    BtreeNode.setNrEntries(d, count);
                    upKeys[node] = keys[src];
                    upLocs[node] = w.location();
                }
                src += count;
            }
            keys = upKeys;
            locs = upLocs;
            n = k;
        }
        firstKeys = null;
        locations = null;
        return Arrays.copyOf(locs, 1)[0];
    }
}
