package io.jdmcache.engine;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.CacheStats;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.metadata.PolicyInfo;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;
import io.jdmcache.policy.LookupResult;
import io.jdmcache.policy.Policies;
import io.jdmcache.policy.PolicyConfigException;
import io.jdmcache.policy.PolicyException;
import io.jdmcache.policy.PolicyStateException;
import io.jdmcache.policy.PolicyVersion;
import io.jdmcache.policy.PolicyWork;
import io.jdmcache.policy.WorkOp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A dm-cache device in userspace (the counterpart of the kernel's {@code dm-cache-target.c}): a slow origin
 * made fast by a cache device, with the mapping kept in dm-cache metadata on a third device.
 *
 * <h2>I/O</h2>
 * Reads and writes at any offset and length are split at cache block boundaries; each piece runs under the
 * lock of its origin block (a striped read-write lock table over origin block numbers, the bio prison's
 * job): reads share it, writes and migrations hold it exclusively, so a migration never races a write to its
 * block. The tail of the origin that does not fill a whole cache block is never cached.
 *
 * <h2>Durability</h2>
 * A {@link #flush()} (and a FUA write) forces the origin and the cache devices, then commits the metadata,
 * as the kernel does; the metadata is also committed every second when it changed. Concurrent flushes share
 * commits. A commit excludes the migrations that are between their data copy and their metadata update, so a
 * committed mapping never points at cache data that was not forced first. A demoted cache block is reused only
 * after the commit that removed its mapping.
 *
 * <h2>Crash semantics</h2>
 * Dirty bits and hints are saved at {@link #close()}; after a crash every mapped block is loaded dirty and is
 * written back, so no write acknowledged before a completed flush is lost, in any mode.
 */
public final class CacheDevice implements BlockDevice {
    /** The kernel's DM_CACHE_METADATA_BLOCK_SIZE in sectors. */
    public static final int METADATA_BLOCK_SECTORS = 8;
    public static final long DEFAULT_MIGRATION_THRESHOLD = 2048;
    private static final int STRIPES = 4096;
    private static final int COPY_CHUNK = 1 << 20;
    /** The largest merged write-back. */
    private static final int MAX_MERGE_BYTES = 4 << 20;

    private final CacheConfig config;
    private final EngineOptions options;
    private final BlockDevice cacheDev;
    private final BlockDevice originDev;
    private final CacheMetadata md;
    private final CachePolicy policy;
    private final PolicyInfo policyInfo;
    private final long blockBytes;
    private final int cacheBlocks;
    private final long originBlocks;
    private final long size;
    private final CacheMode mode;

    /** One bit per origin block (the discard block size is the cache block size). */
    private final long[] discardBits;
    private final long[] discardBitsAtLoad;
    private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[STRIPES];
    /** Readers: migrations between their data copy and metadata update. Writer: a commit. */
    private final ReentrantReadWriteLock commitGate = new ReentrantReadWriteLock(true);
    private final Object commitMutex = new Object();
    private final AtomicLong commitRequests = new AtomicLong();
    private long commitsDone;

    private final CacheStats baseStats;
    private final LongAdder readHits = new LongAdder();
    private final LongAdder readMisses = new LongAdder();
    private final LongAdder writeHits = new LongAdder();
    private final LongAdder writeMisses = new LongAdder();
    private final LongAdder demotions = new LongAdder();
    private final LongAdder promotions = new LongAdder();
    private final LongAdder writebacks = new LongAdder();
    private final LongAdder writebackWrites = new LongAdder();
    private final LongAdder commits = new LongAdder();
    private final LongAdder migrationErrors = new LongAdder();

    private volatile long migrationThreshold = DEFAULT_MIGRATION_THRESHOLD;
    private final AtomicLong inFlightSectors = new AtomicLong();
    private final AtomicLong maxInFlightSectors = new AtomicLong();
    private volatile long lastIoNanos = System.nanoTime();
    /** One I/O at a time is tagged; its completion ticks the policy (the kernel's need_tick_bio). */
    private final java.util.concurrent.atomic.AtomicBoolean tickTagged = new java.util.concurrent.atomic.AtomicBoolean();
    private final Object workSignal = new Object();
    private volatile boolean workWaiting;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;
    private volatile boolean closed;
    private volatile IOException backgroundFailure;

    private CacheDevice(CacheConfig config, EngineOptions options, BlockDevice cacheDev, BlockDevice originDev,
                        CacheMetadata md, CachePolicy policy, long size, int cacheBlocks, long originBlocks,
                        long[] discardBits, CacheStats baseStats) {
        this.config = config;
        this.options = options;
        this.cacheDev = cacheDev;
        this.originDev = originDev;
        this.md = md;
        this.policy = policy;
        PolicyVersion v = policy.version();
        this.policyInfo = new PolicyInfo(policy.name(), v.major(), v.minor(), v.patch(), policy.hintSize());
        this.blockBytes = config.blockBytes();
        this.size = size;
        this.cacheBlocks = cacheBlocks;
        this.originBlocks = originBlocks;
        this.mode = config.mode();
        this.discardBits = discardBits;
        this.discardBitsAtLoad = discardBits.clone();
        this.baseStats = baseStats;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantReadWriteLock();
        }
    }

    // ================================================================== open

    /** Opens the three devices named by the table line (files or block devices) with the default options. */
    public static CacheDevice open(CacheConfig config) throws IOException {
        return open(config, EngineOptions.DEFAULTS);
    }

    public static CacheDevice open(CacheConfig config, EngineOptions options) throws IOException {
        List<BlockDevice> opened = new ArrayList<>();
        try {
            BlockDevice m = openFile(config.metadataDevice(), "metadata", opened);
            BlockDevice c = openFile(config.cacheDevice(), "cache", opened);
            BlockDevice o = openFile(config.originDevice(), "origin", opened);
            return open(config, m, c, o, options);
        } catch (IOException | RuntimeException e) {
            for (BlockDevice d : opened) {
                try {
                    d.close();
                } catch (IOException ignored) {
                    // the first failure is the one to report
                }
            }
            throw e;
        }
    }

    private static BlockDevice openFile(String path, String role, List<BlockDevice> opened) throws IOException {
        try {
            BlockDevice d = FileBlockDevice.open(Path.of(path), false);
            opened.add(d);
            return d;
        } catch (IOException e) {
            throw new IOException("Error opening " + role + " device " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens a cache over the given devices (the paths in {@code config} are only names). An all-zero metadata
     * device is formatted. The devices are closed by {@link #close()}, and also if opening fails.
     */
    public static CacheDevice open(CacheConfig config, BlockDevice metadataDev, BlockDevice cacheDev,
                                   BlockDevice originDev, EngineOptions options) throws IOException {
        CacheMetadata md = null;
        try {
            long bb = config.blockBytes();
            long originSize = originDev.size();
            long size = originSize;
            if (config.targetSectors() >= 0) {
                if (config.targetSectors() > originSize / 512) {
                    throw new ConfigException("Device size larger than cached device: the target has "
                            + config.targetSectors() + " sectors, origin " + originDev.name() + " has "
                            + originSize / 512);
                }
                size = config.targetSectors() * 512;
            }
            long cb = cacheDev.size() / bb;
            if (cb < 1) {
                throw new ConfigException("Cache device " + cacheDev.name() + " (" + cacheDev.size()
                        + " bytes) is smaller than one cache block (" + bb + " bytes)");
            }
            if (cb > Integer.MAX_VALUE - 1024) {
                throw new ConfigException("Cache device " + cacheDev.name() + " has too many cache blocks: " + cb);
            }
            int cacheBlocks = (int) cb;
            long originBlocks = size / bb;

            CachePolicy policy;
            try {
                policy = Policies.create(config.policy(), cacheBlocks, originBlocks, config.blockSectors(),
                        options.clock());
            } catch (PolicyException e) {
                throw new ConfigException("Error creating cache's policy: " + e.getMessage());
            }
            long threshold = DEFAULT_MIGRATION_THRESHOLD;
            for (int i = 0; i < config.policyArgs().size(); i += 2) {
                String k = config.policyArgs().get(i);
                String v = config.policyArgs().get(i + 1);
                if (k.equals("migration_threshold")) {
                    threshold = parseThreshold(v);
                } else {
                    try {
                        policy.setConfigValue(k, v);
                    } catch (PolicyException e) {
                        throw new ConfigException("Error setting cache policy's config values: " + e.getMessage());
                    }
                }
            }

            md = CacheMetadata.open(metadataDev, new MetadataOptions(config.blockSectors(),
                    config.metadataVersion(), true, false, true, MetadataOptions.DEFAULT_CACHE_BLOCKS));
            PolicyVersion v = policy.version();
            PolicyInfo pinfo = new PolicyInfo(policy.name(), v.major(), v.minor(), v.patch(), policy.hintSize());

            // mappings: load those that fit, remember those beyond a shrunk cache or origin
            long[][] dropped = {new long[16]};
            int[] nDropped = {0};
            String[] refusal = {null};
            final CachePolicy p = policy;
            md.loadMappings(pinfo, (o, c, dirty, hint, hintValid) -> {
                if (c >= cacheBlocks || o >= originBlocks) {
                    if (dirty && refusal[0] == null) {
                        refusal[0] = c >= cacheBlocks
                                ? "cannot shrink the cache to " + cacheBlocks + " blocks: cache block " + c
                                  + " (origin block " + o + ") is dirty"
                                : "the origin shrank to " + originBlocks + " blocks but cache block " + c
                                  + " holds dirty origin block " + o + " beyond its end";
                    }
                    if (nDropped[0] == dropped[0].length) {
                        dropped[0] = Arrays.copyOf(dropped[0], nDropped[0] * 2);
                    }
                    dropped[0][nDropped[0]++] = c;
                } else {
                    p.loadMapping(o, (int) c, dirty, (int) hint, hintValid);
                }
            });
            if (refusal[0] != null) {
                throw new ConfigException(refusal[0]);
            }
            if (config.mode() == CacheMode.PASSTHROUGH && policy.dirtyCount() > 0) {
                throw new ConfigException("unable to enter passthrough mode: the cache has " + policy.dirtyCount()
                        + " dirty blocks (clean it in writeback or writethrough mode, or with the cleaner policy)");
            }
            for (int i = 0; i < nDropped[0]; i++) {
                md.removeMapping(dropped[0][i]);
            }
            if (md.cacheBlocks() != cacheBlocks) {
                md.resize(cacheBlocks);
            }

            long[] discard = new long[(int) ((originBlocks + 63) >>> 6)];
            long storedDbs = md.discardBlockSize();
            long storedNr = md.discardNrBlocks();
            if (storedDbs == config.blockSectors()) {
                md.loadDiscards((dbs, d, on) -> {
                    if (on && d < originBlocks) {
                        discard[(int) (d >>> 6)] |= 1L << d;
                    }
                });
            }
            if (storedDbs != config.blockSectors() || storedNr != originBlocks) {
                md.resizeDiscards(config.blockSectors(), originBlocks);
                if (storedDbs != config.blockSectors()) {
                    Arrays.fill(discard, 0);
                }
            }
            CacheStats base = md.stats();

            CacheDevice dev = new CacheDevice(config, options, cacheDev, originDev, md, policy, size, cacheBlocks,
                    originBlocks, discard, base);
            if (storedDbs == config.blockSectors() && storedNr != originBlocks) {
                // the bits kept across an origin resize are not in the resized bitset yet
                Arrays.fill(dev.discardBitsAtLoad, 0);
            }
            dev.migrationThreshold = threshold;
            policy.allowMigrations(config.mode() != CacheMode.PASSTHROUGH);
            dev.commitNow();
            dev.startThreads();
            return dev;
        } catch (IOException | RuntimeException e) {
            if (md != null) {
                // refused before anything changed (a shrunk device, passthrough over dirty blocks): leave the
                // metadata as it was, clean-shutdown flag included, so fixing the table costs no write-backs
                CacheMetadata m = md;
                closeQuietly(m::closeUnused);
            } else {
                closeQuietly(metadataDev);
            }
            closeQuietly(cacheDev);
            closeQuietly(originDev);
            throw e;
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // reporting the original failure
        }
    }

    private static long parseThreshold(String v) {
        try {
            long t = Long.parseLong(v);
            if (t < 0) {
                throw new NumberFormatException();
            }
            return t;
        } catch (NumberFormatException e) {
            throw new ConfigException("Invalid migration_threshold '" + v + "': not a number of sectors");
        }
    }

    private void startThreads() {
        if (!options.backgroundThreads()) {
            return;
        }
        for (int i = 0; i < options.migrationWorkers(); i++) {
            Thread t = new Thread(this::workerLoop, "jdmcache-migration-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        Thread timer = new Thread(this::timerLoop, "jdmcache-commit");
        timer.setDaemon(true);
        threads.add(timer);
        threads.forEach(Thread::start);
    }

    // ================================================================== geometry

    @Override
    public long size() {
        return size;
    }

    public int cacheBlocks() {
        return cacheBlocks;
    }

    public long originBlocks() {
        return originBlocks;
    }

    public long blockBytes() {
        return blockBytes;
    }

    public CacheMode mode() {
        return mode;
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

    private ReentrantReadWriteLock stripe(long oblock) {
        return stripes[(int) (oblock & (STRIPES - 1))];
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException(name() + ": the cache device is closed");
        }
    }

    /** Notes foreground I/O for the idle test; the shared field is written at most about once a millisecond. */
    private void touch() {
        long now = System.nanoTime();
        if (now - lastIoNanos > 1_000_000L) {
            lastIoNanos = now;
        }
    }

    /** Tags this I/O for the policy tick if no other I/O is tagged (test before set: no contended CAS). */
    private boolean tagForTick() {
        return !tickTagged.get() && tickTagged.compareAndSet(false, true);
    }

    private boolean isDiscardedBit(long b) {
        return (discardBits[(int) (b >>> 6)] & (1L << b)) != 0;
    }

    // ================================================================== reads

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        checkOpen();
        BlockDevice.checkRange(this, offset, dst.remaining(), size);
        touch();
        boolean tagged = tagForTick();
        int limit = dst.limit();
        long pos = offset;
        try {
            long reqEnd = pos + dst.remaining();
            long first = pos / blockBytes;
            long last = (reqEnd - 1) / blockBytes;
            if (first == last || last >= originBlocks) {
                while (dst.position() < limit) {
                    long b = pos / blockBytes;
                    long in = pos - b * blockBytes;
                    int n = (int) Math.min(limit - dst.position(), blockBytes - in);
                    dst.limit(dst.position() + n);
                    readPiece(b, in, pos, dst);
                    dst.limit(limit);
                    pos += n;
                }
            } else {
                for (long b = first; b <= last; b += MAX_READ_RUN) {
                    long runLast = Math.min(last, b + MAX_READ_RUN - 1);
                    long end = Math.min(reqEnd, (runLast + 1) * blockBytes);
                    int n = (int) (end - pos);
                    dst.limit(dst.position() + n);
                    readRun(b, runLast, pos, dst);
                    dst.limit(limit);
                    pos += n;
                }
            }
        } finally {
            dst.limit(limit);
            if (tagged) {
                completeTagged();
            }
        }
    }

    private void completeTagged() {
        policy.tick(false);
        tickTagged.set(false);
    }

    /** The most blocks one read locks and looks up together (their stripes' read locks are held at once). */
    private static final int MAX_READ_RUN = 64;

    /**
     * Reads origin blocks {@code first..last} (all below the origin's end), the part of them from {@code pos}
     * to {@code dst}'s limit: the blocks' stripes are read-locked together in ascending stripe order (the
     * order every path that takes several stripes uses), each block is looked up once, and pieces that are
     * adjacent on the same device are read with one call, so a large read of cached blocks that sit next to
     * each other in the cache costs one read of the cache device, not one per block.
     */
    private void readRun(long first, long last, long pos, ByteBuffer dst) throws IOException {
        int count = (int) (last - first + 1);
        int[] order = new int[count];
        for (int k = 0; k < count; k++) {
            order[k] = (int) ((first + k) & (STRIPES - 1));
        }
        Arrays.sort(order);
        int locked = 0;
        try {
            for (int k = 0; k < count; k++) {
                if (k == 0 || order[k] != order[k - 1]) {
                    stripes[order[k]].readLock().lock();
                    order[locked++] = order[k];
                }
            }
            int limit = dst.limit();
            BlockDevice groupDev = null;
            long groupStart = 0;
            int groupLen = 0;
            long p = pos;
            for (long b = first; b <= last; b++) {
                long in = p - b * blockBytes;
                int n = (int) Math.min(limit - dst.position() - groupLen, blockBytes - in);
                int c;
                if (mode == CacheMode.PASSTHROUGH || isDiscardedBit(b)) {
                    c = policy.lookupMapping(b);
                } else {
                    c = policy.lookup(b, IoDirection.READ, false);
                }
                BlockDevice dev;
                long at;
                if (c >= 0) {
                    readHits.increment();
                    dev = mode == CacheMode.PASSTHROUGH ? originDev : cacheDev;
                    at = mode == CacheMode.PASSTHROUGH ? p : c * blockBytes + in;
                } else {
                    readMisses.increment();
                    if (c == CachePolicy.MISS_WORK_QUEUED) {
                        wakeWorkers();
                    }
                    dev = originDev;
                    at = p;
                }
                if (dev == groupDev && at == groupStart + groupLen) {
                    groupLen += n;
                } else {
                    if (groupLen > 0) {
                        dst.limit(dst.position() + groupLen);
                        groupDev.read(groupStart, dst);
                        dst.limit(limit);
                    }
                    groupDev = dev;
                    groupStart = at;
                    groupLen = n;
                }
                p += n;
            }
            if (groupLen > 0) {
                dst.limit(dst.position() + groupLen);
                groupDev.read(groupStart, dst);
                dst.limit(limit);
            }
        } finally {
            for (int k = locked - 1; k >= 0; k--) {
                stripes[order[k]].readLock().unlock();
            }
        }
    }

    private void readPiece(long b, long in, long pos, ByteBuffer dst) throws IOException {
        if (b >= originBlocks) {
            originDev.read(pos, dst);
            return;
        }
        ReentrantReadWriteLock.ReadLock l = stripe(b).readLock();
        l.lock();
        try {
            int c;
            if (mode == CacheMode.PASSTHROUGH || isDiscardedBit(b)) {
                c = policy.lookupMapping(b);
            } else {
                c = policy.lookup(b, IoDirection.READ, false);
            }
            if (c >= 0) {
                readHits.increment();
                if (mode == CacheMode.PASSTHROUGH) {
                    originDev.read(pos, dst);
                } else {
                    cacheDev.read(c * blockBytes + in, dst);
                }
            } else {
                readMisses.increment();
                if (c == CachePolicy.MISS_WORK_QUEUED) {
                    wakeWorkers();
                }
                originDev.read(pos, dst);
            }
        } finally {
            l.unlock();
        }
    }

    // ================================================================== writes

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkOpen();
        if (md.mode() == MetadataMode.FAIL) {
            throw new IOException(name() + ": the metadata is in fail mode; writes are refused");
        }
        BlockDevice.checkRange(this, offset, src.remaining(), size);
        touch();
        boolean tagged = tagForTick();
        int limit = src.limit();
        long pos = offset;
        try {
            while (src.position() < limit) {
                long b = pos / blockBytes;
                long in = pos - b * blockBytes;
                int n = (int) Math.min(limit - src.position(), blockBytes - in);
                src.limit(src.position() + n);
                writePiece(b, in, pos, src);
                src.limit(limit);
                pos += n;
            }
        } finally {
            src.limit(limit);
            if (tagged) {
                completeTagged();
            }
        }
    }

    /** A write with FUA: durable (data and metadata) when it returns. */
    public void writeFua(long offset, ByteBuffer src) throws IOException {
        write(offset, src);
        flush();
    }

    private void writePiece(long b, long in, long pos, ByteBuffer src) throws IOException {
        if (b >= originBlocks) {
            originDev.write(pos, src);
            return;
        }
        int spins = 0;
        for (;;) {
            ReentrantReadWriteLock.WriteLock l = stripe(b).writeLock();
            l.lock();
            try {
                if (tryWritePiece(b, in, pos, src)) {
                    return;
                }
            } finally {
                l.unlock();
            }
            // a demotion of this block was issued: let the worker take the lock and finish it
            if (++spins < 16) {
                Thread.yield();
            } else {
                LockSupport.parkNanos(50_000);
            }
        }
    }

    /** Returns false, having changed nothing, when a migration of the block is in flight. */
    private boolean tryWritePiece(long b, long in, long pos, ByteBuffer src) throws IOException {
        clearDiscard(b);
        switch (mode) {
            case PASSTHROUGH: {
                int c = policy.lookup(b, IoDirection.WRITE, false);
                if (c >= 0) {
                    try {
                        if (!policy.invalidateMapping(c)) {
                            return false;
                        }
                    } catch (PolicyStateException e) {
                        return false;
                    }
                    writeHits.increment();
                    commitGate.readLock().lock();
                    try {
                        md.removeMapping(c);
                    } finally {
                        commitGate.readLock().unlock();
                    }
                } else {
                    writeMisses.increment();
                }
                originDev.write(pos, src);
                return true;
            }
            case WRITETHROUGH: {
                int c = policy.lookup(b, IoDirection.WRITE, false);
                if (c >= 0) {
                    writeHits.increment();
                    if (policy.isDirty(c)) {
                        cacheDev.write(c * blockBytes + in, src);
                    } else {
                        ByteBuffer dup = src.duplicate();
                        cacheDev.write(c * blockBytes + in, src);
                        originDev.write(pos, dup);
                    }
                } else {
                    writeMisses.increment();
                    if (c == CachePolicy.MISS_WORK_QUEUED) {
                        wakeWorkers();
                    }
                    originDev.write(pos, src);
                }
                return true;
            }
            default: {
                boolean whole = in == 0 && src.remaining() == blockBytes;
                int c;
                if (whole) {
                    LookupResult r = policy.lookupWithWork(b, IoDirection.WRITE, true);
                    if (r instanceof LookupResult.Promote pr) {
                        writeMisses.increment();
                        promoteByOverwrite(pr.work(), pos, src);
                        return true;
                    }
                    if (r instanceof LookupResult.Hit h) {
                        c = h.cblock();
                    } else {
                        c = ((LookupResult.Miss) r).backgroundQueued() ? CachePolicy.MISS_WORK_QUEUED : CachePolicy.MISS;
                    }
                } else {
                    c = policy.lookup(b, IoDirection.WRITE, false);
                }
                if (c >= 0) {
                    if (!policy.isDirty(c)) {
                        try {
                            policy.setDirty(c);
                        } catch (PolicyStateException e) {
                            return false;
                        }
                    }
                    writeHits.increment();
                    cacheDev.write(c * blockBytes + in, src);
                } else {
                    writeMisses.increment();
                    if (c == CachePolicy.MISS_WORK_QUEUED) {
                        wakeWorkers();
                    }
                    originDev.write(pos, src);
                }
                return true;
            }
        }
    }

    /** A whole-block write promoted without a copy: the data goes to the cache block, which becomes dirty. */
    private void promoteByOverwrite(PolicyWork work, long pos, ByteBuffer src) throws IOException {
        int c = work.cblock();
        boolean ok = false;
        ByteBuffer dup = src.duplicate();
        commitGate.readLock().lock();
        try {
            cacheDev.write(c * blockBytes, src);
            md.insertMapping(c, work.oblock());
            ok = true;
        } catch (IOException e) {
            migrationErrors.increment();
        } finally {
            commitGate.readLock().unlock();
            policy.completeBackgroundWork(work, ok);
        }
        if (ok) {
            promotions.increment();
            policy.setDirty(c);
        } else {
            originDev.write(pos, dup);
            src.position(src.limit());
        }
    }

    // ================================================================== discards and zeroes

    /**
     * Discards a range: whole cache blocks in it are marked discarded (not promoted until written again), and
     * the range is passed down to the origin unless {@code no_discard_passdown}. Cached copies are kept, so
     * the range reads back as its old contents or as zeros, as the devices do.
     */
    @Override
    public void discard(long offset, long length) throws IOException {
        checkOpen();
        BlockDevice.checkRange(this, offset, length, size);
        touch();
        long first = (offset + blockBytes - 1) / blockBytes;
        long end = Math.min((offset + length) / blockBytes, originBlocks);
        for (long b = first; b < end; b++) {
            ReentrantReadWriteLock.WriteLock l = stripe(b).writeLock();
            l.lock();
            try {
                synchronized (discardBits) {
                    discardBits[(int) (b >>> 6)] |= 1L << b;
                }
            } finally {
                l.unlock();
            }
        }
        if (config.discardPassdown() && length > 0) {
            originDev.discard(offset, length);
        }
    }

    private void clearDiscard(long b) {
        if (isDiscardedBit(b)) {
            synchronized (discardBits) {
                discardBits[(int) (b >>> 6)] &= ~(1L << b);
            }
        }
    }

    /** Writes zeros (as a write of zeros through the cache). */
    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkOpen();
        BlockDevice.checkRange(this, offset, length, size);
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, Math.min(blockBytes, COPY_CHUNK)));
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            long pos = offset + done;
            long rest = blockBytes - pos % blockBytes;
            if (rest < n) {
                n = (int) rest;
            }
            zeros.clear().limit(n);
            write(pos, zeros);
            done += n;
        }
    }

    // ================================================================== flush and commit

    /** Makes every completed write durable: data devices forced, then the metadata committed. */
    @Override
    public void flush() throws IOException {
        checkOpen();
        commitNow();
    }

    /** Group commit: returns once a commit that started after this call has completed. */
    private void commitNow() throws IOException {
        long ticket = commitRequests.incrementAndGet();
        synchronized (commitMutex) {
            if (commitsDone >= ticket) {
                return;
            }
            long upTo = commitRequests.get();
            doCommit(false);
            commitsDone = upTo;
        }
    }

    private void doCommit(boolean clean) throws IOException {
        commitGate.writeLock().lock();
        try {
            originDev.flush();
            cacheDev.flush();
            MetadataMode m = md.mode();
            if (m != MetadataMode.READ_WRITE) {
                throw new IOException(name() + ": cannot commit: the metadata is " + m.status()
                        + (m == MetadataMode.FAIL ? "" : " (needs_check)"));
            }
            if (clean || md.changedThisTransaction()) {
                md.setStats(currentStats());
                md.commit(clean);
                commits.increment();
            }
        } finally {
            commitGate.writeLock().unlock();
        }
    }

    private CacheStats currentStats() {
        long mask = 0xffffffffL; // the superblock keeps 32-bit counters
        return new CacheStats((baseStats.readHits() + readHits.sum()) & mask,
                (baseStats.readMisses() + readMisses.sum()) & mask,
                (baseStats.writeHits() + writeHits.sum()) & mask,
                (baseStats.writeMisses() + writeMisses.sum()) & mask);
    }

    /** Ticks the policy and commits if the metadata changed (what the timer does every second). */
    public void tick() throws IOException {
        policy.tick(true);
        if (md.mode() == MetadataMode.READ_WRITE && md.changedThisTransaction()) {
            commitNow();
        }
    }

    private void timerLoop() {
        long period = options.commitPeriodNanos();
        while (!stopping) {
            LockSupport.parkNanos(this, period);
            if (stopping) {
                break;
            }
            try {
                tick();
            } catch (IOException | RuntimeException e) {
                backgroundFailure = e instanceof IOException io ? io : new IOException(e);
            }
        }
    }

    // ================================================================== background work

    private void wakeWorkers() {
        if (workWaiting) {
            synchronized (workSignal) {
                workSignal.notifyAll();
            }
        }
    }

    private boolean idle() {
        return System.nanoTime() - lastIoNanos >= options.idleNanos();
    }

    /**
     * Takes one block's worth of the migration budget: allowed while the sectors in flight stay within
     * {@code migration_threshold}, and always for the first migration when the threshold is below one block
     * (so large blocks never stall migration, the kernel's weakness); a threshold of 0 stops migrations.
     */
    private boolean acquireBudget() {
        long need = config.blockSectors();
        long threshold = migrationThreshold;
        if (threshold == 0) {
            return false;
        }
        for (;;) {
            long cur = inFlightSectors.get();
            if (cur != 0 && cur + need > threshold) {
                return false;
            }
            if (inFlightSectors.compareAndSet(cur, cur + need)) {
                maxInFlightSectors.accumulateAndGet(cur + need, Math::max);
                return true;
            }
        }
    }

    private void releaseBudget() {
        inFlightSectors.addAndGet(-config.blockSectors());
    }

    private void workerLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect((int) Math.min(blockBytes, COPY_CHUNK));
        while (!stopping) {
            boolean did = false;
            if (md.mode() == MetadataMode.READ_WRITE && acquireBudget()) {
                try {
                    did = doWorkBatch(buf);
                } catch (IOException | RuntimeException e) {
                    backgroundFailure = e instanceof IOException io ? io : new IOException(e);
                    migrationErrors.increment();
                } finally {
                    releaseBudget();
                }
            }
            if (!did && !stopping) {
                synchronized (workSignal) {
                    workWaiting = true;
                    try {
                        workSignal.wait(5);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } finally {
                        workWaiting = false;
                    }
                }
            }
        }
    }

    /**
     * Runs up to {@code max} background work items in the calling thread (for callers that run without
     * background threads); returns how many ran.
     */
    public int runBackgroundWork(int max) throws IOException {
        checkOpen();
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(blockBytes, COPY_CHUNK));
        int n = 0;
        while (n < max && md.mode() == MetadataMode.READ_WRITE && doOneWork(buf)) {
            n++;
        }
        return n;
    }

    private boolean doOneWork(ByteBuffer buf) throws IOException {
        Optional<PolicyWork> ow = policy.getBackgroundWork(idle());
        if (ow.isEmpty()) {
            return false;
        }
        perform(ow.get(), buf);
        return true;
    }

    private void perform(PolicyWork w, ByteBuffer buf) throws IOException {
        switch (w.op()) {
            case PROMOTE -> promote(w, buf);
            case DEMOTE -> demote(w);
            case WRITEBACK -> writeback(w, buf);
            default -> throw new IllegalStateException("unknown work " + w);
        }
    }

    /**
     * A worker's step, holding one block of budget: one work item, or, when it is a write-back, as many further
     * write-backs as the budget allows (up to {@value #MAX_MERGE_BYTES} bytes), so that write-backs of adjacent
     * origin blocks go to the origin as one write.
     */
    private boolean doWorkBatch(ByteBuffer buf) throws IOException {
        Optional<PolicyWork> ow = policy.getBackgroundWork(idle());
        if (ow.isEmpty()) {
            return false;
        }
        PolicyWork first = ow.get();
        int maxItems = (int) Math.min(64, MAX_MERGE_BYTES / blockBytes);
        if (first.op() != WorkOp.WRITEBACK || maxItems < 2) {
            perform(first, buf);
            return true;
        }
        List<PolicyWork> batch = new ArrayList<>();
        batch.add(first);
        PolicyWork other = null;
        int extra = 0;
        try {
            while (batch.size() < maxItems && acquireBudget()) {
                extra++;
                Optional<PolicyWork> nx = policy.getBackgroundWork(idle());
                if (nx.isEmpty()) {
                    break;
                }
                if (nx.get().op() != WorkOp.WRITEBACK) {
                    other = nx.get();
                    break;
                }
                batch.add(nx.get());
            }
            writebackBatch(batch);
            if (other != null) {
                PolicyWork o = other;
                other = null;
                perform(o, buf);
            }
        } finally {
            if (other != null) {
                policy.completeBackgroundWork(other, false);
            }
            for (int i = 0; i < extra; i++) {
                releaseBudget();
            }
        }
        return true;
    }

    /** Write-backs sorted by origin block; each run of adjacent origin blocks is one origin write. */
    private void writebackBatch(List<PolicyWork> batch) throws IOException {
        batch.sort(java.util.Comparator.comparingLong(PolicyWork::oblock));
        IOException failure = null;
        int i = 0;
        while (i < batch.size()) {
            int j = i + 1;
            while (j < batch.size() && batch.get(j).oblock() == batch.get(j - 1).oblock() + 1) {
                j++;
            }
            try {
                writebackRun(batch.subList(i, j));
            } catch (IOException e) {
                failure = e;
            }
            i = j;
        }
        if (failure != null) {
            throw failure;
        }
    }

    private final ThreadLocal<ByteBuffer> mergeBuffer =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MAX_MERGE_BYTES));

    private void writebackRun(List<PolicyWork> run) throws IOException {
        int[] stripeIdx = new int[run.size()];
        for (int k = 0; k < run.size(); k++) {
            stripeIdx[k] = (int) (run.get(k).oblock() & (STRIPES - 1));
        }
        stripeIdx = Arrays.stream(stripeIdx).sorted().distinct().toArray();
        for (int st : stripeIdx) {
            stripes[st].writeLock().lock();
        }
        boolean ok = false;
        try {
            int bytes = (int) (run.size() * blockBytes);
            ByteBuffer big = mergeBuffer.get();
            if (big.capacity() < bytes) {
                big = ByteBuffer.allocateDirect(bytes);
            }
            big.clear();
            for (int k = 0; k < run.size(); k++) {
                big.limit((int) ((k + 1) * blockBytes));
                cacheDev.read(run.get(k).cblock() * blockBytes, big);
            }
            big.flip();
            originDev.write(run.get(0).oblock() * blockBytes, big);
            writebackWrites.increment();
            writebacks.add(run.size()); // counted before the blocks turn clean, so a clean cache shows them all
            for (PolicyWork w : run) {
                policy.clearDirty(w.cblock());
            }
            ok = true;
        } finally {
            for (PolicyWork w : run) {
                policy.completeBackgroundWork(w, ok);
            }
            for (int k = stripeIdx.length - 1; k >= 0; k--) {
                stripes[stripeIdx[k]].writeLock().unlock();
            }
        }
    }

    private void copy(BlockDevice from, long fromOff, BlockDevice to, long toOff, ByteBuffer buf) throws IOException {
        long done = 0;
        while (done < blockBytes) {
            int n = (int) Math.min(buf.capacity(), blockBytes - done);
            buf.clear().limit(n);
            from.read(fromOff + done, buf);
            buf.flip();
            to.write(toOff + done, buf);
            done += n;
        }
    }

    private void promote(PolicyWork w, ByteBuffer buf) throws IOException {
        ReentrantReadWriteLock.WriteLock l = stripe(w.oblock()).writeLock();
        l.lock();
        boolean ok = false;
        try {
            commitGate.readLock().lock();
            try {
                copy(originDev, w.oblock() * blockBytes, cacheDev, w.cblock() * blockBytes, buf);
                md.insertMapping(w.cblock(), w.oblock());
                ok = true;
            } finally {
                commitGate.readLock().unlock();
            }
        } finally {
            policy.completeBackgroundWork(w, ok);
            l.unlock();
        }
        promotions.increment();
    }

    private void demote(PolicyWork w) throws IOException {
        ReentrantReadWriteLock.WriteLock l = stripe(w.oblock()).writeLock();
        boolean ok = false;
        try {
            l.lock();
            try {
                commitGate.readLock().lock();
                try {
                    md.removeMapping(w.cblock());
                } finally {
                    commitGate.readLock().unlock();
                }
            } finally {
                l.unlock();
            }
            // the cache block may be reused only once its mapping's removal is durable
            commitNow();
            ok = true;
        } finally {
            policy.completeBackgroundWork(w, ok);
        }
        demotions.increment();
    }

    private void writeback(PolicyWork w, ByteBuffer buf) throws IOException {
        ReentrantReadWriteLock.WriteLock l = stripe(w.oblock()).writeLock();
        l.lock();
        boolean ok = false;
        try {
            copy(cacheDev, w.cblock() * blockBytes, originDev, w.oblock() * blockBytes, buf);
            writebackWrites.increment();
            writebacks.increment();
            policy.clearDirty(w.cblock());
            ok = true;
        } finally {
            policy.completeBackgroundWork(w, ok);
            l.unlock();
        }
    }

    // ================================================================== status and messages

    /** Whether an origin block is marked discarded (whole block discarded, not written since). */
    public boolean isDiscarded(long oblock) {
        return oblock >= 0 && oblock < originBlocks && isDiscardedBit(oblock);
    }

    /** Mapped plus reserved cache blocks. */
    public int residency() {
        return policy.residency();
    }

    public int dirtyBlocks() {
        return policy.dirtyCount();
    }

    public long writebacks() {
        return writebacks.sum();
    }

    /** Origin writes issued by write-backs (fewer than {@link #writebacks()} when adjacent ones were merged). */
    public long writebackWrites() {
        return writebackWrites.sum();
    }

    public long promotions() {
        return promotions.sum();
    }

    public long demotions() {
        return demotions.sum();
    }

    public long commits() {
        return commits.sum();
    }

    /** The most migration sectors that were ever in flight at once. */
    public long maxInFlightSectors() {
        return maxInFlightSectors.get();
    }

    public long migrationThreshold() {
        return migrationThreshold;
    }

    /** The last failure of a background thread (a migration or a periodic commit), or null. */
    public IOException backgroundFailure() {
        return backgroundFailure;
    }

    /** The metadata's mode. */
    public MetadataMode metadataMode() {
        return md.mode();
    }

    /** Read hits, read misses, write hits, write misses (including the counts stored in the metadata). */
    public CacheStats stats() {
        return currentStats();
    }

    /**
     * The kernel's status line: {@code <metadata block size> <used>/<total metadata blocks> <cache block size>
     * <used>/<total cache blocks> <read hits> <read misses> <write hits> <write misses> <demotions>
     * <promotions> <dirty> <#features> <features>* <#core args> <core args>* <policy> <#policy args>
     * <policy args>* <rw|ro> <needs_check|->}, or {@code Fail} when the metadata is in fail mode.
     */
    /** The metadata blocks in use and in all, and the needs_check flag. */
    public record MetadataUsage(long usedBlocks, long totalBlocks, boolean needsCheck) {
    }

    /** The metadata's use, or null when the metadata cannot tell (fail mode, or a read error). */
    public MetadataUsage metadataUsage() {
        if (md.mode() == MetadataMode.FAIL) {
            return null;
        }
        try {
            long total = md.totalMetadataBlocks();
            return new MetadataUsage(total - md.freeMetadataBlocks(), total, md.needsCheck());
        } catch (IOException e) {
            return null;
        }
    }

    public String status() {
        MetadataUsage u = metadataUsage();
        if (u == null) {
            return "Fail";
        }
        StringBuilder s = new StringBuilder();
        CacheStats st = currentStats();
        s.append(METADATA_BLOCK_SECTORS).append(' ').append(u.usedBlocks()).append('/').append(u.totalBlocks())
                .append(' ')
                .append(config.blockSectors()).append(' ').append(policy.residency()).append('/').append(cacheBlocks)
                .append(' ').append(st.readHits()).append(' ').append(st.readMisses())
                .append(' ').append(st.writeHits()).append(' ').append(st.writeMisses())
                .append(' ').append(demotions.sum()).append(' ').append(promotions.sum())
                .append(' ').append(policy.dirtyCount()).append(' ');
        List<String> f = config.features();
        s.append(f.size());
        for (String w : f) {
            s.append(' ').append(w);
        }
        s.append(" 2 migration_threshold ").append(migrationThreshold);
        s.append(' ').append(policy.name()).append(' ').append(policy.emitConfigValues().statusText());
        s.append(' ').append(md.mode() == MetadataMode.READ_WRITE ? "rw" : "ro");
        s.append(' ').append(u.needsCheck() ? "needs_check" : "-");
        return s.toString();
    }

    /**
     * A target message: {@code migration_threshold <sectors>}, a policy tunable {@code <key> <value>}, or
     * {@code invalidate_cblocks <cblock>|<begin>-<end>...} (end exclusive; passthrough mode only).
     *
     * @throws ConfigException for a message the cache refuses, naming the argument at fault
     */
    public void message(String... argv) throws IOException {
        checkOpen();
        if (argv.length == 0) {
            throw new ConfigException("Invalid message: empty");
        }
        if (md.mode() != MetadataMode.READ_WRITE) {
            throw new ConfigException("unable to service cache target messages in " + md.mode().status()
                    + " mode");
        }
        if (argv[0].equals("invalidate_cblocks")) {
            invalidateCblocks(Arrays.copyOfRange(argv, 1, argv.length));
            return;
        }
        if (argv.length != 2) {
            throw new ConfigException("Invalid message '" + String.join(" ", argv) + "': expected <key> <value>"
                    + " or invalidate_cblocks <ranges>");
        }
        if (argv[0].equals("migration_threshold")) {
            migrationThreshold = parseThreshold(argv[1]);
            wakeWorkers();
            return;
        }
        try {
            policy.setConfigValue(argv[0], argv[1]);
        } catch (PolicyConfigException e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private void invalidateCblocks(String[] ranges) throws IOException {
        if (mode != CacheMode.PASSTHROUGH) {
            throw new ConfigException("invalidate_cblocks: the cache has to be in passthrough mode for invalidation"
                    + " (it is in " + mode.word() + " mode)");
        }
        if (ranges.length == 0) {
            throw new ConfigException("invalidate_cblocks: no cache block ranges given");
        }
        long[][] parsed = new long[ranges.length][];
        for (int i = 0; i < ranges.length; i++) {
            parsed[i] = parseRange(ranges[i]);
        }
        for (long[] r : parsed) {
            for (long c = r[0]; c < r[1]; c++) {
                invalidateOne((int) c);
            }
        }
    }

    private long[] parseRange(String r) {
        long b;
        long e;
        try {
            int dash = r.indexOf('-');
            if (dash < 0) {
                b = Long.parseLong(r);
                e = b + 1;
            } else {
                b = Long.parseLong(r.substring(0, dash));
                e = Long.parseLong(r.substring(dash + 1));
            }
        } catch (NumberFormatException x) {
            throw new ConfigException("invalidate_cblocks: invalid cblock range '" + r + "'");
        }
        if (b < 0 || e <= b) {
            throw new ConfigException("invalidate_cblocks: invalid cblock range '" + r + "' (begin must be below end)");
        }
        if (b >= cacheBlocks) {
            throw new ConfigException("invalidate_cblocks: begin cblock out of range: " + b + " >= " + cacheBlocks);
        }
        if (e > cacheBlocks) {
            throw new ConfigException("invalidate_cblocks: end cblock out of range: " + e + " > " + cacheBlocks);
        }
        return new long[] {b, e};
    }

    private void invalidateOne(int c) throws IOException {
        for (;;) {
            long o = policy.oblockOf(c);
            if (o < 0) {
                return;
            }
            ReentrantReadWriteLock.WriteLock l = stripe(o).writeLock();
            l.lock();
            try {
                if (policy.oblockOf(c) != o) {
                    continue;
                }
                try {
                    if (!policy.invalidateMapping(c)) {
                        return;
                    }
                } catch (PolicyStateException busy) {
                    continue;
                }
                commitGate.readLock().lock();
                try {
                    md.removeMapping(c);
                } finally {
                    commitGate.readLock().unlock();
                }
                return;
            } finally {
                l.unlock();
            }
        }
    }

    // ================================================================== close

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
        stopThreads();
        IOException failure = null;
        try {
            synchronized (commitMutex) {
                if (md.mode() == MetadataMode.READ_WRITE) {
                    saveForCleanShutdown();
                    doCommit(true);
                }
            }
        } catch (IOException e) {
            failure = e;
        } finally {
            for (java.io.Closeable c : new java.io.Closeable[] {md, cacheDev, originDev}) {
                try {
                    c.close();
                } catch (IOException e) {
                    if (failure == null) {
                        failure = e;
                    }
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** Stops the threads and closes the devices without a clean-shutdown commit (a simulated crash). */
    public void abandon() {
        closed = true;
        stopThreads();
        closeQuietly(md);
        closeQuietly(cacheDev);
        closeQuietly(originDev);
    }

    private void stopThreads() {
        stopping = true;
        synchronized (workSignal) {
            workSignal.notifyAll();
        }
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
    }

    private void saveForCleanShutdown() throws IOException {
        long[] words = new long[(cacheBlocks + 63) >>> 6];
        policy.forEachMapping((c, o, dirty, hint) -> {
            if (dirty) {
                words[c >>> 6] |= 1L << c;
            }
        });
        md.setDirtyBits(words, cacheBlocks);
        for (int i = 0; i < discardBits.length; i++) {
            long diff = discardBits[i] ^ discardBitsAtLoad[i];
            while (diff != 0) {
                int bit = Long.numberOfTrailingZeros(diff);
                diff &= diff - 1;
                long d = ((long) i << 6) + bit;
                md.setDiscard(d, (discardBits[i] & (1L << bit)) != 0);
            }
        }
        md.writeHints(policyInfo, c -> policy.getHint((int) c) & 0xffffffffL);
    }
}
