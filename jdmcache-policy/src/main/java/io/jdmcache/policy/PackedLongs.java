package io.jdmcache.policy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * A fixed array of non-negative numbers below a limit known up front, in as few bytes as the limit allows:
 * 3 bytes each up to 2^24, 4 up to 2^32, 5 up to 2^40, 8 otherwise. The policy keeps origin blocks (and
 * hotspot regions) this way: a cache of 10 million blocks over an origin of 100 million needs 4 bytes a block
 * for its origin blocks and 3 a hotspot entry for its regions, not 8.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class PackedLongs {
    private static final long FIVE_BYTES = 1L << 40;
    private static final long THREE_BYTES = 1L << 24;
    /** Little-endian ints at any offset of a byte array (3-byte values are read as the low 3 bytes of one). */
    private static final VarHandle INT =
            MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);

    private final int size;
    private final byte[] three;
    private final int[] low;
    private final byte[] high;
    private final long[] wide;

    /** @param limit every value stored is below it */
    PackedLongs(int size, long limit) {
        this.size = size;
        three = limit <= THREE_BYTES ? new byte[3 * size + 1] : null; // one spare byte: the last read is 4 bytes
        if (three != null) {
            low = null;
            high = null;
            wide = null;
        } else if (limit > FIVE_BYTES) {
            low = null;
            high = null;
            wide = new long[size];
        } else {
            low = new int[size];
            high = limit > 1L << 32 ? new byte[size] : null;
            wide = null;
        }
    }

    int size() {
        return size;
    }

    long get(int i) {
        if (three != null) {
            return (int) INT.get(three, 3 * i) & 0xffffff;
        }
        if (wide != null) {
            return wide[i];
        }
        long v = Integer.toUnsignedLong(low[i]);
        return high == null ? v : v | (high[i] & 0xffL) << 32;
    }

    void set(int i, long v) {
        if (three != null) {
            int at = 3 * i;
            INT.set(three, at, ((int) INT.get(three, at) & 0xff000000) | (int) v);
            return;
        }
        if (wide != null) {
            wide[i] = v;
            return;
        }
        low[i] = (int) v;
        if (high != null) {
            high[i] = (byte) (v >>> 32);
        }
    }

    long bytes() {
        if (three != null) {
            return three.length;
        }
        return wide != null ? 8L * wide.length : 4L * low.length + (high == null ? 0 : high.length);
    }
}
