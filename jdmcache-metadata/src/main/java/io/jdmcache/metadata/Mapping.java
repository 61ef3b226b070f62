package io.jdmcache.metadata;

/** Packing of a mapping array value: bits 63..16 origin block, bits 15..0 flags (format-spec 7.1). */
public final class Mapping {
    public static final int VALID = 1;
    public static final int DIRTY = 2;
    public static final long MAX_OBLOCK = (1L << 48) - 1;

    private Mapping() {
    }

    public static long pack(long oblock, int flags) {
        if (oblock < 0 || oblock > MAX_OBLOCK) {
            throw new IllegalArgumentException("origin block " + oblock + " does not fit in 48 bits");
        }
        return oblock << 16 | (flags & 0xffff);
    }

    public static long oblock(long value) {
        return value >>> 16;
    }

    public static int flags(long value) {
        return (int) (value & 0xffff);
    }

    public static boolean valid(long value) {
        return (value & VALID) != 0;
    }
}
