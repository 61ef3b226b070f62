package io.jdmcache.policy;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code wtlfu}: TinyLFU admission in front of a segmented LRU, for the engine (Einziger, Friedman and Manes,
 * "TinyLFU: A Highly Efficient Cache Admission Policy", ACM ToS 13(4), 2017), whose ageing and whose very
 * admission are chosen by a duel of miniature simulations (Waldspurger, Saemundsson, Ahmad and Park, "Cache
 * Modeling and Optimization using Miniature Simulations", USENIX ATC 2017), with W-TinyLFU's window and
 * Caffeine's hill-climbed window size as options (Einziger, Eytan, Friedman and Manes, "Adaptive Software Cache
 * Management", Middleware 2018).
 *
 * <h2>What it keeps</h2>
 * The cached blocks in LRU lists: the main region's <em>probation</em> and <em>protected</em> segments (a hit in
 * probation moves the block to protected, which holds at most 80% of the main region; its overflow goes back to
 * probation), and an optional <em>window</em> in front. A {@link FrequencySketch} of 14 4-bit counters per cache
 * block (at least 65,536) counts every access of every origin block, halved every 10 x cache blocks accesses.
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li>A miss with a free cache block is promoted (into the window if there is one, else probation).</li>
 *   <li>A miss in a full cache is a <em>candidate</em> and duels the main region's <em>victim</em> (the least
 *       recently used clean probation block, else protected): it is promoted only if the sketch has seen it at
 *       least twice lately and more often than the victim, which is then demoted first; otherwise it is not
 *       promoted at all. A demand-fill cache must take every miss; the engine can bypass, and refusing blocks
 *       seen once is what keeps scans and loops from flushing the cache (a loop larger than the cache keeps
 *       hitting in the part of it that is cached, as with OPT). The promotion is queued when the demotion
 *       completes, so the migration worker issues it next.</li>
 *   <li>The duel ({@code duel 1}, the default): a sample of the origin blocks (by a hash; all of them for caches
 *       of up to 4,096 blocks, else 4,096 / cache blocks of them) also goes through four miniature caches of
 *       the cache's size times the sampling rate: TinyLFU halving its sketch every 10, 5 and 20 x its size
 *       accesses, and demand-fill LRU. Every 2 x its size sampled accesses the candidate with the most hits
 *       (decayed by half each time), if it beats the current one by 2%, becomes the policy's mode: that ageing
 *       for the real sketch, or LRU, which is a window of the whole cache (every miss promoted, the least
 *       recently used block demoted). Recency-heavy workloads, where any frequency filter loses to LRU, get LRU;
 *       the rest keep TinyLFU.</li>
 *   <li>With a window ({@code window_percent}), every miss is promoted into the window instead, and the
 *       window's least recently used block is the candidate that duels the victim (W-TinyLFU); the loser is
 *       demoted. With {@code adaptive_window 1}, every 10 x cache blocks accesses the window moves by a step in
 *       the direction that raised the hit ratio of the last sample (steps of 6.25% of the cache, shrinking by 2%
 *       a sample, restarting on a change of 5 points). Blocks change region by relabelling only.</li>
 *   <li>A dirty block is never demoted: a dirty block met at the head of a list when a victim is sought is
 *       written back first (it then comes back at that head, clean). Write-backs also run when idle (every dirty
 *       block) and, when busy, while fewer than 25% of the cache blocks are clean.</li>
 * </ul>
 *
 * <h2>Hints</h2>
 * 4 bytes: bits 0-3 the block's sketch frequency, bits 4-5 its region plus one (1 window, 2 probation,
 * 3 protected). Loaded with valid hints, a block goes back to its region with at least its frequency;
 * without, to probation. The kernel's smq ignores these hints (they are another policy's).
 *
 * <h2>Memory</h2>
 * Per cache block, besides the mapping every policy keeps (origin block, hash chain, flags): list links (8 bytes),
 * region (1) and sketch (7), 16 bytes. Fixed: the background work tracker, the planned promotions and the
 * duel's miniature caches (about 1 MiB in all).
 *
 * <p>Thread-safe: every public method runs under one private monitor, held for a bounded, non-blocking body.
 */
final class TinyLfuPolicy implements CachePolicy {
    static final String NAME = "wtlfu";
    static final PolicyVersion VERSION = new PolicyVersion(1, 0, 0);
    static final int HINT_SIZE = 4;
    static final int MAX_BACKGROUND_WORK = 4096;

    static final int WINDOW = 0;
    static final int PROBATION = 1;
    static final int PROTECTED = 2;

    private static final int CLEAN_TARGET_PERCENT = 25;
    private static final int PROMOTE_ISSUED = -3;
    private static final int BYPASS = -4;
    private static final int REBALANCE_MOVES = 16;

    /** Hill climber: a step is 6.25% of the cache, shrinks by 2% a sample, restarts on a 5-point change. */
    private static final double STEP_PERCENT = 0.0625;
    private static final double STEP_DECAY = 0.98;
    private static final double RESTART_THRESHOLD = 0.05;
    /** Accesses per climber sample and per sketch halving, in cache blocks (TinyLFU's W = 10 x C). */
    private static final int SAMPLE_PER_BLOCK = 10;
    /** Sketch counters per cache block (7 bytes), and at least this many in all (32 KiB). */
    private static final int COUNTERS_PER_BLOCK = 14;
    private static final long MIN_COUNTERS = 1 << 16;
    private static final double PROTECTED_SHARE = 0.8;
    /** A block must have been seen this many times lately to be admitted past the window. */
    static final int MIN_ADMIT_FREQUENCY = 2;
    /** The duel's TinyLFU candidates: accesses between two sketch halvings, in cache blocks (first: the start). */
    static final int[] AGEING = {10, 5, 20};
    /** The duel's candidate that is demand-fill LRU. */
    static final int LRU_MODE = AGEING.length;
    /** Entries of each miniature cache at most (the sampling rate is this over the cache blocks, at most 1). */
    static final int MINI_ENTRIES = 4096;
    /** Sampled accesses between two choices, in miniature cache sizes; weight of the past scores per choice. */
    private static final int DUEL_PERIOD = 2;
    private static final double DUEL_DECAY = 0.5;
    /** A candidate must beat the current one by 2% (and one hit) to take over. */
    private static final double DUEL_MARGIN = 0.02;

    private final Object lock = new Object();
    private final int nrBlocks;
    private final long originBlocks;
    private final Links links;
    private final CacheEntries entries;
    private final LevelLists lists;
    private final FrequencySketch sketch;
    private final BackgroundTracker tracker;
    /** Demotions that make room for a miss: demoted cache block to the origin block to promote into it. */
    private final LongLongMap follow;
    /** The same, origin block to cache block. */
    private final LongLongMap awaiting;
    /** The duel: a miniature cache per candidate over the sampled blocks, their decayed hit scores. */
    private final MiniCache[] minis;
    private final double[] scores;
    private final long sampleBelow;
    private final int duelPeriod;
    private int duelAccesses;
    private int mode;
    private boolean duel = true;

    private boolean migrationsAllowed = true;
    private double windowTarget;
    private int windowMax;
    private int protectedMax;
    private final int climbSample;
    private int windowPercent;
    private boolean adaptive;
    private int sampleAccesses;
    private int sampleHits;
    private double previousHitRate;
    private double stepSize;
    private int dirtyCursor;

    TinyLfuPolicy(int cacheBlocks, long originBlocks) {
        if (cacheBlocks < 0 || cacheBlocks > SmqPolicy.MAX_CACHE_BLOCKS) {
            throw new IllegalArgumentException("cache blocks must be in [0, " + SmqPolicy.MAX_CACHE_BLOCKS + "]: "
                    + cacheBlocks);
        }
        if (originBlocks < 0) {
            throw new IllegalArgumentException("negative origin blocks: " + originBlocks);
        }
        this.nrBlocks = cacheBlocks;
        this.originBlocks = originBlocks;
        this.links = new Links(cacheBlocks, 0);
        this.entries = new CacheEntries(links, cacheBlocks, originBlocks);
        this.lists = new LevelLists(links, 3);
        long sample = Math.max(32, (long) SAMPLE_PER_BLOCK * cacheBlocks);
        this.sketch = new FrequencySketch(Math.max(MIN_COUNTERS, (long) COUNTERS_PER_BLOCK * cacheBlocks),
                (int) Math.min(Integer.MAX_VALUE, sample));
        this.tracker = new BackgroundTracker(MAX_BACKGROUND_WORK);
        this.follow = new LongLongMap(MAX_BACKGROUND_WORK);
        this.awaiting = new LongLongMap(MAX_BACKGROUND_WORK);
        this.climbSample = (int) Math.min(Integer.MAX_VALUE, sample);
        double rate = cacheBlocks == 0 ? 1 : Math.min(1.0, (double) MINI_ENTRIES / cacheBlocks);
        int miniCapacity = (int) Math.max(1, Math.round(cacheBlocks * rate));
        this.sampleBelow = (long) (rate * (1L << 24));
        this.minis = new MiniCache[AGEING.length + 1];
        for (int i = 0; i < AGEING.length; i++) {
            minis[i] = new MiniCache(false, miniCapacity, AGEING[i]);
        }
        minis[LRU_MODE] = new MiniCache(true, miniCapacity, 0);
        this.scores = new double[minis.length];
        this.duelPeriod = Math.max(64, DUEL_PERIOD * miniCapacity);
        this.stepSize = -STEP_PERCENT * cacheBlocks;
        setWindow(0);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public PolicyVersion version() {
        return VERSION;
    }

    @Override
    public int hintSize() {
        return HINT_SIZE;
    }

    @Override
    public int cacheBlocks() {
        return nrBlocks;
    }

    // ---------------------------------------------------------------- regions

    private void setWindow(double target) {
        windowTarget = Math.max(0, Math.min(nrBlocks, target));
        windowMax = (int) windowTarget;
        protectedMax = (int) (PROTECTED_SHARE * (nrBlocks - windowMax));
    }

    private int region(int c) {
        return links.level[c];
    }

    private void moveTo(int c, int to) {
        lists.remove(region(c), c);
        links.level[c] = (byte) to;
        lists.addTail(to, c);
    }

    /**
     * Brings the regions toward their sizes, a few moves at a time (a window step can be 6% of the cache): an
     * oversized window gives its oldest blocks to probation, an undersized one (in a full cache) takes
     * probation's (then protected's) oldest, and protected's overflow goes back to probation.
     */
    private void rebalance(int moves) {
        for (; moves > 0 && lists.count(WINDOW) > windowMax; moves--) {
            moveTo(lists.head(WINDOW), PROBATION);
        }
        for (; moves > 0 && lists.count(WINDOW) < windowMax && entries.freeCount() == 0; moves--) {
            int from = lists.count(PROBATION) > 0 ? PROBATION : PROTECTED;
            if (lists.count(from) == 0) {
                break;
            }
            moveTo(lists.head(from), WINDOW);
        }
        for (; moves > 0 && lists.count(PROTECTED) > protectedMax; moves--) {
            moveTo(lists.head(PROTECTED), PROBATION);
        }
    }

    private void onHit(int c) {
        switch (region(c)) {
            case WINDOW -> moveTo(c, WINDOW);
            case PROBATION -> {
                moveTo(c, PROTECTED);
                if (lists.count(PROTECTED) > protectedMax) {
                    moveTo(lists.head(PROTECTED), PROBATION);
                }
            }
            default -> moveTo(c, PROTECTED);
        }
    }

    // ---------------------------------------------------------------- the hill climber

    private void sample(boolean hit) {
        if (!adaptive) {
            return;
        }
        sampleAccesses++;
        if (hit) {
            sampleHits++;
        }
        if (sampleAccesses >= climbSample) {
            climb();
        }
    }

    private void climb() {
        double hitRate = (double) sampleHits / sampleAccesses;
        double change = hitRate - previousHitRate;
        double amount = change >= 0 ? stepSize : -stepSize;
        double next = Math.abs(change) >= RESTART_THRESHOLD
                ? STEP_PERCENT * nrBlocks * (amount >= 0 ? 1 : -1)
                : STEP_DECAY * amount;
        previousHitRate = hitRate;
        stepSize = next;
        sampleAccesses = 0;
        sampleHits = 0;
        setWindow(windowTarget + amount);
    }

    // ---------------------------------------------------------------- lookups

    @Override
    public int lookup(long oblock, IoDirection dir, boolean fastCopy) {
        checkOblock(oblock);
        Objects.requireNonNull(dir, "dir");
        synchronized (lock) {
            return lookupLocked(oblock, false);
        }
    }

    @Override
    public LookupResult lookupWithWork(long oblock, IoDirection dir, boolean fastCopy) {
        checkOblock(oblock);
        Objects.requireNonNull(dir, "dir");
        synchronized (lock) {
            int r = lookupLocked(oblock, true);
            if (r >= 0) {
                return new LookupResult.Hit(r);
            }
            if (r == PROMOTE_ISSUED) {
                return new LookupResult.Promote(tracker.work(issuedSlot));
            }
            return r == MISS_WORK_QUEUED ? LookupResult.MISS_WORK_QUEUED : LookupResult.MISS;
        }
    }

    private int issuedSlot = BackgroundTracker.NONE;

    /** 24 bits of a hash of the origin block, independent of the sketch's: the duel samples below a threshold. */
    private static long sampleHash(long x) {
        x = (x ^ (x >>> 33)) * 0xFF51AFD7ED558CCDL;
        x = (x ^ (x >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return (x ^ (x >>> 33)) >>> 40;
    }

    /**
     * The duel: a sampled access goes through every miniature cache; every period the candidate with the best
     * decayed hit score, if it beats the current one by the margin, becomes the policy's mode (its ageing, or LRU).
     */
    private void duel(long oblock) {
        if (!duel || nrBlocks == 0 || sampleHash(oblock) >= sampleBelow) {
            return;
        }
        for (MiniCache m : minis) {
            m.access(oblock);
        }
        if (++duelAccesses < duelPeriod) {
            return;
        }
        duelAccesses = 0;
        for (int i = 0; i < minis.length; i++) {
            scores[i] = scores[i] * DUEL_DECAY + minis[i].hits();
            minis[i].resetHits();
        }
        int best = mode;
        for (int i = 0; i < minis.length; i++) {
            if (i == LRU_MODE && adaptive) {
                continue; // the climber owns the window
            }
            if (scores[i] > scores[best] * (1 + DUEL_MARGIN) + 1) {
                best = i;
            }
        }
        if (best != mode) {
            setMode(best);
        }
    }

    private void setMode(int m) {
        mode = m;
        if (m == LRU_MODE) {
            setWindow(nrBlocks);
        } else {
            setWindow((double) nrBlocks * windowPercent / 100);
            sketch.setSampleSize((int) Math.min(Integer.MAX_VALUE, Math.max(32L, (long) AGEING[m] * nrBlocks)));
        }
    }

    private int lookupLocked(long oblock, boolean issueNow) {
        sketch.increment(oblock);
        duel(oblock);
        rebalance(REBALANCE_MOVES);
        int c = entries.lookup(oblock);
        if (c != Links.NULL) {
            if (entries.has(c, CacheEntries.PENDING)) {
                entries.testAndSetHit(c); // work in flight: it rejoins its list as recently used
            } else {
                onHit(c);
            }
            sample(true);
            return c;
        }
        sample(false);
        return admit(oblock, issueNow);
    }

    private int admit(long oblock, boolean issueNow) {
        if (!migrationsAllowed || tracker.contains(oblock) || awaiting.containsKey(oblock)) {
            return MISS;
        }
        if (entries.freeCount() > 0) {
            if (tracker.isFull()) {
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
        if (tracker.isFull() || follow.isFull()) {
            return MISS;
        }
        int before = tracker.inFlight();
        int v = chooseVictim(oblock);
        if (v < 0) {
            return tracker.inFlight() > before ? MISS_WORK_QUEUED : MISS;
        }
        if (!queue(WorkOp.DEMOTE, v, false)) {
            return tracker.inFlight() > before ? MISS_WORK_QUEUED : MISS;
        }
        follow.put(v, oblock);
        awaiting.put(oblock, v);
        return MISS_WORK_QUEUED;
    }

    /**
     * The clean block to demote so that {@code missed} can be promoted, or {@link Links#NULL} (none can be
     * now), or {@link #BYPASS} (the missed block lost its duel: it is not to be promoted).
     */
    private int chooseVictim(long missed) {
        for (int guard = 0; guard < 64; guard++) {
            int victim = mainVictim();
            int nWindow = lists.count(WINDOW);
            boolean missedIsCandidate = windowMax == 0;
            if (!missedIsCandidate && (nWindow < windowMax || nWindow == 0)) {
                return victim != Links.NULL ? victim : cleanHead(WINDOW);
            }
            int cand = missedIsCandidate ? Links.NULL : lists.head(WINDOW);
            if (victim == Links.NULL) {
                return missedIsCandidate ? Links.NULL : cleanHead(WINDOW);
            }
            int fc = sketch.frequency(missedIsCandidate ? missed : entries.oblock(cand));
            int fv = sketch.frequency(entries.oblock(victim));
            if (admits(fc, fv)) {
                if (!missedIsCandidate) {
                    moveTo(cand, PROBATION);
                }
                return victim;
            }
            if (missedIsCandidate) {
                return BYPASS;
            }
            if (!entries.has(cand, CacheEntries.DIRTY)) {
                return cand;
            }
            if (!queue(WorkOp.WRITEBACK, cand, true)) {
                return Links.NULL;
            }
        }
        return Links.NULL;
    }

    private boolean admits(int candidateFrequency, int victimFrequency) {
        return candidateFrequency >= MIN_ADMIT_FREQUENCY && candidateFrequency > victimFrequency;
    }

    /** The oldest clean block of probation, else of protected; dirty blocks met on the way are written back. */
    private int mainVictim() {
        int v = cleanHead(PROBATION);
        return v != Links.NULL ? v : cleanHead(PROTECTED);
    }

    /** The head of a list once its dirty head blocks have been sent to write-back; {@link Links#NULL} if none. */
    private int cleanHead(int list) {
        for (int c = lists.head(list); c != Links.NULL; c = lists.head(list)) {
            if (!entries.has(c, CacheEntries.DIRTY)) {
                return c;
            }
            if (!queue(WorkOp.WRITEBACK, c, true)) {
                return Links.NULL;
            }
        }
        return Links.NULL;
    }

    private boolean queue(WorkOp op, int c, boolean isDirty) {
        if (tracker.isFull() || tracker.add(op, entries.oblock(c), c, false) == BackgroundTracker.NONE) {
            return false;
        }
        lists.remove(region(c), c);
        entries.set(c, CacheEntries.PENDING);
        entries.clearHit(c);
        return true;
    }

    // ---------------------------------------------------------------- background work

    private boolean cleanTargetMet(boolean idle) {
        long unqueuedDirty = entries.dirtyCount() - (long) tracker.pending(WorkOp.WRITEBACK);
        if (unqueuedDirty <= 0) {
            return true;
        }
        if (idle) {
            return false;
        }
        long clean = (long) nrBlocks - entries.dirtyCount() + tracker.pending(WorkOp.WRITEBACK);
        return clean >= (long) nrBlocks * CLEAN_TARGET_PERCENT / 100;
    }

    /** The next dirty block without work in flight from the rotating cursor, or {@link Links#NULL}. */
    private int nextDirty() {
        for (int i = 0; i < nrBlocks; i++) {
            int c = dirtyCursor;
            dirtyCursor = dirtyCursor + 1 == nrBlocks ? 0 : dirtyCursor + 1;
            if (entries.has(c, CacheEntries.MAPPED) && entries.has(c, CacheEntries.DIRTY)
                    && !entries.has(c, CacheEntries.PENDING)) {
                return c;
            }
        }
        return Links.NULL;
    }

    @Override
    public Optional<PolicyWork> getBackgroundWork(boolean idle) {
        synchronized (lock) {
            int slot = tracker.issue();
            if (slot == BackgroundTracker.NONE && !tracker.isFull() && !cleanTargetMet(idle)) {
                int c = nextDirty();
                if (c != Links.NULL && queue(WorkOp.WRITEBACK, c, true)) {
                    entries.testAndSetHit(c); // not a victim: it rejoins its list as recently used
                    slot = tracker.issue();
                }
            }
            return slot == BackgroundTracker.NONE ? Optional.empty() : Optional.of(tracker.work(slot));
        }
    }

    @Override
    public void completeBackgroundWork(PolicyWork work, boolean success) {
        Objects.requireNonNull(work, "work");
        synchronized (lock) {
            int slot = tracker.findIssued(work);
            if (slot == BackgroundTracker.NONE) {
                throw PolicyStateException.originBlock(work.oblock(), "no such background work in flight: " + work);
            }
            tracker.complete(slot);
            int c = work.cblock();
            switch (work.op()) {
                case PROMOTE -> {
                    if (success) {
                        entries.clear(c, CacheEntries.PENDING);
                        entries.clearHit(c);
                        entries.map(c, work.oblock());
                        links.level[c] = WINDOW;
                        lists.addTail(WINDOW, c);
                    } else {
                        entries.release(c);
                    }
                }
                case DEMOTE -> {
                    long next = follow.remove(c);
                    if (next != LongLongMap.ABSENT) {
                        awaiting.remove(next);
                    }
                    if (!success) {
                        requeue(c);
                        return;
                    }
                    entries.unmap(c);
                    entries.clearHit(c);
                    entries.release(c);
                    if (next != LongLongMap.ABSENT && migrationsAllowed && entries.find(next) == Links.NULL
                            && !tracker.contains(next) && !tracker.isFull()) {
                        entries.allocate(c);
                        entries.set(c, CacheEntries.PENDING);
                        tracker.add(WorkOp.PROMOTE, next, c, false);
                    }
                }
                case WRITEBACK -> requeue(c);
            }
        }
    }

    /** A block whose work ended without unmapping it rejoins its list: as recently used if it was hit meanwhile. */
    private void requeue(int c) {
        entries.clear(c, CacheEntries.PENDING);
        boolean touched = entries.testAndSetHit(c);
        entries.clearHit(c);
        if (touched) {
            lists.addTail(region(c), c);
        } else {
            lists.addHead(region(c), c);
        }
    }

    /** Drops the promotion that was to follow the demotion of {@code c}, if any. */
    private void dropFollow(int c) {
        long next = follow.remove(c);
        if (next != LongLongMap.ABSENT) {
            awaiting.remove(next);
        }
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
        synchronized (lock) {
            requireMapped(cblock, "cannot mark dirty");
            return changeDirty(cblock, true);
        }
    }

    @Override
    public void clearDirty(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            requireMapped(cblock, "cannot mark clean");
            changeDirty(cblock, false);
        }
    }

    private boolean changeDirty(int c, boolean dirty) {
        if (entries.has(c, CacheEntries.DIRTY) == dirty) {
            return true;
        }
        if (entries.has(c, CacheEntries.PENDING)) {
            long ob = entries.oblock(c);
            WorkOp op = tracker.opFor(ob);
            boolean issued = tracker.isIssued(ob);
            if (op == WorkOp.DEMOTE && dirty && issued) {
                return false;
            }
            if (!issued && (op == WorkOp.DEMOTE && dirty || op == WorkOp.WRITEBACK && !dirty)) {
                // queued work the change makes pointless is withdrawn, and the block rejoins its list
                tracker.cancelQueued(ob);
                if (op == WorkOp.DEMOTE) {
                    dropFollow(c);
                }
                entries.setDirty(c, dirty);
                requeue(c);
                return true;
            }
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
            long waitingIn = awaiting.remove(oblock);
            if (waitingIn != LongLongMap.ABSENT) {
                follow.remove(waitingIn); // it is mapped now: the promotion planned for it is dropped
            }
            int region = PROBATION;
            if (hintValid && hint >>> 6 == 0 && (hint >>> 4) != 0) {
                region = (hint >>> 4) - 1;
                sketch.raise(oblock, hint & 15);
            }
            entries.allocate(cblock);
            entries.map(cblock, oblock);
            entries.setDirty(cblock, dirty);
            entries.clearHit(cblock);
            links.level[cblock] = (byte) region;
            lists.addTail(region, cblock);
        }
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
            if (!entries.has(cblock, CacheEntries.MAPPED)) {
                return Invalidation.NOT_MAPPED;
            }
            if (entries.has(cblock, CacheEntries.PENDING)) {
                long ob = entries.oblock(cblock);
                if (tracker.isIssued(ob)) {
                    return Invalidation.BUSY;
                }
                tracker.cancelQueued(ob);
                dropFollow(cblock);
                entries.clear(cblock, CacheEntries.PENDING);
            } else {
                lists.remove(region(cblock), cblock);
            }
            entries.unmap(cblock);
            entries.clearHit(cblock);
            entries.release(cblock);
            return Invalidation.DROPPED;
        }
    }

    @Override
    public int getHint(int cblock) {
        checkCblock(cblock);
        synchronized (lock) {
            return hintOf(cblock);
        }
    }

    private int hintOf(int c) {
        if (!entries.has(c, CacheEntries.MAPPED)) {
            return 0;
        }
        return (region(c) + 1) << 4 | sketch.frequency(entries.oblock(c));
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

    /** Nothing happens on time: the sketch ages and the window climbs by counts of accesses. */
    @Override
    public void tick(boolean canBlock) {
    }

    /**
     * {@code window_percent P} (0..100, default 0): the window's size in percent of the cache;
     * {@code adaptive_window 0|1} (default 0): let the hill climber move the window from there.
     */
    @Override
    public void setConfigValue(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        synchronized (lock) {
            switch (key) {
                case "window_percent" -> {
                    windowPercent = number(key, value, 100);
                    if (mode != LRU_MODE) {
                        setWindow((double) nrBlocks * windowPercent / 100);
                    }
                }
                case "duel" -> {
                    duel = number(key, value, 1) == 1;
                    if (!duel) {
                        setMode(0);
                    }
                }
                case "adaptive_window" -> {
                    adaptive = number(key, value, 1) == 1;
                    sampleAccesses = 0;
                    sampleHits = 0;
                    if (adaptive && mode == LRU_MODE) {
                        setMode(0);
                    }
                }
                default -> throw new PolicyConfigException(NAME, key, "unknown tunable '" + key
                        + "' (known: window_percent, adaptive_window, duel)");
            }
        }
    }

    private static int number(String key, String value, int max) {
        if (!value.matches("[0-9]{1,3}") || Integer.parseInt(value) > max) {
            throw new PolicyConfigException(NAME, key, "value '" + value + "' for '" + key
                    + "' is not a whole number from 0 to " + max);
        }
        return Integer.parseInt(value);
    }

    @Override
    public ConfigValues emitConfigValues() {
        synchronized (lock) {
            return new ConfigValues(List.of("window_percent", Integer.toString(windowPercent),
                    "adaptive_window", adaptive ? "1" : "0", "duel", duel ? "1" : "0"));
        }
    }

    @Override
    public void allowMigrations(boolean allow) {
        synchronized (lock) {
            migrationsAllowed = allow;
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
            entries.forEachMapping(visitor, this::hintOf);
        }
    }

    /**
     * Cache entry bytes: the mapping (origin block, flags, hash table) and the list links and region byte;
     * "hotspot": the frequency sketch (its counters and bytes); tracker: background work and planned promotions.
     */
    @Override
    public MemoryFootprint memoryFootprint() {
        synchronized (lock) {
            return new MemoryFootprint(nrBlocks, links.bytes() + entries.bytes(), sketch.counters(), sketch.bytes(),
                    tracker.bytes() + follow.bytes() + awaiting.bytes() + miniBytes());
        }
    }

    private long miniBytes() {
        long b = 0;
        for (MiniCache m : minis) {
            b += m.bytes();
        }
        return b;
    }

    // ---------------------------------------------------------------- for tests

    /** The duel's current choice: an index of {@link #AGEING}, or {@link #LRU_MODE}. */
    int mode() {
        synchronized (lock) {
            return mode;
        }
    }

    /** The window's current size limit. */
    int windowMax() {
        synchronized (lock) {
            return windowMax;
        }
    }

    /** The region of a mapped block ({@link #WINDOW}, {@link #PROBATION}, {@link #PROTECTED}), -1 otherwise. */
    int regionOf(int c) {
        synchronized (lock) {
            return entries.has(c, CacheEntries.MAPPED) ? region(c) : -1;
        }
    }

    /** The blocks listed in each region, for invariant checks. */
    int[] regionCounts() {
        synchronized (lock) {
            return new int[] {lists.count(WINDOW), lists.count(PROBATION), lists.count(PROTECTED)};
        }
    }

    /** The sketch's estimate for an origin block. */
    int frequency(long oblock) {
        synchronized (lock) {
            return sketch.frequency(oblock);
        }
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
        return "TinyLfuPolicy[cacheBlocks=" + nrBlocks + ", originBlocks=" + originBlocks + "]";
    }
}
