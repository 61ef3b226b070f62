package io.jdmcache.policy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.Optional;

/**
 * The stochastic multiqueue policy (the kernel's smq, version 2.0.0), also acting as {@code mq} and
 * {@code cleaner} (see {@link PolicyType}).
 *
 * <p>Parts: {@link CacheEntries} (per-block state and the mapping table), {@link CacheQueues} (clean and
 * dirty multiqueues with their ageing sentinels), {@link Hotspot} (the promotion filter) and
 * {@link BackgroundTracker} (work in flight). This class holds the decisions: when to promote, demote and
 * write back, and what completing work does.
 *
 * <p>Decisions, as the kernel's mainline smq makes them:
 * <ul>
 *   <li>Hits lift a block one level (once per cache period). Misses heat the block's hotspot region; the
 *       miss is promoted if the region's level is at least the promote level: 48, 32 or 0 of 64 when the
 *       hotspot queue's confidence is poor, fair or good (re-assessed every tick; nothing is promoted before
 *       the first tick). A write that covers the whole block ({@code fastCopy}) is promoted whenever a block
 *       is free.</li>
 *   <li>A promotion needs a free cache block. With none free, the would-be promotion instead queues the
 *       demotion of the oldest clean block in the lower half of the levels, until free plus queued demotions
 *       reach 25% of the cache; if no clean block qualifies and dirty blocks exist, it queues a write-back.
 *       Newly promoted blocks enter at the top level.</li>
 *   <li>Write-back (in {@link #getBackgroundWork}): when idle, or for the cleaner, until nothing is dirty;
 *       when busy, while fewer than 25% of the cache blocks are clean (counting write-backs in flight), and
 *       then only blocks untouched for a write-back period. Mainline smq never writes back when busy except
 *       to make room for a demotion; the 25% floor is ours, so a write-heavy busy cache cannot fill with
 *       dirty blocks.</li>
 * </ul>
 *
 * <p>Thread-safe: every public method runs under one private monitor, held for a bounded, non-blocking,
 * allocation-free body (except the work records handed out) - but for the commonest calls of all, which take
 * no lock: a lookup that hits a block already hit this cache period (it would change nothing but the hash
 * chain's order), and marking dirty a block that is dirty already. Those read the mapping and the flags under
 * a seqlock that every method changing them holds odd, and fall back to the monitor when it moved.
 */
final class SmqPolicy implements CachePolicy {
    /** The largest cache this implementation accepts (state is int-indexed). */
    static final int MAX_CACHE_BLOCKS = 1 << 30;
    /** Background work items in flight at most (the kernel's hard-coded 4096). */
    static final int MAX_BACKGROUND_WORK = 4096;

    private static final int FREE_TARGET_PERCENT = 25;
    private static final int CLEAN_TARGET_PERCENT = 25;
    private static final long SECOND = 1_000_000_000L;
    private static final long WRITEBACK_PERIOD = 10 * SECOND;
    private static final long DEMOTE_PERIOD = 60 * SECOND;
    private static final long HOTSPOT_PERIOD = SECOND;
    private static final long CACHE_PERIOD = 60 * SECOND;
    private static final int TOP_LEVEL = CacheQueues.NR_LEVELS - 1;
    private static final int PROMOTE_ISSUED = -3;
    private static final ConfigValues NO_TUNABLES = new ConfigValues(java.util.List.of());

    private final Object lock = new Object();
    /**
     * The seqlock over the state a lock-free hit reads (the mapping table, the entries' flags): odd while a
     * method that may change it runs under {@link #lock}, bumped to the next even value when it ends.
     */
    @SuppressWarnings("unused") // accessed through SEQ
    private volatile long seq;
    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(SmqPolicy.class, "seq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }
    private final PolicyType type;
    private final int nrBlocks;
    private final long originBlocks;
    private final PolicyClock clock;
    private final Links links;
    private final CacheEntries entries;
    private final CacheQueues queues;
    private final Hotspot hotspot;
    private final BackgroundTracker tracker;

    private boolean migrationsAllowed;
    private int promoteLevel = Hotspot.NR_LEVELS;
    private int issuedSlot = BackgroundTracker.NONE;
    private long nextWritebackPeriod;
    private long nextDemotePeriod;
    private long nextHotspotPeriod;
    private long nextCachePeriod;
    /**
     * Read by {@link #tick} without the lock: whether a tick has anything to do besides what falls due at
     * {@link #nextDue} (a miss heated the hotspot since the last tick, or a new hotspot period began).
     */
    private volatile boolean tickNeeded = true;
    private volatile long nextDue;

    SmqPolicy(PolicyType type, int cacheBlocks, long originBlocks, PolicyClock clock) {
        if (cacheBlocks < 0 || cacheBlocks > MAX_CACHE_BLOCKS) {
            throw new IllegalArgumentException("cache blocks must be in [0, " + MAX_CACHE_BLOCKS + "]: " + cacheBlocks);
        }
        if (originBlocks < 0) {
            throw new IllegalArgumentException("negative origin blocks: " + originBlocks);
        }
        this.type = Objects.requireNonNull(type, "type");
        this.nrBlocks = cacheBlocks;
        this.originBlocks = originBlocks;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.links = new Links(cacheBlocks, CacheQueues.NR_SENTINELS);
        this.entries = new CacheEntries(links, cacheBlocks, originBlocks);
        this.queues = new CacheQueues(links, entries, cacheBlocks);
        this.hotspot = new Hotspot(cacheBlocks, originBlocks);
        this.tracker = new BackgroundTracker(MAX_BACKGROUND_WORK);
        this.migrationsAllowed = type.mayMigrate();
        long now = clock.nanoTime();
        this.nextWritebackPeriod = now + WRITEBACK_PERIOD;
        this.nextDemotePeriod = now + DEMOTE_PERIOD;
        this.nextHotspotPeriod = now;
        this.nextCachePeriod = now;
        this.nextDue = now;
    }

    @Override
    public String name() {
        return type.storedName();
    }

    @Override
    public PolicyVersion version() {
        return PolicyType.VERSION;
    }

    @Override
    public int hintSize() {
        return PolicyType.HINT_SIZE;
    }

    @Override
    public int cacheBlocks() {
        return nrBlocks;
    }

    // ---------------------------------------------------------------- the seqlock

    /** Under {@link #lock}, before changing what a lock-free hit reads. */
    private void writeBegin() {
        SEQ.setOpaque(this, (long) SEQ.getOpaque(this) + 1);
        VarHandle.storeStoreFence(); // the changes below are not seen before the odd count
    }

    /** Under {@link #lock}, once the changes are made. */
    private void writeEnd() {
        SEQ.setRelease(this, (long) SEQ.getOpaque(this) + 1);
    }

    /**
     * A hit without the lock: the cache block of {@code oblock} when it is mapped, has no work in flight and
     * was hit already this cache period (so the locked lookup would change nothing but the hash chain's order),
     * read under the seqlock; {@link Links#NULL} when that does not hold or a change raced the read.
     */
    private int repeatHit(long oblock) {
        long s = (long) SEQ.getAcquire(this);
        if ((s & 1) != 0) {
            return Links.NULL;
        }
        int c = entries.findRepeatHit(oblock);
        VarHandle.loadLoadFence();
        return (long) SEQ.getOpaque(this) == s ? c : Links.NULL;
    }

    // ---------------------------------------------------------------- lookups

    @Override
    public int lookup(long oblock, IoDirection dir, boolean fastCopy) {
        checkOblock(oblock);
        Objects.requireNonNull(dir, "dir");
        int hit = repeatHit(oblock);
        if (hit != Links.NULL) {
            return hit;
        }
        synchronized (lock) {
            writeBegin();
            try {
                return lookupLocked(oblock, dir, fastCopy, false);
            } finally {
                writeEnd();
            }
        }
    }

    @Override
    public LookupResult lookupWithWork(long oblock, IoDirection dir, boolean fastCopy) {
        checkOblock(oblock);
        Objects.requireNonNull(dir, "dir");
        int hit = repeatHit(oblock);
        if (hit != Links.NULL) {
            return new LookupResult.Hit(hit);
        }
        synchronized (lock) {
            writeBegin();
            try {
                int r = lookupLocked(oblock, dir, fastCopy, true);
                if (r >= 0) {
                    return new LookupResult.Hit(r);
                }
                if (r == PROMOTE_ISSUED) {
                    return new LookupResult.Promote(tracker.work(issuedSlot));
                }
                return r == MISS_WORK_QUEUED ? LookupResult.MISS_WORK_QUEUED : LookupResult.MISS;
            } finally {
                writeEnd();
            }
        }
    }

    private int lookupLocked(long oblock, IoDirection dir, boolean fastCopy, boolean issueNow) {
        int c = entries.lookup(oblock);
        if (c != Links.NULL) {
            if (!entries.has(c, CacheEntries.PENDING)) {
                queues.hit(c, entries.has(c, CacheEntries.DIRTY));
            }
            return c;
        }
        int level = hotspot.miss(oblock);
        if (!tickNeeded) {
            tickNeeded = true;
        }
        boolean promote = dir == IoDirection.WRITE && fastCopy && entries.freeCount() > 0
                || level >= promoteLevel;
        return promote ? queuePromotion(oblock, issueNow) : MISS;
    }

    // ---------------------------------------------------------------- queueing background work

    private int queuePromotion(long oblock, boolean issueNow) {
        if (!migrationsAllowed) {
            return MISS;
        }
        if (entries.freeCount() == 0) {
            return !freeTargetMet() && queueDemotion() ? MISS_WORK_QUEUED : MISS;
        }
        if (tracker.isFull() || tracker.contains(oblock)) {
            return MISS;
        }
        int c = entries.allocate();
        entries.set(c, CacheEntries.PENDING);
        int slot = tracker.add(WorkOp.PROMOTE, oblock, c, issueNow);
        if (issueNow) {
            issuedSlot = slot;
            return PROMOTE_ISSUED;
        }
        return MISS_WORK_QUEUED;
    }

    private boolean queueDemotion() {
        int c = queues.peekDemotion();
        if (c == Links.NULL) {
            return !cleanTargetMet(true) && queueWriteback(false);
        }
        return queue(WorkOp.DEMOTE, c, false);
    }

    private boolean queueWriteback(boolean anyAge) {
        int c = queues.peekWriteback(anyAge);
        return c != Links.NULL && queue(WorkOp.WRITEBACK, c, true);
    }

    private boolean queue(WorkOp op, int c, boolean isDirty) {
        if (tracker.isFull()) {
            return false;
        }
        if (tracker.add(op, entries.oblock(c), c, false) == BackgroundTracker.NONE) {
            return false;
        }
        queues.remove(c, isDirty);
        entries.set(c, CacheEntries.PENDING);
        return true;
    }

    private long percentOfCache(int percent) {
        return (long) nrBlocks * percent / 100;
    }

    private boolean freeTargetMet() {
        return entries.freeCount() + (long) tracker.pending(WorkOp.DEMOTE) >= percentOfCache(FREE_TARGET_PERCENT);
    }

    private boolean cleanTargetMet(boolean idle) {
        if (idle || type.isCleaner()) {
            return queues.dirtyQueued() == 0;
        }
        long clean = (long) nrBlocks - entries.dirtyCount() + tracker.pending(WorkOp.WRITEBACK);
        return clean >= percentOfCache(CLEAN_TARGET_PERCENT);
    }

    @Override
    public Optional<PolicyWork> getBackgroundWork(boolean idle) {
        synchronized (lock) {
            writeBegin();
            try {
                int slot = tracker.issue();
                if (slot == BackgroundTracker.NONE && !cleanTargetMet(idle) && queueWriteback(idle)) {
                    slot = tracker.issue();
                }
                return slot == BackgroundTracker.NONE ? Optional.empty() : Optional.of(tracker.work(slot));
            } finally {
                writeEnd();
            }
        }
    }

    @Override
    public void completeBackgroundWork(PolicyWork work, boolean success) {
        Objects.requireNonNull(work, "work");
        synchronized (lock) {
            writeBegin();
            try {
                int slot = tracker.findIssued(work);
                if (slot == BackgroundTracker.NONE) {
                    throw PolicyStateException.originBlock(work.oblock(), "no such background work in flight: " + work);
                }
                int c = work.cblock();
                switch (work.op()) {
                    case PROMOTE -> completePromotion(c, work.oblock(), success);
                    case DEMOTE -> completeDemotion(c, success);
                    case WRITEBACK -> requeueAfterWork(c);
                }
                tracker.complete(slot);
            } finally {
                writeEnd();
            }
        }
    }

    private void completePromotion(int c, long oblock, boolean success) {
        if (!success) {
            entries.release(c);
            return;
        }
        entries.clear(c, CacheEntries.PENDING);
        links.level[c] = (byte) TOP_LEVEL;
        entries.map(c, oblock);
        queues.forgetHit(c);
        queues.push(c, false);
    }

    private void completeDemotion(int c, boolean success) {
        if (!success) {
            requeueAfterWork(c);
            return;
        }
        entries.unmap(c);
        queues.forgetHit(c);
        entries.release(c);
    }

    private void requeueAfterWork(int c) {
        entries.clear(c, CacheEntries.PENDING);
        queues.push(c, entries.has(c, CacheEntries.DIRTY));
    }

    // ---------------------------------------------------------------- dirty state, mappings, hints

    @Override
    public void setDirty(int cblock) {
        if (!trySetDirty(cblock)) {
            throw PolicyStateException.cacheBlock(cblock, "cannot mark dirty: a demotion of it is in progress");
        }
    }

    @Override
    public boolean trySetDirty(int cblock) {
        checkCblock(cblock);
        if (alreadyDirty(cblock)) {
            return true;
        }
        synchronized (lock) {
            writeBegin();
            try {
                requireMapped(cblock, "cannot mark dirty");
                return changeDirty(cblock, true);
            } finally {
                writeEnd();
            }
        }
    }

    @Override
    public void clearDirty(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            writeBegin();
            try {
                requireMapped(cblock, "cannot mark clean");
                changeDirty(cblock, false);
            } finally {
                writeEnd();
            }
        }
    }

    /** Whether {@code c} is mapped, dirty and without work in flight, read without the lock (under the seqlock). */
    private boolean alreadyDirty(int c) {
        long s = (long) SEQ.getAcquire(this);
        if ((s & 1) != 0) {
            return false;
        }
        boolean d = entries.isQuietlyDirty(c);
        VarHandle.loadLoadFence();
        return d && (long) SEQ.getOpaque(this) == s;
    }

    /** Changes a mapped block's dirty flag; false, changing nothing, to dirty a block whose demotion is issued. */
    private boolean changeDirty(int c, boolean dirty) {
        boolean was = entries.has(c, CacheEntries.DIRTY);
        if (was == dirty) {
            return true;
        }
        if (!entries.has(c, CacheEntries.PENDING)) {
            queues.remove(c, was);
            entries.setDirty(c, dirty);
            queues.push(c, dirty);
            return true;
        }
        long ob = entries.oblock(c);
        WorkOp op = tracker.opFor(ob);
        boolean issued = tracker.isIssued(ob);
        if (op == WorkOp.DEMOTE && dirty && issued) {
            return false;
        }
        if (!issued && (op == WorkOp.DEMOTE || op == WorkOp.WRITEBACK)) {
            // queued work that the change makes pointless (demoting a now dirty block, writing back a now
            // clean one) is withdrawn, and the block rejoins its queue
            tracker.cancelQueued(ob);
            entries.clear(c, CacheEntries.PENDING);
            entries.setDirty(c, dirty);
            queues.push(c, dirty);
            return true;
        }
        entries.setDirty(c, dirty);
        return true;
    }

    private void requireMapped(int c, String what) {
        if (!entries.has(c, CacheEntries.MAPPED)) {
            throw PolicyStateException.cacheBlock(c, what + ": not mapped"
                    + (entries.has(c, CacheEntries.ALLOCATED) ? " (a promotion into it is in flight)" : ""));
        }
    }

    @Override
    public void loadMapping(long oblock, int cblock, boolean dirty, int hint, boolean hintValid) {
        checkOblock(oblock);
        checkCblock(cblock);
        synchronized (lock) {
            writeBegin();
            try {
                if (entries.has(cblock, CacheEntries.ALLOCATED)) {
                    throw PolicyStateException.cacheBlock(cblock, "cannot load mapping to origin block " + oblock
                            + ": already in use"
                            + (entries.has(cblock, CacheEntries.MAPPED) ? " by origin block " + entries.oblock(cblock) : ""));
                }
                int other = entries.find(oblock);
                if (other != Links.NULL) {
                    throw PolicyStateException.originBlock(oblock, "cannot load into cache block " + cblock
                            + ": already mapped to cache block " + other);
                }
                if (tracker.contains(oblock)) {
                    throw PolicyStateException.originBlock(oblock, "cannot load into cache block " + cblock
                            + ": background work for it is in flight");
                }
                entries.allocate(cblock);
                links.level[cblock] = (byte) (hintValid ? Math.min(Integer.toUnsignedLong(hint), TOP_LEVEL)
                        : pseudoRandomLevel(cblock));
                entries.map(cblock, oblock);
                entries.setDirty(cblock, dirty);
                queues.forgetHit(cblock);
                queues.pushFront(cblock, dirty);
            } finally {
                writeEnd();
            }
        }
    }

    /** A level spread over 0..63 by a multiplicative hash of the cache block, for blocks loaded without hints. */
    static int pseudoRandomLevel(int cblock) {
        long h = (Integer.toUnsignedLong(cblock) * 0x61C88647L) & 0xFFFF_FFFFL;
        return (int) (h >>> (32 - 9)) & TOP_LEVEL;
    }

    @Override
    public boolean invalidateMapping(int cblock) {
        return switch (tryInvalidateMapping(cblock)) {
            case DROPPED -> true;
            case NOT_MAPPED -> false;
            case BUSY -> throw PolicyStateException.cacheBlock(cblock,
                    "cannot invalidate: background work on it is in progress");
        };
    }

    @Override
    public Invalidation tryInvalidateMapping(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            writeBegin();
            try {
                if (!entries.has(cblock, CacheEntries.MAPPED)) {
                    return Invalidation.NOT_MAPPED;
                }
                if (entries.has(cblock, CacheEntries.PENDING)) {
                    if (tracker.isIssued(entries.oblock(cblock))) {
                        return Invalidation.BUSY;
                    }
                    tracker.cancelQueued(entries.oblock(cblock));
                    entries.clear(cblock, CacheEntries.PENDING);
                } else {
                    queues.remove(cblock, entries.has(cblock, CacheEntries.DIRTY));
                }
                entries.unmap(cblock);
                queues.forgetHit(cblock);
                entries.release(cblock);
                return Invalidation.DROPPED;
            } finally {
                writeEnd();
            }
        }
    }

    @Override
    public int getHint(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            return entries.has(cblock, CacheEntries.MAPPED) ? links.level[cblock] : 0;
        }
    }

    @Override
    public int residency() {
        synchronized (lock) {
            return entries.allocated();
        }
    }

    @Override
    public int dirtyCount() {
        synchronized (lock) {
            return entries.dirtyCount();
        }
    }

    // ---------------------------------------------------------------- time

    @Override
    public void tick(boolean canBlock) {
        if (!tickNeeded && clock.nanoTime() - nextDue < 0) {
            return; // no miss since the last tick and no period due: the tick would change nothing
        }
        synchronized (lock) {
            writeBegin();
            try {
                long now = clock.nanoTime();
                boolean hotspotPeriod = now - nextHotspotPeriod > 0;
                if (now - nextWritebackPeriod > 0) {
                    nextWritebackPeriod = now + WRITEBACK_PERIOD;
                    queues.rotateWritebackSentinels();
                }
                if (now - nextDemotePeriod > 0) {
                    nextDemotePeriod = now + DEMOTE_PERIOD;
                    queues.rotateDemoteSentinels();
                }
                hotspot.endTick();
                updatePromoteLevel();
                if (now - nextHotspotPeriod > 0) {
                    hotspot.endPeriod();
                    nextHotspotPeriod = now + HOTSPOT_PERIOD;
                }
                if (now - nextCachePeriod > 0) {
                    queues.endPeriod();
                    nextCachePeriod = now + CACHE_PERIOD;
                }
                // a new hotspot period reset the confidence the promote level follows: the next tick applies it
                tickNeeded = hotspotPeriod;
                nextDue = earliest(earliest(nextWritebackPeriod, nextDemotePeriod),
                        earliest(nextHotspotPeriod, nextCachePeriod));
            } finally {
                writeEnd();
            }
        }
    }

    private static long earliest(long a, long b) {
        return a - b < 0 ? a : b;
    }

    /**
     * The kernel computes a threshold from the cache hit rate and then clamps it to at least the number of
     * hotspot levels, so only the hotspot confidence matters: promote from level 48 (poor), 32 (fair) or 0.
     */
    private void updatePromoteLevel() {
        int threshold = switch (hotspot.assess()) {
            case POOR -> Hotspot.NR_LEVELS / 4;
            case FAIR -> Hotspot.NR_LEVELS / 2;
            case WELL -> Hotspot.NR_LEVELS;
        };
        promoteLevel = Hotspot.NR_LEVELS - threshold;
    }

    /** The level a hotspot region needs for a miss in it to be promoted (64: none). For tests and status. */
    int promoteLevel() {
        synchronized (lock) {
            return promoteLevel;
        }
    }

    // ---------------------------------------------------------------- configuration

    @Override
    public void setConfigValue(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (type == PolicyType.MQ) {
            LegacyMqTunables.accept(name(), key, value);
            return;
        }
        throw new PolicyConfigException(name(), key, "unknown tunable '" + key + "' (" + name() + " has no tunables)");
    }

    @Override
    public ConfigValues emitConfigValues() {
        return type == PolicyType.MQ ? LegacyMqTunables.values() : NO_TUNABLES;
    }

    @Override
    public void allowMigrations(boolean allow) {
        synchronized (lock) {
            migrationsAllowed = allow && type.mayMigrate();
        }
    }

    // ---------------------------------------------------------------- pure queries

    @Override
    public int lookupMapping(long oblock) {
        synchronized (lock) {
            return entries.find(oblock);
        }
    }

    @Override
    public long oblockOf(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            return entries.oblockIfMapped(cblock);
        }
    }

    @Override
    public boolean isDirty(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            return entries.mappedDirty(cblock);
        }
    }

    @Override
    public int nextMapped(int fromCblock) {
        synchronized (lock) {
            return entries.nextMapped(fromCblock);
        }
    }

    @Override
    public void forEachMapping(MappingVisitor visitor) {
        Objects.requireNonNull(visitor, "visitor");
        synchronized (lock) {
            entries.forEachMapping(visitor, c -> links.level[c]);
        }
    }

    @Override
    public MemoryFootprint memoryFootprint() {
        return new MemoryFootprint(nrBlocks, links.bytes() + entries.bytes() + queues.bytes(),
                hotspot.nrBlocks(), hotspot.bytes(), tracker.bytes());
    }

    /** Background work items in flight (queued or issued). For tests. */
    int backgroundWorkInFlight() {
        synchronized (lock) {
            return tracker.inFlight();
        }
    }

    /** Hotspot geometry, for tests: cache blocks per hotspot block. */
    long cacheBlocksPerHotspotBlock() {
        return hotspot.cacheBlocksPerHotspotBlock();
    }

    private void checkOblock(long oblock) {
        if (oblock < 0 || oblock >= originBlocks) {
            throw new IllegalArgumentException("origin block " + oblock + " out of range [0, " + originBlocks + ")");
        }
    }

    private void checkCblock(int cblock) {
        if (cblock < 0 || cblock >= nrBlocks) {
            throw new IllegalArgumentException("cache block " + cblock + " out of range [0, " + nrBlocks + ")");
        }
    }

    @Override
    public String toString() {
        return "SmqPolicy[" + name() + ", cacheBlocks=" + nrBlocks + ", originBlocks=" + originBlocks + "]";
    }
}
