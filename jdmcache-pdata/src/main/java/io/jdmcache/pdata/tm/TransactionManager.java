package io.jdmcache.pdata.tm;

import io.jdmcache.pdata.block.BlockAllocator;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.BlockReader;
import io.jdmcache.pdata.block.BlockValidator;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;

/**
 * The only way to get a writable metadata block (the kernel's dm-transaction-manager).
 *
 * <ul>
 *   <li>{@link #newBlock} allocates a block that is free now and was free at the last commit.</li>
 *   <li>{@link #shadow} gives a writable version of a block: the block itself when it was allocated or
 *       shadowed in this transaction and is not shared, otherwise a copy at a new location (the original
 *       loses one reference). Committed blocks are therefore never modified in place.</li>
 *   <li>Commit is two-phase: {@link #preCommit()} writes the space map and every dirty block and flushes;
 *       the caller then fills the superblock and hands it to {@link #commit}, which writes it last and
 *       flushes again.</li>
 * </ul>
 * Not thread-safe: one writer at a time (the metadata layer's write lock).
 */
public final class TransactionManager implements BlockAllocator, BlockReader {
    private final BlockManager bm;
    private final MetadataSpaceMap sm;
    private final long[] newThisTransaction;

    public TransactionManager(BlockManager bm, MetadataSpaceMap sm) {
        this.bm = bm;
        this.sm = sm;
        this.newThisTransaction = new long[(int) ((sm.nrBlocks() + 63) >>> 6)];
    }

    public BlockManager blockManager() {
        return bm;
    }

    public MetadataSpaceMap spaceMap() {
        return sm;
    }

    @Override
    public ReadBlock read(long b, BlockValidator v) throws MetadataException {
        return bm.read(b, v);
    }

    @Override
    public void prefetch(long first, int count) throws MetadataException {
        bm.prefetch(first, count);
    }

    /** A fresh zeroed block, write-locked, with reference count 1. */
    @Override
    public WriteBlock newBlock(BlockValidator v) throws MetadataException {
        long b = sm.allocate();
        WriteBlock w = bm.writeZeroed(b, v);
        markNew(b);
        return w;
    }

    /** A writable version of block {@code b}; see the class comment. */
    public Shadow shadow(long b, BlockValidator v) throws MetadataException {
        int count = sm.count(b);
        if (count == 0) {
            throw new IllegalStateException("shadow of block " + b + " which has no references");
        }
        if (count == 1 && isNew(b)) {
            return new Shadow(bm.write(b, v), false);
        }
        long nb = sm.allocate();
        WriteBlock copy;
        try (ReadBlock orig = bm.read(b, v)) {
            copy = bm.writeZeroed(nb, v);
            System.arraycopy(orig.data(), 0, copy.data(), 0, BlockManager.BLOCK_SIZE);
        } catch (MetadataException | RuntimeException e) {
            sm.dec(nb);
            throw e;
        }
        sm.dec(b);
        markNew(nb);
        return new Shadow(copy, count > 1);
    }

    /** True when {@code b} was allocated or shadowed in this transaction. */
    public boolean isNew(long b) {
        return (newThisTransaction[(int) (b >>> 6)] & (1L << b)) != 0;
    }

    private void markNew(long b) {
        newThisTransaction[(int) (b >>> 6)] |= 1L << b;
    }

    public void inc(long b) {
        sm.inc(b);
    }

    public void dec(long b) {
        sm.dec(b);
    }

    public int refCount(long b) {
        return sm.count(b);
    }

    /** Phase one: commit the space map, write every dirty block, flush. Returns the new space map root. */
    public SpaceMapRoot preCommit() throws MetadataException {
        SpaceMapRoot root = sm.commit();
        bm.flush();
        return root;
    }

    /**
     * Phase two: releases the filled-in superblock (written last by the flush) and flushes. Afterwards a new
     * transaction begins.
     */
    public void commit(WriteBlock superblock) throws MetadataException {
        superblock.close();
        bm.flush();
        java.util.Arrays.fill(newThisTransaction, 0);
    }
}
