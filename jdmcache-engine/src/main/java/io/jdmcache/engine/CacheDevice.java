package io.jdmcache.engine;

import io.jdmcache.engine.commit.Committer;
import io.jdmcache.engine.core.Activity;
import io.jdmcache.engine.core.BackgroundFailures;
import io.jdmcache.engine.core.BlockLocks;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.Counters;
import io.jdmcache.engine.core.DirtyTracker;
import io.jdmcache.engine.core.DiscardSet;
import io.jdmcache.engine.core.EngineCounters;
import io.jdmcache.engine.core.WorkCompletions;
import io.jdmcache.engine.io.IoPath;
import io.jdmcache.engine.migration.MigrationWorkers;
import io.jdmcache.engine.migration.Migrator;
import io.jdmcache.engine.control.CacheLoader;
import io.jdmcache.engine.control.CleanShutdown;
import io.jdmcache.engine.control.LoadedCache;
import io.jdmcache.engine.control.StartState;
import io.jdmcache.engine.control.StatusLine;
import io.jdmcache.engine.control.TargetMessages;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.CacheStats;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.policy.CachePolicy;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A dm-cache device in userspace (the counterpart of the kernel's {@code dm-cache-target.c}): a slow origin
 * made fast by a cache device, with the mapping kept in dm-cache metadata on a third device.
 *
 * <p>This class is the façade; the work is done by the engine's parts, lowest first:
 * <ul>
 *   <li>{@code core}: {@link CacheGeometry}, {@link BlockLocks} (the bio prison), {@link DiscardSet},
 *       {@link DirtyTracker}, {@link EngineCounters}, {@link Counters}, {@link Activity};</li>
 *   <li>{@code commit}: {@link Committer}, the commit batcher;</li>
 *   <li>{@code migration}: {@link Migrator} (promote, demote, write back) and {@link MigrationWorkers};</li>
 *   <li>{@code io}: {@link IoPath}, where every request enters, and its {@link io.jdmcache.engine.io.IoMode};</li>
 *   <li>{@code control}: {@link CacheLoader}, {@link StatusLine}, {@link TargetMessages}, {@link CleanShutdown}.</li>
 * </ul>
 *
 * <h2>I/O</h2>
 * Reads and writes at any offset and length are split at cache block boundaries; each piece runs under the
 * lock of its origin block ({@link BlockLocks}). The tail of the origin short of a whole block is never cached.
 *
 * <h2>Durability</h2>
 * A {@link #flush()} (and a FUA write) forces the origin and the cache devices, then commits the metadata,
 * as the kernel does; the metadata is also committed every commit period when it changed. Concurrent flushes
 * share commits. A committed mapping never points at cache data that was not forced first. A demoted cache
 * block is reused only after the commit that removed its mapping.
 *
 * <h2>Crash semantics</h2>
 * Dirty bits and hints are saved at {@link #close()}. In writeback every commit also carries the exact dirty
 * bits (see {@link DirtyTracker}), trusted after a crash; in the other modes, and for metadata without that
 * marker, every mapped block is loaded dirty after a crash, as the kernel does. No write acknowledged before a
 * completed flush is lost.
 */
public final class CacheDevice implements BlockDevice {
    /** The kernel's DM_CACHE_METADATA_BLOCK_SIZE in sectors. */
    public static final int METADATA_BLOCK_SECTORS = StatusLine.METADATA_BLOCK_SECTORS;
    public static final long DEFAULT_MIGRATION_THRESHOLD = MigrationWorkers.DEFAULT_THRESHOLD;

    private final CacheConfig config;
    private final CacheGeometry geometry;
    private final BlockDevice cacheDev;
    private final BlockDevice originDev;
    private final CacheMetadata md;
    private final CachePolicy policy;
    private final LoadedCache loaded;
    private final DiscardSet discards;
    private final EngineCounters counters;
    private final BackgroundFailures failures;
    private final Committer committer;
    private final Migrator migrator;
    private final MigrationWorkers workers;
    private final IoPath io;
    private final TargetMessages messages;
    private volatile boolean closed;

    private CacheDevice(CacheConfig config, EngineOptions options, LoadedCache c) {
        this.config = config;
        this.geometry = c.geometry();
        this.cacheDev = c.cacheDev();
        this.originDev = c.originDev();
        this.md = c.md();
        this.policy = c.policy();
        this.loaded = c;
        this.discards = c.discards();
        this.counters = new EngineCounters(c.storedStats());
        Activity activity = new Activity(options.idleNanos());
        BlockLocks locks = new BlockLocks();
        WorkCompletions completions = new WorkCompletions();
        this.failures = new BackgroundFailures(name(), counters);
        this.committer = new Committer(md, cacheDev, originDev, counters, name(),
                config.mode() == CacheMode.WRITEBACK ? DirtyTracker.loaded(c.policy(), geometry.cacheBlocks(),
                        options.backgroundThreads() ? DirtyTracker.WRITTEN_BACK_GRACE_NANOS : 0) : null);
        this.migrator = new Migrator(geometry, cacheDev, originDev, md, policy, locks, committer, counters,
                completions, failures);
        this.workers = new MigrationWorkers(options, geometry, policy, md, migrator, committer, failures, activity);
        this.io = new IoPath(geometry, config.mode(), config.discardPassdown(), policy, cacheDev, originDev, locks,
                completions, discards, counters, activity, migrator, workers, committer);
        this.messages = new TargetMessages(config.mode(), geometry.cacheBlocks(), md, policy, workers, migrator);
        workers.setThreshold(c.migrationThreshold());
    }

    /** How the metadata was found at open: after a clean stop or not, with exact dirty bits or not. */
    public StartState startState() {
        return loaded.startState();
    }

    /** Whether the committed dirty bits are exact across a crash (writeback). */
    public boolean exactDirty() {
        return committer.exactDirty();
    }

    /** Opens the three devices named by the table line (files or block devices) with the default options. */
    public static CacheDevice open(CacheConfig config) throws IOException {
        return open(config, EngineOptions.DEFAULTS);
    }

    public static CacheDevice open(CacheConfig config, EngineOptions options) throws IOException {
        BlockDevice[] d = CacheLoader.openDevices(config);
        return open(config, d[0], d[1], d[2], options);
    }

    /**
     * Opens a cache over the given devices (the paths in {@code config} are only names). An all-zero metadata
     * device is formatted. The devices are closed by {@link #close()}, and also if opening fails.
     */
    public static CacheDevice open(CacheConfig config, BlockDevice metadataDev, BlockDevice cacheDev,
                                   BlockDevice originDev, EngineOptions options) throws IOException {
        return CacheLoader.open(config, metadataDev, cacheDev, originDev, options, loaded -> {
            CacheDevice dev = new CacheDevice(config, options, loaded);
            dev.policy.allowMigrations(config.mode() != CacheMode.PASSTHROUGH);
            dev.committer.commit();
            dev.workers.start();
            return dev;
        });
    }

    @Override
    public long size() {
        return geometry.size();
    }

    public int cacheBlocks() {
        return geometry.cacheBlocks();
    }

    public long originBlocks() {
        return geometry.originBlocks();
    }

    public long blockBytes() {
        return geometry.blockBytes();
    }

    public CacheMode mode() {
        return config.mode();
    }

    public CacheConfig config() {
        return config;
    }

    /** The policy (read-only use: counts and footprint). */
    public CachePolicy policy() {
        return policy;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public String name() {
        return "cache(" + originDev.name() + ")";
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException(name() + ": the cache device is closed");
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkOpen();
        BlockDevice.checkRange(this, offset, dst.remaining(), geometry.size());
        io.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkOpen();
        if (md.mode() == MetadataMode.FAIL) {
            throw new IOException(name() + ": the metadata is in fail mode; writes are refused");
        }
        BlockDevice.checkRange(this, offset, src.remaining(), geometry.size());
        io.write(offset, src);
    }

    /** A write with FUA: durable (data and metadata) when it returns. */
    public void writeFua(long offset, ByteBuffer src) throws IOException {
        write(offset, src);
        flush();
    }

    /**
     * Discards a range: whole cache blocks in it are marked discarded (not promoted until written again), and
     * the range is passed down to the origin unless {@code no_discard_passdown}. Cached copies are kept, so
     * the range reads back as its old contents or as zeros, as the devices do.
     */
    @Override
    public void discard(long offset, long length) throws IOException {
        checkOpen();
        BlockDevice.checkRange(this, offset, length, geometry.size());
        io.discard(offset, length);
    }

    /** Writes zeros (as a write of zeros through the cache). */
    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkOpen();
        BlockDevice.checkRange(this, offset, length, geometry.size());
        io.writeZeroes(offset, length);
    }

    /** Makes every completed write durable: data devices forced, then the metadata committed. */
    @Override
    public void flush() throws IOException {
        checkOpen();
        io.flush();
    }

    /** Ticks the policy and commits if the metadata changed (what the timer does every commit period). */
    public void tick() throws IOException {
        workers.tick();
    }

    /**
     * Runs up to {@code max} background work items in the calling thread (for callers that run without
     * background threads); returns how many ran.
     */
    public int runBackgroundWork(int max) throws IOException {
        checkOpen();
        return workers.runBackgroundWork(max);
    }

    /** Whether an origin block is marked discarded (whole block discarded, not written since). */
    public boolean isDiscarded(long oblock) {
        return discards.isDiscarded(oblock);
    }

    /** Mapped plus reserved cache blocks. */
    public int residency() {
        return policy.residency();
    }

    public int dirtyBlocks() {
        return policy.dirtyCount();
    }

    /** The engine's counters now. */
    public Counters counters() {
        return counters.snapshot();
    }

    /**
     * Read and write misses counted on the calling thread so far: unchanged across a request made on this
     * thread means every block of it was a hit (request latency by outcome).
     */
    public long threadMisses() {
        return counters.threadMisses();
    }

    public long writebacks() {
        return counters.snapshot().writebacks();
    }

    /** Origin writes issued by write-backs (fewer than {@link #writebacks()} when adjacent ones were merged). */
    public long writebackWrites() {
        return counters.snapshot().writebackWrites();
    }

    public long promotions() {
        return counters.snapshot().promotions();
    }

    public long demotions() {
        return counters.snapshot().demotions();
    }

    public long commits() {
        return counters.snapshot().commits();
    }

    /** The most migration sectors that were ever in flight at once. */
    public long maxInFlightSectors() {
        return workers.maxInFlightSectors();
    }

    public long migrationThreshold() {
        return workers.threshold();
    }

    /**
     * The last failure of background work (a migration, a whole-block write's promotion, a periodic commit), or
     * null. Every one is also counted ({@link Counters#migrationErrors()}, {@link Counters#backgroundCommitErrors()})
     * and logged.
     */
    public IOException backgroundFailure() {
        return failures.last();
    }

    /** The metadata's mode. */
    public MetadataMode metadataMode() {
        return md.mode();
    }

    /** Read hits, read misses, write hits, write misses (including the counts stored in the metadata). */
    public CacheStats stats() {
        return counters.stats();
    }

    /** The metadata blocks in use and in all, needs_check and the mode, or null when the metadata cannot tell. */
    public StatusLine.MetadataFields metadataUsage() {
        return StatusLine.metadataFields(md);
    }

    /** The kernel's status line (see {@link StatusLine}), or {@code Fail} when the metadata is in fail mode. */
    public String status() {
        StatusLine.MetadataFields f = StatusLine.metadataFields(md);
        return f == null ? "Fail"
                : StatusLine.format(f, config, geometry.cacheBlocks(), policy, counters.snapshot(), workers.threshold());
    }

    /**
     * A target message: {@code migration_threshold <sectors>}, a policy tunable {@code <key> <value>}, or
     * {@code invalidate_cblocks <cblock>|<begin>-<end>...} (end exclusive; passthrough mode only).
     *
     * @throws ConfigException for a message the cache refuses, naming the argument at fault
     */
    public void message(String... argv) throws IOException {
        checkOpen();
        messages.handle(argv);
    }

    /**
     * Clean shutdown: stops the background threads, saves dirty bits, discards, hints and counters, and commits
     * with the clean-shutdown flag. Writes nothing back. When the metadata is not writable, the devices are just
     * closed (the next open sees an unclean shutdown).
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        workers.stop();
        IOException failure = null;
        try {
            committer.cleanCommit(() -> CleanShutdown.save(md, policy, loaded.policyInfo(), discards, geometry.cacheBlocks()));
        } catch (IOException e) {
            failure = e;
        }
        closeDevices(failure);
    }

    /** Stops the threads and closes the devices without a clean-shutdown commit (a simulated crash). */
    public void abandon() {
        closed = true;
        workers.stop();
        try {
            closeDevices(null);
        } catch (IOException ignored) {
            // a crash reports nothing
        }
    }

    /** Closes the three devices, all of them whatever fails; throws {@code failure} or else the first failure. */
    private void closeDevices(IOException failure) throws IOException {
        for (Closeable c : new Closeable[] {md, cacheDev, originDev}) {
            try {
                c.close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
