package io.jdmcache.metadata;

import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.array.PersistentArray;
import io.jdmcache.pdata.bitset.BitsetCursor;
import io.jdmcache.pdata.bitset.BitsetHandle;
import io.jdmcache.pdata.bitset.PersistentBitset;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;
import io.jdmcache.pdata.tm.TransactionManager;

import java.io.IOException;
import java.util.function.LongUnaryOperator;

/**
 * One opening of the metadata: the block manager, space map and transaction manager, and the superblock
 * fields of the current transaction. {@link CacheMetadata} owns it, locks around it and replaces it on
 * abort. Mirrors the kernel's {@code struct dm_cache_metadata} without its locking and modes.
 */
final class MetadataCore {
    final BlockDevice dev;
    final BlockManager bm;
    final MetadataSpaceMap sm;
    final TransactionManager tm;
    final PersistentArray mappings;
    final PersistentArray hints;
    final PersistentBitset bitset;
    final DirtyFormat format;

    // the current transaction's superblock fields
    int version;
    int flags;
    byte[] uuid;
    long mappingRoot;
    long hintRoot;
    long discardRoot;
    long dirtyRoot;
    long discardBlockSize;
    long discardNrBlocks;
    long dataBlockSize;
    long cacheBlocks;
    long compatFlags;
    long compatRoFlags;
    long incompatFlags;
    String policyName;
    int[] policyVersion;
    int hintSize;
    CacheStats stats;

    boolean changed;
    boolean cleanWhenOpened;
    /** The superblock found at open carried the exact-dirty marker (see {@link Superblock}). */
    boolean exactDirtyWhenOpened;
    final BitsetHandle discards;
    /** The superblock as last committed (or as found at open). */
    Superblock committed;

    private MetadataCore(BlockDevice dev, BlockManager bm, MetadataSpaceMap sm, int version) {
        this.dev = dev;
        this.bm = bm;
        this.sm = sm;
        this.tm = new TransactionManager(bm, sm);
        this.mappings = new PersistentArray(tm, 8);
        this.hints = new PersistentArray(tm, 4);
        this.bitset = new PersistentBitset(tm);
        this.format = DirtyFormat.of(version);
        this.version = version;
        this.discards = new BitsetHandle(bitset, 0, 0);
    }

    /** Formats an all-zero device (format-spec 9, "Format"). */
    static MetadataCore format(BlockDevice dev, BlockManager bm, long nrBlocks, long dataBlockSize, int version)
            throws MetadataException {
        MetadataSpaceMap sm = MetadataSpaceMap.format(bm, nrBlocks, 1);
        MetadataCore c = new MetadataCore(dev, bm, sm, version);
        c.flags = 0;
        c.uuid = new byte[16];
        c.mappingRoot = c.mappings.empty();
        c.format.format(c);
        c.discardRoot = c.bitset.empty();
        c.hintRoot = 0;
        c.discardBlockSize = 0;
        c.discardNrBlocks = 0;
        c.dataBlockSize = dataBlockSize;
        c.cacheBlocks = 0;
        c.policyName = "";
        c.policyVersion = new int[3];
        c.hintSize = 0;
        c.stats = CacheStats.ZERO;
        c.discards.reset(c.discardRoot, 0);
        c.commit(false);
        c.cleanWhenOpened = true;
        return c;
    }

    /** Opens committed metadata whose superblock {@code sb} has been validated. */
    static MetadataCore open(BlockDevice dev, BlockManager bm, Superblock sb) throws MetadataException {
        MetadataSpaceMap sm = MetadataSpaceMap.open(bm, sb.spaceMapRoot());
        MetadataCore c = new MetadataCore(dev, bm, sm, sb.version());
        c.load(sb);
        c.cleanWhenOpened = sb.cleanShutdown();
        c.exactDirtyWhenOpened = sb.exactDirty();
        return c;
    }

    private void load(Superblock sb) {
        committed = sb;
        version = sb.version();
        flags = sb.flags();
        uuid = sb.uuid();
        mappingRoot = sb.mappingRoot();
        hintRoot = sb.hintRoot();
        discardRoot = sb.discardRoot();
        dirtyRoot = sb.dirtyRoot();
        discardBlockSize = sb.discardBlockSize();
        discardNrBlocks = sb.discardNrBlocks();
        dataBlockSize = sb.dataBlockSize();
        cacheBlocks = sb.cacheBlocks();
        compatFlags = sb.compatFlags();
        compatRoFlags = sb.compatRoFlags();
        incompatFlags = sb.incompatFlags();
        policyName = sb.policyName();
        policyVersion = sb.policyVersion();
        hintSize = sb.policyHintSize();
        stats = sb.stats();
        discards.reset(discardRoot, discardNrBlocks);
        changed = false;
    }

    Superblock current(int withFlags) {
        return new Superblock(withFlags, uuid, Superblock.MAGIC, version, policyName, hintSize, sm.committedRoot(),
                mappingRoot, hintRoot, discardRoot, discardBlockSize, discardNrBlocks, dataBlockSize,
                Superblock.METADATA_BLOCK_SECTORS, cacheBlocks, compatFlags, compatRoFlags, incompatFlags, stats,
                policyVersion, version >= 2 ? dirtyRoot : 0, false);
    }

    /** The kernel's commit sequence (format-spec 8.4); superblock last. */
    void commit(boolean cleanShutdown) throws MetadataException {
        commit(cleanShutdown, false);
    }

    /**
     * As {@link #commit(boolean)}; {@code exactDirty} writes the exact-dirty marker (the caller vouches that the
     * committed dirty bits cover every block whose cache data may differ from the origin).
     */
    void commit(boolean cleanShutdown, boolean exactDirty) throws MetadataException {
        discardRoot = discards.flush();
        SpaceMapRoot smRoot = tm.preCommit();
        int newFlags = cleanShutdown ? flags | Superblock.CLEAN_SHUTDOWN : flags & ~Superblock.CLEAN_SHUTDOWN;
        Superblock sb = new Superblock(newFlags, uuid, Superblock.MAGIC, version, policyName, hintSize, smRoot,
                mappingRoot, hintRoot, discardRoot, discardBlockSize, discardNrBlocks, dataBlockSize,
                Superblock.METADATA_BLOCK_SECTORS, cacheBlocks, compatFlags, compatRoFlags, incompatFlags, stats,
                policyVersion, version >= 2 ? dirtyRoot : 0, exactDirty);
        WriteBlock w = bm.writeZeroed(0, Superblock.VALIDATOR);
        sb.pack(w.data());
        tm.commit(w);
        committed = sb;
        flags = newFlags;
        changed = false;
    }

    /**
     * Rewrites only the flags of the committed superblock in place and flushes it (the exceptions of
     * format-spec 8.5: clearing CLEAN_SHUTDOWN at open, setting or clearing NEEDS_CHECK).
     */
    void writeCommittedFlags(int newFlags) throws MetadataException {
        Superblock sb = committed.withFlags(newFlags);
        try (WriteBlock w = bm.writeZeroed(0, Superblock.VALIDATOR)) {
            sb.pack(w.data());
        }
        bm.flush();
        committed = sb;
    }

    // ------------------------------------------------------------------ mappings

    void insert(long cblock, long oblock) throws MetadataException {
        checkCblock(cblock);
        mappingRoot = mappings.set(mappingRoot, cblock, Mapping.pack(oblock, Mapping.VALID));
        changed = true;
    }

    void remove(long cblock) throws MetadataException {
        checkCblock(cblock);
        mappingRoot = mappings.set(mappingRoot, cblock, 0);
        changed = true;
    }

    long mappingValue(long cblock) throws MetadataException {
        checkCblock(cblock);
        return mappings.get(mappingRoot, cblock);
    }

    void checkCblock(long cblock) {
        if (cblock < 0 || cblock >= cacheBlocks) {
            throw new IndexOutOfBoundsException("cache block " + cblock + " is outside the cache (" + cacheBlocks
                    + " blocks)");
        }
    }

    /**
     * Calls {@code v} for every valid mapping (format-spec 9, "Load mappings"). A failure names the cache
     * block that could not be loaded (the cause names the metadata block). Hints are offered only for the
     * cache blocks the hint array covers: after the cache grew, the array is short until hints are written.
     */
    void loadMappings(MappingVisitor v, PolicyInfo policy) throws IOException {
        if (cacheBlocks == 0) {
            return;
        }
        ArrayCursor m;
        ArrayCursor h = null;
        long hintLength = 0;
        DirtyFormat.DirtySource dirty;
        try {
            m = ArrayCursor.open(tm, mappingRoot, 8, cacheBlocks);
            if (policy != null && hintsUsable(policy)) {
                PersistentArray a = new PersistentArray(tm, hintSize);
                hintLength = Math.min(cacheBlocks, a.length(hintRoot));
                h = hintLength > 0 ? ArrayCursor.open(tm, hintRoot, hintSize, hintLength) : null;
            }
            // after an unclean stop the stored dirty bits are trusted only when the marker vouches for them
            dirty = cleanWhenOpened || exactDirtyWhenOpened ? format.openDirtySource(this) : null;
        } catch (MetadataException | RuntimeException e) {
            throw loadFailure(0, -1, e);
        }
        int allowed = format.allowedMappingFlags();
        while (true) {
            long cblock = m.index() + 1;
            long value;
            long hint = 0;
            boolean hintValid = false;
            boolean isDirty;
            try {
                if (!m.next()) {
                    return;
                }
                value = m.value();
                if (cblock < hintLength) {
                    h.next();
                    hint = h.value();
                    hintValid = true;
                }
                isDirty = dirty == null || dirty.dirty(cblock, value);
            } catch (MetadataException | RuntimeException e) {
                throw loadFailure(cblock, -1, e);
            }
            if (!Mapping.valid(value)) {
                continue;
            }
            long oblock = Mapping.oblock(value);
            if ((Mapping.flags(value) & ~allowed) != 0) {
                throw new MappingLoadException(cblock, oblock, "mapping of cache block " + cblock + " (origin block "
                        + oblock + ") has unknown flags " + Mapping.flags(value) + " for format " + version, null);
            }
            try {
                v.mapping(oblock, cblock, isDirty, hint, hintValid);
            } catch (IOException | RuntimeException e) {
                throw new MappingLoadException(cblock, oblock, "could not load cache block " + cblock
                        + " (origin block " + oblock + "): " + e.getMessage(), e);
            }
        }
    }

    private static MappingLoadException loadFailure(long cblock, long oblock, Exception e) {
        return new MappingLoadException(cblock, oblock, "could not load the mapping of cache block " + cblock + ": "
                + e.getMessage(), e);
    }

    boolean hintsUsable(PolicyInfo p) {
        return cleanWhenOpened && hintRoot != 0 && hintSize != 0 && policyName.equals(p.name())
                && policyVersion[0] == p.major() && hintSize == p.hintSize();
    }

    // ------------------------------------------------------------------ resize and dirty state

    static void checkCacheSize(long newCacheBlocks) {
        if (newCacheBlocks < 0 || newCacheBlocks > 0xffffffffL) {
            throw new IllegalArgumentException("cache of " + newCacheBlocks + " blocks (the superblock holds a u32)");
        }
    }

    void resize(long newCacheBlocks) throws MetadataException {
        checkCacheSize(newCacheBlocks);
        if (newCacheBlocks == cacheBlocks) {
            return;
        }
        if (newCacheBlocks < cacheBlocks) {
            long d = format.firstDirty(this, newCacheBlocks, cacheBlocks);
            if (d >= 0) {
                throw new DirtyBlockException(d, "unable to shrink cache due to dirty blocks: cache block " + d
                        + " is dirty (shrinking from " + cacheBlocks + " to " + newCacheBlocks + " blocks)");
            }
        }
        mappingRoot = mappings.resize(mappingRoot, cacheBlocks, newCacheBlocks, 0);
        format.resize(this, cacheBlocks, newCacheBlocks);
        if (hintRoot != 0) {
            // The kernel leaves the hint array alone until the next write of the hints; cache_check 0.9
            // rejects a hint array shorter than the cache ("missing mappings ... missing blocks"), so keep it
            // in step (new hints 0), which both accept and which keeps the hints of the blocks that stay.
            PersistentArray a = new PersistentArray(tm, hintSize == 0 ? 4 : hintSize);
            hintRoot = a.resize(hintRoot, a.length(hintRoot), newCacheBlocks, 0);
        }
        cacheBlocks = newCacheBlocks;
        changed = true;
    }

    void setDirtyBits(long[] words, long nrBits) throws MetadataException {
        format.setDirtyBits(this, words, nrBits);
    }

    /** Rewrites the dirty state of the cache blocks of words {@code idx[0..n)} (bit i of word w: block 64w+i). */
    void setDirtyWords(long[] idx, long[] values, int n) throws MetadataException {
        long nWords = (cacheBlocks + 63) >>> 6;
        for (int k = 0; k < n; k++) {
            if (idx[k] < 0 || idx[k] >= nWords) {
                throw new IndexOutOfBoundsException("dirty word " + idx[k] + " is outside the cache (" + nWords
                        + " words)");
            }
        }
        for (int k = 0; k < n; k++) {
            long w = idx[k];
            long inWord = cacheBlocks - w * 64;
            long mask = inWord >= 64 ? -1L : (1L << inWord) - 1;
            format.setDirtyWord(this, w, values[k] & mask);
        }
    }

    boolean allClean() throws MetadataException {
        return format.firstDirty(this, 0, cacheBlocks) < 0;
    }

    // ------------------------------------------------------------------ discards

    static void checkDiscardSize(long blockSize, long nrBlocks) {
        if (blockSize < 0 || nrBlocks < 0 || nrBlocks > 0xffffffffL * 64) {
            throw new IllegalArgumentException("discard bitset of " + nrBlocks + " blocks of " + blockSize
                    + " sectors");
        }
    }

    void checkDiscard(long dblock) {
        if (dblock < 0 || dblock >= discardNrBlocks) {
            throw new IndexOutOfBoundsException("discard block " + dblock + " is outside the discard bitset ("
                    + discardNrBlocks + " blocks)");
        }
    }

    void resizeDiscards(long blockSize, long nrBlocks) throws MetadataException {
        changed = true;
        discardRoot = discards.flush();
        discardRoot = bitset.resize(discardRoot, discardNrBlocks, nrBlocks, false);
        discardBlockSize = blockSize;
        discardNrBlocks = nrBlocks;
        discards.reset(discardRoot, nrBlocks);
    }

    void setDiscard(long dblock, boolean discarded) throws MetadataException {
        discards.set(dblock, discarded);
        changed = true;
    }

    void loadDiscards(DiscardVisitor v) throws IOException {
        if (discardNrBlocks == 0) {
            return;
        }
        if (!cleanWhenOpened) {
            for (long d = 0; d < discardNrBlocks; d++) {
                v.discard(discardBlockSize, d, false);
            }
            return;
        }
        discardRoot = discards.flush();
        BitsetCursor c = BitsetCursor.open(tm, discardRoot, discardNrBlocks);
        while (c.next()) {
            v.discard(discardBlockSize, c.index(), c.bit());
        }
    }

    // ------------------------------------------------------------------ hints

    void writeHints(PolicyInfo p, LongUnaryOperator hintOf) throws MetadataException {
        policyName = p.name();
        policyVersion = new int[] {p.major(), p.minor(), p.patch()};
        if (p.hintSize() == 0) {
            return;
        }
        if (hintRoot != 0) {
            new PersistentArray(tm, hintSize == 0 ? 4 : Math.min(hintSize, 8)).delete(hintRoot);
        }
        hintSize = p.hintSize();
        PersistentArray a = new PersistentArray(tm, hintSize);
        hintRoot = a.create(cacheBlocks, hintOf);
    }

    /**
     * The stored hint of {@code cblock}, 0 when there is no hint array or it does not reach that far (tools-made
     * images store a hint size of 0 for 4-byte hints).
     */
    long hint(long cblock) throws MetadataException {
        checkCblock(cblock);
        if (hintRoot == 0) {
            return 0;
        }
        PersistentArray a = new PersistentArray(tm, hintSize == 0 ? 4 : hintSize);
        return cblock < a.length(hintRoot) ? a.get(hintRoot, cblock) : 0;
    }

    static boolean allZero(BlockManager bm) throws MetadataException {
        if (bm.nrBlocks() == 0) {
            return false;
        }
        return Bytes.allZero(bm.readRaw(0));
    }

    static Superblock readSuperblock(BlockManager bm) throws MetadataException {
        try (ReadBlock r = bm.read(0, Superblock.VALIDATOR)) {
            return Superblock.unpack(r.data());
        }
    }
}
