package io.jdmcache.pdata.btree;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.tm.TransactionManager;

import java.util.Arrays;

/**
 * What a btree's leaf values are (the kernel's {@code dm_btree_value_type}): their width and what happens
 * to the references they hold when a node holding them is shared, copied or freed.
 */
public interface ValueType {

    /** Bytes per value (1..4064/3). */
    int width();

    /** The value at {@code b[off..]} gained a holder. */
    default void inc(byte[] b, int off) throws MetadataException {
    }

    /** The value at {@code b[off..]} lost a holder. */
    default void dec(byte[] b, int off) throws MetadataException {
    }

    /** True when two values are the same (an overwrite with an equal value keeps the old reference). */
    default boolean equal(byte[] a, int ao, byte[] b, int bo) {
        int w = width();
        return Arrays.equals(a, ao, ao + w, b, bo, bo + w);
    }

    /** Values holding no references. */
    static ValueType plain(int width) {
        if (width < 1) {
            throw new IllegalArgumentException("value width " + width);
        }
        return () -> width;
    }

    /** 8-byte values that are references to metadata blocks (array blocks, subtrees). */
    static ValueType blockRef(TransactionManager tm) {
        return new ValueType() {
            @Override
            public int width() {
                return 8;
            }

            @Override
            public void inc(byte[] b, int off) {
                tm.inc(Bytes.i64(b, off));
            }

            @Override
            public void dec(byte[] b, int off) {
                tm.dec(Bytes.i64(b, off));
            }
        };
    }
}
