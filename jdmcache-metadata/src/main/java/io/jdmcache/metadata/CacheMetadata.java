package io.jdmcache.metadata;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.sm.MetadataSpaceMap;

import java.io.Closeable;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongUnaryOperator;

/**
 * dm-cache metadata (the Java counterpart of the kernel's {@code dm-cache-metadata.c}), formats 1 and 2.
 *
 * <h2>Transactions</h2>
 * Every change belongs to the current transaction and becomes durable at {@link #commit(boolean)}: space
 * map, every new block, a flush, the superblock last, a flush. {@link #abort()} rolls back to the last commit.
 * Opening read-write clears the superblock's clean-shutdown flag in place, so a crash at any later point
 * reads as "not clean": every mapping is then loaded dirty and hints and discards are ignored, as the kernel
 * does, unless the last commit carried the exact-dirty marker ({@link #commit(boolean, boolean)}), in which
 * case the stored dirty bits are loaded as they are (hints and discards are still ignored).
 *
 * <h2>Modes</h2>
 * When an operation fails (a change, a commit, or a read of the device such as a load, while the metadata is
 * read-write), the transaction is aborted, NEEDS_CHECK is set on disk and the metadata becomes read-only:
 * changes are refused, reads still work. Metadata opened read-only just reports read errors. If the abort or the flag update fails too, the
 * metadata enters fail mode, in which every operation fails at once. Metadata with NEEDS_CHECK set cannot
 * be opened for writing until the flag is cleared (by a checker).
 *
 * <h2>Threads</h2>
 * Many readers or one writer (a read-write lock around the roots); readers never take the write lock.
 * Refusals of a request (a shrink over dirty blocks, a cache block out of range) change nothing and do not
 * fail the metadata.
 */
public final class CacheMetadata implements Closeable {
    /** The most metadata blocks a space map can address (about 15.9 GiB). */
    public static final long MAX_METADATA_BLOCKS = MetadataSpaceMap.MAX_BLOCKS;
    public static final long MAX_METADATA_SECTORS = MAX_METADATA_BLOCKS * BlockManager.SECTORS_PER_BLOCK;

    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final BlockDevice dev;
    private final MetadataOptions options;
    private final MetadataRegistry registry;
    private final Object registryKey;
    private final RefCount references = new RefCount(1);
    private final long dataBlockSize;
    private MetadataCore core;
    private volatile MetadataMode mode;
    private boolean closed;
    private volatile boolean committedSinceOpen;

    private CacheMetadata(BlockDevice dev, MetadataOptions options, MetadataCore core, MetadataRegistry registry,
                          Object registryKey) {
        this.dev = dev;
        this.options = options;
        this.core = core;
        this.registry = registry;
        this.registryKey = registryKey;
        this.dataBlockSize = core.dataBlockSize;
        this.mode = options.readOnly() ? MetadataMode.READ_ONLY : MetadataMode.READ_WRITE;
    }

    /**
     * Opens (or formats) the metadata on {@code dev}, unshared. Use a {@link MetadataRegistry} to share one
     * object per device. The device is closed by {@link #close()}.
     */
    public static CacheMetadata open(BlockDevice dev, MetadataOptions options) throws IOException {
        return open(dev, options, null, null);
    }

    static CacheMetadata open(BlockDevice dev, MetadataOptions o, MetadataRegistry registry, Object key)
            throws IOException {
        MetadataCore core = openCore(dev, o);
        return new CacheMetadata(dev, o, core, registry, key);
    }

    private static MetadataCore openCore(BlockDevice dev, MetadataOptions o) throws IOException {
        long devBlocks = dev.size() / BlockManager.BLOCK_SIZE;
        if (devBlocks == 0) {
            throw new InvalidSuperblockException("size", dev.name() + ": metadata device of " + dev.size()
                    + " bytes is too small to hold a superblock (4096 bytes)");
        }
        if (devBlocks > MAX_METADATA_BLOCKS && !o.allowOversized()) {
            throw new InvalidSuperblockException("size", dev.name() + ": metadata device of "
                    + devBlocks * BlockManager.SECTORS_PER_BLOCK + " sectors is larger than the maximum of "
                    + MAX_METADATA_SECTORS + " sectors that the metadata space map can address");
        }
        BlockManager bm = new BlockManager(dev, o.cacheBlocks(), o.readOnly());
        if (MetadataCore.allZero(bm)) {
            if (!o.mayFormat() || o.readOnly()) {
                throw new InvalidSuperblockException("superblock", dev.name()
                        + ": the superblock is all zeros (the metadata is not formatted)");
            }
            if (o.dataBlockSize() <= 0) {
                throw new IllegalArgumentException("formatting needs a data block size");
            }
            return MetadataCore.format(dev, bm, MetadataSpaceMap.blocksManaged(devBlocks), o.dataBlockSize(),
                    o.formatVersion());
        }
        Superblock sb = MetadataCore.readSuperblock(bm);
        validate(sb, o, dev.name());
        MetadataCore core = MetadataCore.open(dev, bm, sb);
        if (!o.readOnly()) {
            if (sb.needsCheck()) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, dev.name() + ": the metadata needs checking "
                        + "(NEEDS_CHECK is set): unable to get write access; run cache_check "
                        + "--clear-needs-check-flag once it passes, or cache_repair");
            }
            if (sb.cleanShutdown()) {
                core.writeCommittedFlags(sb.flags() & ~Superblock.CLEAN_SHUTDOWN);
            }
            core.flags = sb.flags() & ~Superblock.CLEAN_SHUTDOWN;
        }
        return core;
    }

    /** The superblock rules the kernel applies at open (format-spec 2.3, 2.4, 9). */
    static void validate(Superblock sb, MetadataOptions o, String where) throws InvalidSuperblockException {
        if (sb.magic() != Superblock.MAGIC) {
            throw new InvalidSuperblockException("magic", where + ": superblock magic " + sb.magic()
                    + " is not dm-cache's " + Superblock.MAGIC);
        }
        if (sb.version() < Superblock.MIN_VERSION || sb.version() > Superblock.MAX_VERSION) {
            throw new InvalidSuperblockException("version", where + ": unsupported metadata version "
                    + Integer.toUnsignedString(sb.version()) + " (supported: 1 and 2)");
        }
        if (sb.metadataBlockSize() != Superblock.METADATA_BLOCK_SECTORS) {
            throw new InvalidSuperblockException("metadata_block_size", where + ": metadata block size of "
                    + sb.metadataBlockSize() + " sectors (must be 8)");
        }
        if (sb.incompatFlags() != 0) {
            throw new InvalidSuperblockException("incompat_flags", where + ": unsupported incompatible features "
                    + "0x" + Long.toHexString(sb.incompatFlags()));
        }
        if (sb.compatRoFlags() != 0 && !o.readOnly()) {
            throw new InvalidSuperblockException("compat_ro_flags", where + ": unsupported features 0x"
                    + Long.toHexString(sb.compatRoFlags()) + " allow read-only access only");
        }
        if (o.dataBlockSize() > 0 && sb.dataBlockSize() != o.dataBlockSize()) {
            throw new InvalidSuperblockException("data_block_size", where + ": changing the data block size (from "
                    + sb.dataBlockSize() + " to " + o.dataBlockSize() + ") is not supported");
        }
    }

    // ================================================================== locking and modes

    @FunctionalInterface
    private interface Op<T> {
        T run(MetadataCore c) throws IOException;
    }

    private <T> T read(Op<T> op) throws IOException {
        lock.readLock().lock();
        try {
            checkNotFailed();
            return op.run(core);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * A read that goes to the metadata device. When it fails while the metadata is read-write, the failure
     * is handled like a failed change (the kernel target does so for a failed load): abort, needs_check,
     * read-only. A reader that opened read-only only gets the error. Failures of the caller's own callback
     * ({@code callerFault}) and refused requests change nothing.
     */
    private <T> T readDevice(String name, Op<T> op, BooleanSupplier callerFault) throws IOException {
        MetadataCore seen;
        Exception failure;
        lock.readLock().lock();
        try {
            checkNotFailed();
            seen = core;
            try {
                return op.run(seen);
            } catch (IndexOutOfBoundsException | IllegalArgumentException | MetadataModeException e) {
                throw e;
            } catch (IOException | RuntimeException e) {
                if (callerFault.getAsBoolean()) {
                    throw e;
                }
                failure = e;
            }
        } finally {
            lock.readLock().unlock();
        }
        // a read lock cannot be upgraded: take the write lock, and act only if nobody acted meanwhile
        lock.writeLock().lock();
        try {
            if (mode != MetadataMode.READ_WRITE || core != seen) {
                if (failure instanceof IOException io) {
                    throw io;
                }
                throw (RuntimeException) failure;
            }
            throw operationFailed(name, failure);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Checks a request's arguments against the current state before anything changes. */
    @FunctionalInterface
    private interface Check {
        void check(MetadataCore c);
    }

    private static final Check NO_CHECK = c -> {
    };

    /**
     * A change. {@code check} may refuse the request (IllegalArgumentException, IndexOutOfBoundsException)
     * before anything changes; so may the operation itself with a {@link DirtyBlockException}, which is
     * raised before any change too. Any other failure of the operation fails the metadata.
     */
    private <T> T write(String name, Check check, Op<T> op) throws IOException {
        lock.writeLock().lock();
        try {
            checkNotFailed();
            if (mode == MetadataMode.READ_ONLY) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, name + " refused: the metadata is read-only"
                        + (core.flags != 0 && (core.flags & Superblock.NEEDS_CHECK) != 0 ? " and needs checking" : ""));
            }
            check.check(core);
            try {
                return op.run(core);
            } catch (DirtyBlockException e) {
                throw e; // a refused shrink: nothing was changed
            } catch (IOException | RuntimeException e) {
                throw operationFailed(name, e);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void checkNotFailed() throws MetadataModeException {
        if (closed) {
            throw new IllegalStateException("the metadata is closed");
        }
        if (mode == MetadataMode.FAIL) {
            throw new MetadataModeException(MetadataMode.FAIL, "the metadata is in fail mode: no operation is possible");
        }
    }

    /** The kernel target's metadata_operation_failed: abort, set NEEDS_CHECK, go read-only (or fail). */
    private MetadataModeException operationFailed(String op, Exception e) {
        String what = "metadata operation '" + op + "' failed: " + e.getMessage();
        try {
            doAbort();
        } catch (IOException | RuntimeException ae) {
            mode = MetadataMode.FAIL;
            MetadataModeException f = new MetadataModeException(MetadataMode.FAIL, what
                    + "; the abort failed too (" + ae.getMessage() + "): the metadata is in fail mode", e);
            f.addSuppressed(ae);
            return f;
        }
        try {
            core.writeCommittedFlags(core.committed.flags() | Superblock.NEEDS_CHECK);
            core.flags |= Superblock.NEEDS_CHECK;
        } catch (IOException | RuntimeException ne) {
            mode = MetadataMode.FAIL;
            MetadataModeException f = new MetadataModeException(MetadataMode.FAIL, what
                    + "; setting needs_check failed too (" + ne.getMessage() + "): the metadata is in fail mode", e);
            f.addSuppressed(ne);
            return f;
        }
        mode = MetadataMode.READ_ONLY;
        core.bm.setReadOnly(true);
        return new MetadataModeException(MetadataMode.READ_ONLY, what
                + "; rolled back to the last commit, the metadata is now read-only and needs checking", e);
    }

    private void doAbort() throws IOException {
        BlockManager bm = new BlockManager(dev, options.cacheBlocks(), options.readOnly());
        Superblock sb = MetadataCore.readSuperblock(bm);
        validate(sb, options, dev.name());
        MetadataCore fresh = MetadataCore.open(dev, bm, sb);
        fresh.flags = sb.flags() & ~Superblock.CLEAN_SHUTDOWN;
        core = fresh;
    }

    // ================================================================== mappings

    /** Calls {@code v} for each valid mapping, in cache block order; hints only when they belong to {@code policy}. */
    public void loadMappings(PolicyInfo policy, MappingVisitor v) throws IOException {
        boolean[] visitorFailed = {false};
        MappingVisitor guarded = (o, c, d, h, hv) -> {
            try {
                v.mapping(o, c, d, h, hv);
            } catch (IOException | RuntimeException e) {
                visitorFailed[0] = true;
                throw e;
            }
        };
        readDevice("load mappings", c -> {
            c.loadMappings(guarded, policy);
            return null;
        }, () -> visitorFailed[0]);
    }

    /** Maps {@code cblock} to {@code oblock} (clean in format 1). */
    public void insertMapping(long cblock, long oblock) throws IOException {
        if (oblock < 0 || oblock > Mapping.MAX_OBLOCK) {
            throw new IllegalArgumentException("origin block " + oblock + " does not fit in 48 bits");
        }
        write("insert mapping", c -> c.checkCblock(cblock), c -> {
            c.insert(cblock, oblock);
            return null;
        });
    }

    public void removeMapping(long cblock) throws IOException {
        write("remove mapping", c -> c.checkCblock(cblock), c -> {
            c.remove(cblock);
            return null;
        });
    }

    /** The raw mapping value of {@code cblock} (origin &lt;&lt; 16 | flags), 0 when unmapped. */
    public long mappingValue(long cblock) throws IOException {
        return readDevice("read mapping", c -> c.mappingValue(cblock), () -> false);
    }

    /**
     * Stores the dirty state of every cache block: bit i of {@code words[i / 64]}. In format 1 only the
     * mappings whose flag changes are rewritten; in format 2 the dirty bitset is recreated in one go.
     */
    public void setDirtyBits(long[] words, long nrBits) throws IOException {
        write("set dirty bits", c -> c.format.checkDirtyBits(c, words, nrBits), c -> {
            c.setDirtyBits(words, nrBits);
            return null;
        });
    }

    /**
     * Rewrites the dirty state of the cache blocks of some words only: bit i of {@code values[k]} is the state of
     * cache block 64 * idx[k] + i (bits beyond the cache ignored). Unmapped blocks keep no state in format 1.
     */
    public void setDirtyWords(long[] idx, long[] values, int n) throws IOException {
        write("set dirty bits", c -> {
            if (n < 0 || n > idx.length || n > values.length) {
                throw new IllegalArgumentException(n + " dirty words of " + idx.length + " and " + values.length);
            }
        }, c -> {
            c.setDirtyWords(idx, values, n);
            return null;
        });
    }

    /** Grows or shrinks the cache; shrinking is refused, naming the first dirty block, if any dropped block is dirty. */
    public void resize(long newCacheBlocks) throws IOException {
        write("resize", c -> MetadataCore.checkCacheSize(newCacheBlocks), c -> {
            c.resize(newCacheBlocks);
            return null;
        });
    }

    /** True when no mapped cache block is dirty (needed to enter passthrough mode). */
    public boolean allClean() throws IOException {
        return readDevice("check all clean", MetadataCore::allClean, () -> false);
    }

    // ================================================================== discards

    /** Resizes the discard bitset to {@code nrBlocks} bits of {@code blockSize} sectors each (new bits clear). */
    public void resizeDiscards(long blockSize, long nrBlocks) throws IOException {
        write("discard bitset resize", c -> MetadataCore.checkDiscardSize(blockSize, nrBlocks), c -> {
            c.resizeDiscards(blockSize, nrBlocks);
            return null;
        });
    }

    public void setDiscard(long dblock, boolean discarded) throws IOException {
        write("set discard", c -> c.checkDiscard(dblock), c -> {
            c.setDiscard(dblock, discarded);
            return null;
        });
    }

    /** Reports every discard block (all "not discarded" after an unclean stop). */
    public void loadDiscards(DiscardVisitor v) throws IOException {
        // flushing the cached word changes the transaction, so this takes the write side
        boolean[] visitorFailed = {false};
        DiscardVisitor guarded = (bs, d, on) -> {
            try {
                v.discard(bs, d, on);
            } catch (IOException | RuntimeException e) {
                visitorFailed[0] = true;
                throw e;
            }
        };
        lock.writeLock().lock();
        try {
            checkNotFailed();
            try {
                core.loadDiscards(guarded);
            } catch (IOException | RuntimeException e) {
                if (visitorFailed[0] || mode != MetadataMode.READ_WRITE) {
                    throw e;
                }
                throw operationFailed("load discards", e);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    public long discardBlockSize() throws IOException {
        return read(c -> c.discardBlockSize);
    }

    public long discardNrBlocks() throws IOException {
        return read(c -> c.discardNrBlocks);
    }

    // ================================================================== hints and stats

    /**
     * Stores the policy's name and version and, when its hint size is not 0, replaces the hint array with
     * one hint per cache block. Does not by itself mark the transaction changed.
     */
    public void writeHints(PolicyInfo policy, LongUnaryOperator hintOf) throws IOException {
        write("write hints", c -> {
            Objects.requireNonNull(policy, "policy");
            Objects.requireNonNull(hintOf, "hintOf");
        }, c -> {
            c.writeHints(policy, hintOf);
            return null;
        });
    }

    /** True when stored hints would be offered to {@code policy} by {@link #loadMappings}. */
    public boolean hintsUsable(PolicyInfo policy) throws IOException {
        return read(c -> c.hintsUsable(policy));
    }

    public CacheStats stats() throws IOException {
        return read(c -> c.stats);
    }

    /** Sets the counters written at the next commit (does not mark the transaction changed). */
    public void setStats(CacheStats s) throws IOException {
        write("set stats", c -> Objects.requireNonNull(s, "stats"), c -> {
            c.stats = s;
            return null;
        });
    }

    // ================================================================== transactions

    /** Commits the transaction; {@code cleanShutdown} sets the clean-shutdown flag (the final commit of a stop). */
    public void commit(boolean cleanShutdown) throws IOException {
        commit(cleanShutdown, false);
    }

    /**
     * As {@link #commit(boolean)}; {@code exactDirty} marks the commit's dirty bits exact (see {@link Superblock}):
     * the caller vouches that every mapped block whose cache data may differ from the origin is committed dirty,
     * now and until its next commit, so that an open after an unclean stop may trust them. A commit without it,
     * and any in-place change of the flags (needs_check, the clean-shutdown flag at open), removes the marker.
     */
    public void commit(boolean cleanShutdown, boolean exactDirty) throws IOException {
        committedSinceOpen = true;
        write("commit", NO_CHECK, c -> {
            c.commit(cleanShutdown, exactDirty);
            return null;
        });
    }

    /**
     * Closes metadata that its caller opened read-write (unshared), read, and then decided not to use (a device
     * that no longer fits, a mode it refuses): when nothing was changed or committed since the open, the
     * clean-shutdown flag that opening cleared is put back, so the next open finds the metadata as it was, its
     * clean blocks, hints and discards still trusted. Otherwise, and for shared metadata, this is {@link #close()}.
     */
    public void closeUnused() throws IOException {
        lock.writeLock().lock();
        try {
            if (!closed && registry == null && mode == MetadataMode.READ_WRITE && core.cleanWhenOpened
                    && !core.changed && !committedSinceOpen) {
                core.writeCommittedFlags(core.committed.flags() | Superblock.CLEAN_SHUTDOWN);
            }
        } finally {
            lock.writeLock().unlock();
        }
        close();
    }

    /** Throws away the transaction and reloads the last commit from disk. */
    public void abort() throws IOException {
        lock.writeLock().lock();
        try {
            checkNotFailed();
            try {
                doAbort();
            } catch (IOException | RuntimeException e) {
                mode = MetadataMode.FAIL;
                throw new MetadataModeException(MetadataMode.FAIL, "abort failed (" + e.getMessage()
                        + "): the metadata is in fail mode", e);
            }
            if (mode == MetadataMode.READ_ONLY) {
                core.bm.setReadOnly(true);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** True when something changed in the current transaction. */
    public boolean changedThisTransaction() throws IOException {
        return read(c -> c.changed || c.sm.changed());
    }

    // ================================================================== needs_check and modes

    public boolean needsCheck() throws IOException {
        return read(c -> (c.flags & Superblock.NEEDS_CHECK) != 0);
    }

    /** Sets NEEDS_CHECK in memory and in the committed superblock, in place. */
    public void setNeedsCheck() throws IOException {
        lock.writeLock().lock();
        try {
            checkNotFailed();
            if (options.readOnly()) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, "cannot set needs_check: opened read-only");
            }
            core.writeCommittedFlags(core.committed.flags() | Superblock.NEEDS_CHECK);
            core.flags |= Superblock.NEEDS_CHECK;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Clears NEEDS_CHECK in place (what a checker does once the metadata passed). */
    public void clearNeedsCheck() throws IOException {
        lock.writeLock().lock();
        try {
            checkNotFailed();
            if (options.readOnly()) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, "cannot clear needs_check: opened read-only");
            }
            boolean wasRo = core.bm.isReadOnly();
            core.bm.setReadOnly(false);
            try {
                core.writeCommittedFlags(core.committed.flags() & ~Superblock.NEEDS_CHECK);
            } finally {
                core.bm.setReadOnly(wasRo);
            }
            core.flags &= ~Superblock.NEEDS_CHECK;
        } finally {
            lock.writeLock().unlock();
        }
    }

    public MetadataMode mode() {
        return mode;
    }

    /** Refuses changes from now on (the kernel's dm_cache_metadata_set_read_only). */
    public void setReadOnly() throws IOException {
        lock.writeLock().lock();
        try {
            checkNotFailed();
            mode = MetadataMode.READ_ONLY;
            core.bm.setReadOnly(true);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Allows changes again; refused while NEEDS_CHECK is set or when opened read-only. */
    public void setReadWrite() throws IOException {
        lock.writeLock().lock();
        try {
            checkNotFailed();
            if (options.readOnly()) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, "opened read-only");
            }
            if ((core.flags & Superblock.NEEDS_CHECK) != 0) {
                throw new MetadataModeException(MetadataMode.READ_ONLY, "unable to get write access: the metadata "
                        + "needs checking (run cache_check, then --clear-needs-check-flag)");
            }
            mode = MetadataMode.READ_WRITE;
            core.bm.setReadOnly(false);
        } finally {
            lock.writeLock().unlock();
        }
    }

    // ================================================================== queries

    public long cacheBlocks() throws IOException {
        return read(c -> c.cacheBlocks);
    }

    public int version() throws IOException {
        return read(c -> c.version);
    }

    public long dataBlockSize() throws IOException {
        return read(c -> c.dataBlockSize);
    }

    /** Free metadata blocks: allocatable now (free now and at the last commit). */
    public long freeMetadataBlocks() throws IOException {
        return read(c -> c.sm.nrFree());
    }

    /** Metadata blocks the space map manages. */
    public long totalMetadataBlocks() throws IOException {
        return read(c -> c.sm.nrBlocks());
    }

    /**
     * Whether the superblock found at open carried the exact-dirty marker: its dirty bits were then loaded as they
     * are even after an unclean stop.
     */
    public boolean exactDirtyWhenOpened() throws IOException {
        return read(c -> c.exactDirtyWhenOpened);
    }

    /** Whether the clean-shutdown flag was set when the metadata was opened. */
    public boolean cleanWhenOpened() throws IOException {
        return read(c -> c.cleanWhenOpened);
    }

    /** The superblock as last committed. */
    public Superblock committedSuperblock() throws IOException {
        return read(c -> c.committed);
    }

    /** The stored policy name ("" when none was written). */
    public String policyName() throws IOException {
        return read(c -> c.policyName);
    }

    /** The stored hint of {@code cblock}, whatever policy wrote it (0 when there is no hint array). */
    public long hint(long cblock) throws IOException {
        return readDevice("read hint", c -> c.hint(cblock), () -> false);
    }

    public String deviceName() {
        return dev.name();
    }

    // ================================================================== sharing and close

    /** One more holder (registry use, under its lock). Fails rather than overflows. */
    void retain() {
        references.retain("the metadata of " + dev.name());
    }

    /** One fewer holder (registry use, under its lock); returns how many remain, -1 if none was left. */
    int releaseReference() {
        return references.release();
    }

    /** The data block size, which cannot change once open (registry use: no lock, no mode check). */
    long openedDataBlockSize() {
        return dataBlockSize;
    }

    Object registryKey() {
        return registryKey;
    }

    MetadataOptions options() {
        return options;
    }

    /**
     * Drops this holder; the last one closes the device. There is no implicit commit. Closing once more
     * after the last holder is gone does nothing.
     */
    @Override
    public void close() throws IOException {
        if (registry != null) {
            registry.release(this);
        } else {
            teardown();
        }
    }

    void teardown() throws IOException {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                dev.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
