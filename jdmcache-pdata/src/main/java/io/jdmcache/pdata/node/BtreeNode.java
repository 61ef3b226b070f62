package io.jdmcache.pdata.node;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.SaltedValidator;

/**
 * The on-disk btree node (the kernel's {@code struct btree_node}), as static accessors on a block's bytes.
 *
 * <pre>
 *   0 u32 csum (salt 121107)   4 u32 flags (1 internal, 2 leaf)   8 u64 blocknr
 *  16 u32 nr_entries  20 u32 max_entries  24 u32 value_size  28 u32 padding
 *  32 u64 keys[max_entries], then value_size-byte values[max_entries]
 * </pre>
 * The values start after {@code max_entries} keys: readers use the stored max_entries, not a computed one.
 * Internal nodes have 8-byte values (child block numbers).
 */
public final class BtreeNode {
    public static final int INTERNAL = 1;
    public static final int LEAF = 2;
    public static final int HEADER_SIZE = 32;
    public static final int SALT = 121107;
    public static final String KIND = "btree node";

    private static final int FLAGS = 4;
    private static final int NR_ENTRIES = 16;
    private static final int MAX_ENTRIES = 20;
    private static final int VALUE_SIZE = 24;

    /** Checks location, checksum and the header rules the kernel enforces on every read. */
    public static final SaltedValidator VALIDATOR = new SaltedValidator(KIND, SALT, 8, BtreeNode::checkHeader);

    private BtreeNode() {
    }

    /** The kernel's max_entries for a value size: a multiple of 3 that fits in a block. */
    public static int maxEntriesFor(int valueSize) {
        int n = (BlockManager.BLOCK_SIZE - HEADER_SIZE) / (8 + valueSize);
        return 3 * (n / 3);
    }

    private static void checkHeader(byte[] b, long loc) throws CorruptBlockException {
        long max = Bytes.u32(b, MAX_ENTRIES);
        long vs = Bytes.u32(b, VALUE_SIZE);
        long nr = Bytes.u32(b, NR_ENTRIES);
        int flags = Bytes.i32(b, FLAGS);
        if (vs == 0 || HEADER_SIZE + (8 + vs) * max > BlockManager.BLOCK_SIZE) {
            throw new CorruptBlockException(KIND, loc, "max_entries too large (" + max + " entries of "
                    + vs + "-byte values do not fit in a block)");
        }
        if (nr > max) {
            throw new CorruptBlockException(KIND, loc, "nr_entries " + nr + " > max_entries " + max);
        }
        if ((flags & (INTERNAL | LEAF)) == 0 || (flags & (INTERNAL | LEAF)) == (INTERNAL | LEAF)) {
            throw new CorruptBlockException(KIND, loc, "node is neither internal nor leaf (flags " + flags + ")");
        }
        if ((flags & INTERNAL) != 0 && vs != 8) {
            throw new CorruptBlockException(KIND, loc, "internal node has value size " + vs + ", not 8");
        }
    }

    /** Makes {@code b} an empty node of the given kind. */
    public static void init(byte[] b, int flags, int valueSize) {
        Bytes.put32(b, FLAGS, flags);
        Bytes.put32(b, NR_ENTRIES, 0);
        Bytes.put32(b, MAX_ENTRIES, maxEntriesFor(valueSize));
        Bytes.put32(b, VALUE_SIZE, valueSize);
        Bytes.put32(b, 28, 0);
    }

    public static int flags(byte[] b) {
        return Bytes.i32(b, FLAGS);
    }

    public static void setFlags(byte[] b, int flags) {
        Bytes.put32(b, FLAGS, flags);
    }

    public static boolean isLeaf(byte[] b) {
        return (flags(b) & LEAF) != 0;
    }

    public static int nrEntries(byte[] b) {
        return Bytes.i32(b, NR_ENTRIES);
    }

    public static void setNrEntries(byte[] b, int n) {
        Bytes.put32(b, NR_ENTRIES, n);
    }

    public static int maxEntries(byte[] b) {
        return Bytes.i32(b, MAX_ENTRIES);
    }

    public static int valueSize(byte[] b) {
        return Bytes.i32(b, VALUE_SIZE);
    }

    public static long key(byte[] b, int i) {
        return Bytes.i64(b, HEADER_SIZE + 8 * i);
    }

    public static void setKey(byte[] b, int i, long k) {
        Bytes.put64(b, HEADER_SIZE + 8 * i, k);
    }

    /** Byte offset of value {@code i}. */
    public static int valueOffset(byte[] b, int i) {
        return HEADER_SIZE + 8 * maxEntries(b) + i * valueSize(b);
    }

    /** An 8-byte value (child pointer in internal nodes, block number in array trees). */
    public static long value64(byte[] b, int i) {
        return Bytes.i64(b, valueOffset(b, i));
    }

    public static void setValue64(byte[] b, int i, long v) {
        Bytes.put64(b, valueOffset(b, i), v);
    }

    /**
     * Index of the largest key {@code <= k}, or -1 when every key is greater (binary search over the
     * first nr_entries keys, which ascend strictly).
     */
    public static int lowerBound(byte[] b, long k) {
        int lo = -1;
        int hi = nrEntries(b);
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(key(b, mid), k) <= 0) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** Opens a gap at {@code i} (entries i.. move right by one); nr_entries grows by one. */
    public static void openGap(byte[] b, int i) {
        int nr = nrEntries(b);
        int vs = valueSize(b);
        int keys = HEADER_SIZE + 8 * i;
        System.arraycopy(b, keys, b, keys + 8, 8 * (nr - i));
        int vo = valueOffset(b, i);
        System.arraycopy(b, vo, b, vo + vs, vs * (nr - i));
        setNrEntries(b, nr + 1);
    }

    /** Closes the gap at {@code i} (entries i+1.. move left by one); nr_entries shrinks by one. */
    public static void closeGap(byte[] b, int i) {
        int nr = nrEntries(b);
        int vs = valueSize(b);
        int keys = HEADER_SIZE + 8 * i;
        System.arraycopy(b, keys + 8, b, keys, 8 * (nr - i - 1));
        int vo = valueOffset(b, i);
        System.arraycopy(b, vo + vs, b, vo, vs * (nr - i - 1));
        setNrEntries(b, nr - 1);
    }

    /**
     * Copies {@code n} entries (keys and values) from {@code src[si..]} to {@code dst[di..]}; both nodes
     * must have the same value size. Does not change nr_entries. Overlapping ranges in one node work.
     */
    public static void copyEntries(byte[] src, int si, byte[] dst, int di, int n) {
        if (n <= 0) {
            return;
        }
        int vs = valueSize(src);
        System.arraycopy(src, HEADER_SIZE + 8 * si, dst, HEADER_SIZE + 8 * di, 8 * n);
        System.arraycopy(src, valueOffset(src, si), dst, valueOffset(dst, di), vs * n);
    }

    /** Copies one value's bytes out. */
    public static void getValue(byte[] b, int i, byte[] out, int outOff) {
        System.arraycopy(b, valueOffset(b, i), out, outOff, valueSize(b));
    }

    /** Stores one value's bytes. */
    public static void setValue(byte[] b, int i, byte[] in, int inOff) {
        System.arraycopy(in, inOff, b, valueOffset(b, i), valueSize(b));
    }
}
