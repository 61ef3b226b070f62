package io.jdmcache.pdata.sm;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.SaltedValidator;

/**
 * A space-map bitmap block: 16320 two-bit reference counts after a 16-byte header.
 * <pre>0 u32 csum (salt 240779)  4 u32 not_used  8 u64 blocknr  16 u64 words[510]</pre>
 * Entry j lives in word j/32 with p = 2×(j mod 32): count = 2×bit(p) + bit(p+1), so the count's high bit
 * sits at the lower bit position. 0 = free, 1, 2, 3 = "three or more: see the overflow btree".
 */
public final class BitmapBlock {
    public static final int SALT = 240779;
    public static final String KIND = "space map bitmap";
    public static final int ENTRIES = 16320;
    private static final int DATA = 16;
    public static final SaltedValidator VALIDATOR = new SaltedValidator(KIND, SALT, 8);

    private BitmapBlock() {
    }

    /** The 2-bit value of entry {@code j}. */
    public static int get(byte[] b, int j) {
        long word = Bytes.i64(b, DATA + 8 * (j >>> 5));
        int p = 2 * (j & 31);
        return (int) (((word >>> p) & 1) << 1 | ((word >>> (p + 1)) & 1));
    }

    /** Decodes entries [0, n) into {@code out[outOff..]} (values 0..3). */
    public static void decode(byte[] b, int n, int[] out, int outOff) {
        for (int w = 0; w * 32 < n; w++) {
            long word = Bytes.i64(b, DATA + 8 * w);
            int base = w * 32;
            int lim = Math.min(32, n - base);
            if (word == 0) {
                for (int k = 0; k < lim; k++) {
                    out[outOff + base + k] = 0;
                }
                continue;
            }
            for (int k = 0; k < lim; k++) {
                int p = 2 * k;
                out[outOff + base + k] = (int) (((word >>> p) & 1) << 1 | ((word >>> (p + 1)) & 1));
            }
        }
    }

    /** Encodes {@code n} counts (values above 3 are stored as 3) from {@code counts[off..]}. */
    public static void encode(byte[] b, int[] counts, int off, int n) {
        for (int w = 0; w < 510; w++) {
            int base = w * 32;
            long word = 0;
            int lim = Math.max(0, Math.min(32, n - base));
            for (int k = 0; k < lim; k++) {
                int c = Math.min(3, counts[off + base + k]);
                int p = 2 * k;
                word |= (long) (c >>> 1) << p | (long) (c & 1) << (p + 1);
            }
            Bytes.put64(b, DATA + 8 * w, word);
        }
    }
}
