package io.jdmcache.pdata.array;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.SaltedValidator;

/**
 * A dm_array block: a header and a run of fixed-size values.
 * <pre>0 u32 csum (salt 595846735)  4 u32 max_entries  8 u32 nr_entries  12 u32 value_size
 * 16 u64 blocknr  24 values[max_entries]</pre>
 */
public final class ArrayBlock {
    public static final int SALT = 595846735;
    public static final String KIND = "array block";
    public static final int HEADER_SIZE = 24;
    public static final SaltedValidator VALIDATOR = new SaltedValidator(KIND, SALT, 16, ArrayBlock::checkHeader);

    private ArrayBlock() {
    }

    public static int maxEntriesFor(int valueSize) {
        return (BlockManager.BLOCK_SIZE - HEADER_SIZE) / valueSize;
    }

    private static void checkHeader(byte[] b, long loc) throws CorruptBlockException {
        long max = Bytes.u32(b, 4);
        long nr = Bytes.u32(b, 8);
        long vs = Bytes.u32(b, 12);
        if (vs == 0 || HEADER_SIZE + vs * max > BlockManager.BLOCK_SIZE) {
            throw new CorruptBlockException(KIND, loc, "max_entries " + max + " of " + vs
                    + "-byte values do not fit in a block");
        }
        if (nr > max) {
            throw new CorruptBlockException(KIND, loc, "nr_entries " + nr + " > max_entries " + max);
        }
    }

    public static void init(byte[] b, int valueSize, int nrEntries) {
        Bytes.put32(b, 4, maxEntriesFor(valueSize));
        Bytes.put32(b, 8, nrEntries);
        Bytes.put32(b, 12, valueSize);
    }

    public static int maxEntries(byte[] b) {
        return Bytes.i32(b, 4);
    }

    public static int nrEntries(byte[] b) {
        return Bytes.i32(b, 8);
    }

    public static void setNrEntries(byte[] b, int n) {
        Bytes.put32(b, 8, n);
    }

    public static int valueSize(byte[] b) {
        return Bytes.i32(b, 12);
    }

    public static int offset(int i, int valueSize) {
        return HEADER_SIZE + i * valueSize;
    }
}
