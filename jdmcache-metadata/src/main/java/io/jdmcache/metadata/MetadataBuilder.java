package io.jdmcache.metadata;

import io.jdmcache.pdata.array.ArrayBuilder;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.sm.MetadataSpaceMap;

import java.io.IOException;

/**
 * Writes a complete, fresh metadata image in one transaction (what cache_restore and cache_repair need):
 * contents are gathered in flat primitive arrays (8 bytes per cache block for mappings, 4 for hints, one bit
 * for dirty), then every array is built bottom-up and written once, in block order. Whatever the device held
 * before is ignored; the superblock is written last.
 *
 * <p>Not thread-safe. Memory: about 12 bytes per cache block plus one bit per discard block.
 */
public final class MetadataBuilder {
    private final int version;
    private final long dataBlockSize;
    private final int cacheBlocks;
    private final long[] mappings;
    private final long[] dirty;
    private int[] hints;
    private PolicyInfo policy;
    private long discardBlockSize;
    private long discardNrBlocks;
    private long[] discards = new long[0];
    private CacheStats stats = CacheStats.ZERO;

    /**
     * @param version       1 or 2
     * @param dataBlockSize cache block size in sectors
     * @param cacheBlocks   number of cache blocks (u32)
     */
    public MetadataBuilder(int version, long dataBlockSize, long cacheBlocks) {
        if (version < Superblock.MIN_VERSION || version > Superblock.MAX_VERSION) {
            throw new IllegalArgumentException("metadata version " + version + " (1 or 2)");
        }
        if (cacheBlocks < 0 || cacheBlocks > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("cannot build metadata for " + cacheBlocks + " cache blocks");
        }
        if (dataBlockSize <= 0 || dataBlockSize > 0xffffffffL) {
            throw new IllegalArgumentException("data block size " + dataBlockSize + " sectors");
        }
        this.version = version;
        this.dataBlockSize = dataBlockSize;
        this.cacheBlocks = (int) cacheBlocks;
        this.mappings = new long[this.cacheBlocks];
        this.dirty = new long[(this.cacheBlocks + 63) >>> 6];
    }

    public long cacheBlocks() {
        return cacheBlocks;
    }

    /** Maps {@code cblock} to {@code oblock}; a later call for the same cache block replaces it. */
    public void setMapping(long cblock, long oblock, boolean isDirty) {
        checkCblock(cblock);
        mappings[(int) cblock] = Mapping.pack(oblock, Mapping.VALID);
        if (isDirty) {
            dirty[(int) (cblock >>> 6)] |= 1L << cblock;
        } else {
            dirty[(int) (cblock >>> 6)] &= ~(1L << cblock);
        }
    }

    /** True when {@code cblock} has been mapped. */
    public boolean isMapped(long cblock) {
        checkCblock(cblock);
        return mappings[(int) cblock] != 0;
    }

    /** Sets the policy whose name and version are stored; a hint size of 4 creates the hint array. */
    public void setPolicy(PolicyInfo p) {
        if (p.hintSize() != 0 && p.hintSize() != 4) {
            throw new IllegalArgumentException("hint size " + p.hintSize() + " (only 4-byte hints exist)");
        }
        policy = p;
        if (p.hintSize() == 4 && hints == null) {
            hints = new int[cacheBlocks];
        }
    }

    /** Sets the 4-byte hint of {@code cblock} (needs a policy with hint size 4). */
    public void setHint(long cblock, int hint) {
        checkCblock(cblock);
        if (hints == null) {
            throw new IllegalStateException("no hint array: set a policy with 4-byte hints first");
        }
        hints[(int) cblock] = hint;
    }

    /** Sizes the discard bitset. */
    public void setDiscardGeometry(long blockSize, long nrBlocks) {
        if (nrBlocks < 0 || nrBlocks > Integer.MAX_VALUE * 64L) {
            throw new IllegalArgumentException("discard bitset of " + nrBlocks + " blocks");
        }
        if (nrBlocks > 0 && blockSize <= 0) {
            throw new IllegalArgumentException("discard block size " + blockSize + " for " + nrBlocks + " blocks");
        }
        discardBlockSize = blockSize;
        discardNrBlocks = nrBlocks;
        discards = new long[(int) ((nrBlocks + 63) >>> 6)];
    }

    /** Marks discard blocks [from, to) discarded. */
    public void setDiscarded(long from, long to) {
        if (from < 0 || to > discardNrBlocks || from > to) {
            throw new IndexOutOfBoundsException("discard range [" + from + ", " + to + ") outside the "
                    + discardNrBlocks + " discard blocks");
        }
        for (long d = from; d < to; d++) {
            discards[(int) (d >>> 6)] |= 1L << d;
        }
    }

    public void setStats(CacheStats s) {
        stats = s;
    }

    private void checkCblock(long cblock) {
        if (cblock < 0 || cblock >= cacheBlocks) {
            throw new IndexOutOfBoundsException("cache block " + cblock + " is outside the cache (" + cacheBlocks
                    + " blocks)");
        }
    }

    /**
     * Writes the image to {@code dev} and flushes; superblock last. {@code cleanShutdown} sets the
     * clean-shutdown flag (without it the kernel treats every mapping as dirty).
     */
    public void write(BlockDevice dev, boolean cleanShutdown) throws IOException {
        long devBlocks = dev.size() / BlockManager.BLOCK_SIZE;
        if (devBlocks == 0) {
            throw new InvalidSuperblockException("size", dev.name() + ": too small for metadata");
        }
        BlockManager bm = new BlockManager(dev, 1024, false);
        MetadataCore c = MetadataCore.format(dev, bm, MetadataSpaceMap.blocksManaged(devBlocks), dataBlockSize,
                version);
        fill(c);
        c.commit(cleanShutdown);
    }

    private void fill(MetadataCore c) throws MetadataException {
        long n = cacheBlocks;
        c.mappings.delete(c.mappingRoot);
        ArrayBuilder mb = c.mappings.builder(n);
        boolean v1 = version == 1;
        for (int i = 0; i < n; i++) {
            long v = mappings[i];
            if (v1 && v != 0 && (dirty[i >>> 6] & (1L << i)) != 0) {
                v |= Mapping.DIRTY;
            }
            mb.append(v);
        }
        c.mappingRoot = mb.finish();
        if (!v1) {
            // dirty bits only on mapped blocks (the kernel's convention; cache_restore 0.9 sets them all)
            long[] words = dirty.clone();
            for (int i = 0; i < n; i++) {
                if (mappings[i] == 0) {
                    words[i >>> 6] &= ~(1L << i);
                }
            }
            c.bitset.delete(c.dirtyRoot);
            c.dirtyRoot = c.bitset.createFromWords(n, words);
        }
        c.cacheBlocks = n;
        if (policy != null) {
            c.policyName = policy.name();
            c.policyVersion = new int[] {policy.major(), policy.minor(), policy.patch()};
            if (hints != null) {
                c.hintSize = 4;
                ArrayBuilder hb = c.hints.builder(n);
                for (int i = 0; i < n; i++) {
                    hb.append(hints[i] & 0xffffffffL);
                }
                c.hintRoot = hb.finish();
            }
        }
        if (discardNrBlocks > 0) {
            c.bitset.delete(c.discardRoot);
            c.discardRoot = c.bitset.createFromWords(discardNrBlocks, discards);
            c.discards.reset(c.discardRoot, discardNrBlocks);
        }
        c.discardBlockSize = discardBlockSize;
        c.discardNrBlocks = discardNrBlocks;
        c.stats = stats;
        c.changed = true;
    }
}
