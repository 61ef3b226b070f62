package io.jdmcache.pdata.sm;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.SaltedValidator;

/**
 * The metadata space map's index block: up to 255 entries {u64 bitmap block, u32 nr_free,
 * u32 none_free_before}, entry i describing metadata blocks [i×16320, (i+1)×16320).
 * <pre>0 u32 csum (salt 160478)  4 u32 padding  8 u64 blocknr  16 entries[255] × 16 bytes</pre>
 */
public final class IndexBlock {
    public static final int SALT = 160478;
    public static final String KIND = "space map index";
    public static final int MAX_ENTRIES = 255;
    public static final SaltedValidator VALIDATOR = new SaltedValidator(KIND, SALT, 8);

    private IndexBlock() {
    }

    private static int entry(int i) {
        return 16 + 16 * i;
    }

    public static long bitmapBlock(byte[] b, int i) {
        return Bytes.i64(b, entry(i));
    }

    public static long nrFree(byte[] b, int i) {
        return Bytes.u32(b, entry(i) + 8);
    }

    public static long noneFreeBefore(byte[] b, int i) {
        return Bytes.u32(b, entry(i) + 12);
    }

    public static void setEntry(byte[] b, int i, long bitmap, long nrFree, long noneFreeBefore) {
        Bytes.put64(b, entry(i), bitmap);
        Bytes.put32(b, entry(i) + 8, nrFree);
        Bytes.put32(b, entry(i) + 12, noneFreeBefore);
    }
}
