package io.jdmcache.pdata.block;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Little-endian field access on byte arrays (all on-disk integers are little-endian). */
public final class Bytes {
    private static final VarHandle LE16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Bytes() {
    }

    public static int u16(byte[] b, int off) {
        return ((short) LE16.get(b, off)) & 0xffff;
    }

    public static int i32(byte[] b, int off) {
        return (int) LE32.get(b, off);
    }

    /** An unsigned 32-bit field, widened to long. */
    public static long u32(byte[] b, int off) {
        return ((int) LE32.get(b, off)) & 0xffffffffL;
    }

    public static long i64(byte[] b, int off) {
        return (long) LE64.get(b, off);
    }

    public static void put16(byte[] b, int off, int v) {
        LE16.set(b, off, (short) v);
    }

    public static void put32(byte[] b, int off, int v) {
        LE32.set(b, off, v);
    }

    public static void put32(byte[] b, int off, long v) {
        LE32.set(b, off, (int) v);
    }

    public static void put64(byte[] b, int off, long v) {
        LE64.set(b, off, v);
    }

    /** Reads an unsigned little-endian value of {@code width} (1..8) bytes. */
    public static long getN(byte[] b, int off, int width) {
        switch (width) {
            case 8:
                return (long) LE64.get(b, off);
            case 4:
                return ((int) LE32.get(b, off)) & 0xffffffffL;
            default:
                long v = 0;
                for (int i = width - 1; i >= 0; i--) {
                    v = (v << 8) | (b[off + i] & 0xff);
                }
                return v;
        }
    }

    /** Writes the low {@code width} (1..8) bytes of {@code v}, little-endian. */
    public static void putN(byte[] b, int off, int width, long v) {
        switch (width) {
            case 8:
                LE64.set(b, off, v);
                break;
            case 4:
                LE32.set(b, off, (int) v);
                break;
            default:
                for (int i = 0; i < width; i++) {
                    b[off + i] = (byte) (v >>> (8 * i));
                }
        }
    }

    /** True when every byte of {@code b} is zero. */
    public static boolean allZero(byte[] b) {
        for (int i = 0; i < b.length; i += 8) {
            if ((long) LE64.get(b, i) != 0) {
                return false;
            }
        }
        return true;
    }
}
