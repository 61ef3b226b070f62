package io.jdmcache.bench.pdata;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.tm.TransactionManager;

import java.io.IOException;

/**
 * A formatted in-memory metadata store for benchmarks: block manager, space map and transaction manager
 * over a sparse memory device. Not thread-safe.
 */
final class Store {
    final BlockManager bm;
    final TransactionManager tm;

    private Store(BlockManager bm, TransactionManager tm) {
        this.bm = bm;
        this.tm = tm;
    }

    /** A new store of {@code bytes} with a block cache of {@code cacheBlocks} blocks. */
    static Store create(long bytes, int cacheBlocks) throws IOException {
        BlockManager bm = new BlockManager(new MemoryBlockDevice(bytes), cacheBlocks, false);
        MetadataSpaceMap sm = MetadataSpaceMap.format(bm, MetadataSpaceMap.blocksManaged(bm.nrBlocks()), 1);
        return new Store(bm, new TransactionManager(bm, sm));
    }

    /** Ends the transaction the kernel's way, without a superblock (nothing refers to the roots). */
    void flush() throws MetadataException {
        tm.preCommit();
    }

    /** A fixed pseudo-random permutation of 0..n-1. */
    static long[] shuffled(int n, long seed) {
        long[] a = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
