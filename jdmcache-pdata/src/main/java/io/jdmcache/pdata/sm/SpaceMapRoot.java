package io.jdmcache.pdata.sm;

import io.jdmcache.pdata.block.Bytes;

/**
 * The 32-byte space-map root kept in a superblock: blocks managed, blocks in use, the index block and the
 * root of the overflow reference-count btree.
 */
public record SpaceMapRoot(long nrBlocks, long nrAllocated, long indexBlock, long refCountRoot) {
    public static final int SIZE = 32;

    public static SpaceMapRoot unpack(byte[] b, int off) {
        return new SpaceMapRoot(Bytes.i64(b, off), Bytes.i64(b, off + 8), Bytes.i64(b, off + 16),
                Bytes.i64(b, off + 24));
    }

    public void pack(byte[] b, int off) {
        Bytes.put64(b, off, nrBlocks);
        Bytes.put64(b, off + 8, nrAllocated);
        Bytes.put64(b, off + 16, indexBlock);
        Bytes.put64(b, off + 24, refCountRoot);
    }
}
