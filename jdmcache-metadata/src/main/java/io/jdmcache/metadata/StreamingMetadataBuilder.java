package io.jdmcache.metadata;

import io.jdmcache.pdata.array.ArrayBuilder;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.sm.MetadataSpaceMap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Writes a fresh metadata image while its contents arrive, in bounded memory (what restore uses for the
 * usual input, cache_dump's, whose mappings and hints come in ascending cache block order): the mapping array,
 * the format 2 dirty bitset and the hint array are built bottom-up as they come, each holding one block at a
 * time; only the btree index over the array blocks is kept (16 bytes per 509 cache blocks). Unmapped cache
 * blocks between two mappings are filled in as they are passed. The superblock is written last, by
 * {@link #finish}; until then the device holds a valid empty image (or half-written blocks no superblock
 * points at).
 *
 * <p>Input out of ascending order ends it with {@link OutOfOrderException}: the caller then starts again with a
 * {@link MetadataBuilder}. Discard ranges are kept (two longs a range) and written at the end.
 */
public final class StreamingMetadataBuilder implements RestoreTarget {
    private final MetadataCore core;
    private final int version;
    private final long n;
    private final PolicyInfo policy;
    private ArrayBuilder mappings;
    private ArrayBuilder dirtyWords;
    private long nextMapping;
    private long dirtyWord;
    private ArrayBuilder hints;
    private long nextHint;
    private long discardBlockSize;
    private long discardNrBlocks;
    private long[] ranges = new long[16];
    private int nRanges;

    /**
     * Formats {@code dev} (the superblock of an empty image is committed at once) and starts the arrays.
     *
     * @param policy the policy whose name and version are stored; its hint size must be 0 or 4
     */
    public StreamingMetadataBuilder(BlockDevice dev, int version, long dataBlockSize, long cacheBlocks,
                                    PolicyInfo policy) throws IOException {
        if (version < Superblock.MIN_VERSION || version > Superblock.MAX_VERSION) {
            throw new IllegalArgumentException("metadata version " + version + " (1 or 2)");
        }
        if (cacheBlocks < 0 || cacheBlocks > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("cannot build metadata for " + cacheBlocks + " cache blocks");
        }
        if (policy.hintSize() != 0 && policy.hintSize() != 4) {
            throw new IllegalArgumentException("hint size " + policy.hintSize() + " (only 4-byte hints exist)");
        }
        long devBlocks = dev.size() / BlockManager.BLOCK_SIZE;
        if (devBlocks == 0) {
            throw new InvalidSuperblockException("size", dev.name() + ": too small for metadata");
        }
        this.version = version;
        this.n = cacheBlocks;
        this.policy = policy;
        BlockManager bm = new BlockManager(dev, 256, false);
        core = MetadataCore.format(dev, bm, MetadataSpaceMap.blocksManaged(devBlocks), dataBlockSize, version);
        core.mappings.delete(core.mappingRoot);
        mappings = core.mappings.builder(n);
        if (version >= 2) {
            core.bitset.delete(core.dirtyRoot);
            dirtyWords = core.bitset.words().builder(io.jdmcache.pdata.bitset.PersistentBitset.wordsFor(n));
        }
    }

    @Override
    public long cacheBlocks() {
        return n;
    }

    @Override
    public void setMapping(long cblock, long oblock, boolean dirty) {
        check(cblock);
        if (mappings == null) {
            throw new OutOfOrderException("a mapping after the hints");
        }
        if (cblock < nextMapping) {
            throw new OutOfOrderException("cache block " + cblock + " after " + (nextMapping - 1));
        }
        try {
            fillMappingsTo(cblock);
            long v = Mapping.pack(oblock, Mapping.VALID);
            if (dirty) {
                if (version == 1) {
                    v |= Mapping.DIRTY;
                } else {
                    dirtyWord |= 1L << cblock;
                }
            }
            appendMapping(v);
        } catch (MetadataException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void appendMapping(long v) throws MetadataException {
        mappings.append(v);
        nextMapping++;
        if (dirtyWords != null && ((nextMapping & 63) == 0 || nextMapping == n)) {
            dirtyWords.append(dirtyWord);
            dirtyWord = 0;
        }
    }

    private void fillMappingsTo(long end) throws MetadataException {
        while (nextMapping < end) {
            appendMapping(0);
        }
    }

    private void finishMappings() throws MetadataException {
        if (mappings == null) {
            return;
        }
        fillMappingsTo(n);
        core.mappingRoot = mappings.finish();
        mappings = null;
        if (dirtyWords != null) {
            core.dirtyRoot = dirtyWords.finish();
            dirtyWords = null;
        }
    }

    @Override
    public void setHint(long cblock, int hint) {
        check(cblock);
        if (policy.hintSize() != 4) {
            throw new IllegalStateException("no hint array: the policy has no 4-byte hints");
        }
        if (cblock < nextHint) {
            throw new OutOfOrderException("hint for cache block " + cblock + " after " + (nextHint - 1));
        }
        try {
            finishMappings();
            if (hints == null) {
                hints = core.hints.builder(n);
            }
            while (nextHint < cblock) {
                hints.append(0);
                nextHint++;
            }
            hints.append(hint & 0xffffffffL);
            nextHint++;
        } catch (MetadataException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void setDiscardGeometry(long blockSize, long nrBlocks) {
        if (nrBlocks < 0 || nrBlocks > Integer.MAX_VALUE * 64L) {
            throw new IllegalArgumentException("discard bitset of " + nrBlocks + " blocks");
        }
        if (nrBlocks > 0 && blockSize <= 0) {
            throw new IllegalArgumentException("discard block size " + blockSize + " for " + nrBlocks + " blocks");
        }
        discardBlockSize = blockSize;
        discardNrBlocks = nrBlocks;
    }

    @Override
    public void setDiscarded(long from, long to) {
        if (from < 0 || to > discardNrBlocks || from > to) {
            throw new IndexOutOfBoundsException("discard range [" + from + ", " + to + ") outside the "
                    + discardNrBlocks + " discard blocks");
        }
        if (2 * nRanges + 2 > ranges.length) {
            ranges = Arrays.copyOf(ranges, ranges.length * 2);
        }
        ranges[2 * nRanges] = from;
        ranges[2 * nRanges + 1] = to;
        nRanges++;
    }

    private void check(long cblock) {
        if (cblock < 0 || cblock >= n) {
            throw new IndexOutOfBoundsException("cache block " + cblock + " is outside the cache (" + n
                    + " blocks)");
        }
    }

    /** Writes what was given (superblock last) to the device and flushes. */
    public void finish(boolean cleanShutdown) throws IOException {
        finishMappings();
        core.cacheBlocks = n;
        core.policyName = policy.name();
        core.policyVersion = new int[] {policy.major(), policy.minor(), policy.patch()};
        if (policy.hintSize() == 4) {
            if (hints == null) {
                hints = core.hints.builder(n);
            }
            while (nextHint < n) {
                hints.append(0);
                nextHint++;
            }
            core.hintSize = 4;
            core.hintRoot = hints.finish();
            hints = null;
        }
        if (discardNrBlocks > 0) {
            core.bitset.delete(core.discardRoot);
            core.discardRoot = discardBitset();
            core.discards.reset(core.discardRoot, discardNrBlocks);
        }
        core.discardBlockSize = discardBlockSize;
        core.discardNrBlocks = discardNrBlocks;
        core.changed = true;
        core.commit(cleanShutdown);
    }

    /** The discard bitset from the ranges, sorted and merged, one word at a time. */
    private long discardBitset() throws MetadataException {
        long[][] r = new long[nRanges][];
        for (int i = 0; i < nRanges; i++) {
            r[i] = new long[] {ranges[2 * i], ranges[2 * i + 1]};
        }
        Arrays.sort(r, (a, b) -> Long.compare(a[0], b[0]));
        long words = io.jdmcache.pdata.bitset.PersistentBitset.wordsFor(discardNrBlocks);
        ArrayBuilder b = core.bitset.words().builder(words);
        int next = 0;
        long activeEnd = 0; // the furthest end of the ranges that started in earlier words
        for (long w = 0; w < words; w++) {
            long lo = w * 64;
            long hi = Math.min(lo + 64, discardNrBlocks);
            long word = 0;
            if (activeEnd > lo) { // ranges started in earlier words that reach into this one
                for (long i = lo, to = Math.min(activeEnd, hi); i < to; i++) {
                    word |= 1L << i;
                }
            }
            while (next < r.length && r[next][0] < hi) { // ranges that start in this word
                for (long i = Math.max(r[next][0], lo), to = Math.min(r[next][1], hi); i < to; i++) {
                    word |= 1L << i;
                }
                activeEnd = Math.max(activeEnd, r[next][1]);
                next++;
            }
            b.append(word);
        }
        return b.finish();
    }
}
