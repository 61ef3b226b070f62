package io.jdmcache.engine.core;

import io.jdmcache.policy.CachePolicy;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * The exact dirty state of a writeback cache, committed with every metadata commit so that it survives a crash
 * (see {@link io.jdmcache.metadata.CacheMetadata#commit(boolean, boolean)}). The rule it keeps: the metadata on
 * disk says dirty of every mapped cache block whose data may differ from its origin block. So before a write
 * changes the data of a cache block the disk says is clean, the block's dirty bit must be committed.
 *
 * <p>Three bits per cache block, in flat {@code long} words:
 * <ul>
 *   <li>{@code next}: what the next commit writes (set before a write changes the block, cleared by a write-back
 *       once the origin has the data and has flushed it);</li>
 *   <li>{@code durable}: dirty in every state the disk may be in now (the last commit's bits, and during a
 *       commit the bits both it and the one before have);</li>
 *   <li>{@code sent}: the bits the metadata transaction holds (the commit thread's own).</li>
 * </ul>
 * A commit's snapshot of {@code next} needs no array of its own: only its changed words are kept (indexes and
 * values, in buffers that grow as needed and shrink again after a large commit), and the first commit, which
 * writes every word, takes its snapshot into {@code sent}, whose bits are unknown until then.
 * A write checks {@code durable} under a sequence counter that a commit makes odd while it takes its snapshot of
 * {@code next} and drops from {@code durable} what the snapshot no longer has; a write that finds its block
 * not durably dirty waits for a commit that starts after it set {@code next}. Callers hold the block's exclusive
 * lock for {@link #beforeWrite} and {@link #cleaned}; {@link #promoted} runs inside the commit gate's update
 * side, the commit methods under its exclusive side.
 *
 * <p>A grace for written-back blocks: with a grace (the threaded engine's), {@link #cleaned} of a {@code hot}
 * block (one whose write had to wait for a commit since it was mapped or last cleared) does not clear the
 * block's bit at once but marks it {@code pending}; the bit is cleared (committed clean) only once it has stayed
 * pending through a whole grace period without a write. A block under a write load that the background
 * write-back cleans between writes so stays dirty on disk, and its next write waits for no commit (without the
 * grace, 4 KiB random writes over a hot set that is being written back ran at half the bare device's speed). The
 * price: after a crash the blocks written back in the last one or two grace periods are written back again.
 * A write to a pending block drops its pending mark first; a snapshot that clears ripe pending bits does so while
 * its sequence is odd and drops them from {@code durable} too, so a write racing with it sees false and, called
 * again after the commit, marks its block once more.
 */
public final class DirtyTracker {
    /**
     * The grace of a threaded writeback cache: 60 s, so that a block written again within a minute of its
     * write-back waits for no commit. A minute covers the rhythm of the writers above a block device: Linux
     * writes a dirty page back 30 s after it was dirtied and filesystems commit their journals every 5-30 s, so
     * their hot blocks come back well within it, and an idle pause of a few seconds (enough for the write-back
     * to clean the hot set, which it does after 1 s without I/O) does not cost every hot block a commit wait at
     * its next write. With 10 s, 4 KiB random writes at queue depth 1 over a 512 MiB hot set paid 8,192 commit
     * waits again after each 22 s pause (nbd-bench's other server taking its turns).
     */
    public static final long WRITTEN_BACK_GRACE_NANOS = 60_000_000_000L;
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
    /** The changed-word buffers' length kept between commits. */
    static final int KEPT_CHANGED = 64;
    private static final VarHandle SEQ;
    private static final VarHandle CHANGED;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(DirtyTracker.class, "seq", int.class);
            CHANGED = MethodHandles.lookup().findVarHandle(DirtyTracker.class, "changed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int blocks;
    private final long[] next;
    private final long[] durable;
    private final long[] sent;
    /** Words whose bits the metadata may hold otherwise than {@code sent} says (format 1: a mapping inserted clean). */
    private final long[] resend;
    /**
     * The changed words of the last snapshot (grown as needed: a commit usually changes few; after a commit that
     * changed more than {@link #KEPT_CHANGED} words they are given back, so that one large commit does not hold
     * two longs per word of the cache for good).
     */
    private long[] changedIdx = new long[KEPT_CHANGED];
    private long[] changedVal = new long[KEPT_CHANGED];
    /** Written back, still dirty on disk for the grace period (null without a grace). */
    private final long[] pending;
    /** The pending bits as the last ageing found them: those still pending at the next one are cleared. */
    private final long[] aged;
    /**
     * Blocks whose write had to wait for a commit since they were mapped or last cleared: only their write-backs
     * get the grace, so a block written once and written back is committed clean at once.
     */
    private final long[] hot;
    private final long graceNanos;
    private final java.util.function.LongSupplier nanoClock;
    private long agedAt;
    /** How many words the last snapshot found changed (after the first commit). */
    private int changedCount;
    private volatile boolean anyPending;
    /** False until the first commit has written every word (the disk's bits are unknown before). */
    private boolean sentKnown;
    @SuppressWarnings("unused") // through SEQ
    private volatile int seq;
    @SuppressWarnings("unused") // through CHANGED
    private volatile boolean changed;

    /** A tracker without a grace: a write-back's bit is cleared by the next commit. */
    public DirtyTracker(int cacheBlocks) {
        this(cacheBlocks, 0, System::nanoTime);
    }

    /**
     * @param graceNanos how long a written-back block stays dirty on disk before a commit clears it (0: none)
     * @param nanoClock  the time, in nanoseconds, for the grace
     */
    public DirtyTracker(int cacheBlocks, long graceNanos, java.util.function.LongSupplier nanoClock) {
        if (graceNanos < 0) {
            throw new IllegalArgumentException("negative grace: " + graceNanos);
        }
        this.blocks = cacheBlocks;
        this.graceNanos = graceNanos;
        this.nanoClock = nanoClock;
        this.agedAt = nanoClock.getAsLong();
        int words = (cacheBlocks + 63) >>> 6;
        this.next = new long[words];
        this.durable = new long[words];
        this.sent = new long[words];
        this.resend = new long[(words + 63) >>> 6];
        this.pending = graceNanos > 0 ? new long[words] : null;
        this.aged = graceNanos > 0 ? new long[words] : null;
        this.hot = graceNanos > 0 ? new long[words] : null;
    }

    /**
     * The tracker of a writeback cache, starting from the blocks the policy loaded dirty (in the other modes there
     * is none: after a crash every mapped block is loaded dirty, as the kernel does).
     */
    public static DirtyTracker loaded(CachePolicy policy, int cacheBlocks) {
        return loaded(policy, cacheBlocks, 0);
    }

    /** As {@link #loaded(CachePolicy, int)}, with a grace for written-back blocks (see the class comment). */
    public static DirtyTracker loaded(CachePolicy policy, int cacheBlocks, long graceNanos) {
        DirtyTracker t = new DirtyTracker(cacheBlocks, graceNanos, System::nanoTime);
        policy.forEachMapping((c, o, dirty, hint) -> {
            if (dirty) {
                t.loaded(c);
            }
        });
        return t;
    }

    public int blocks() {
        return blocks;
    }

    /** A block loaded dirty (before the first commit). */
    public void loaded(int c) {
        next[c >>> 6] |= 1L << c;
    }

    /**
     * Cache block {@code c}'s data is about to change (the caller holds the block's exclusive lock): marks it
     * dirty for the next commit; true when the disk already says dirty, false when the caller must wait for a
     * commit (one that starts after this call) before it writes.
     */
    public boolean beforeWrite(int c) {
        int w = c >>> 6;
        long bit = 1L << c;
        if (pending != null && ((long) WORDS.getVolatile(pending, w) & bit) != 0) {
            WORDS.getAndBitwiseAnd(pending, w, ~bit); // written again: no longer on its way to clean
        }
        if (((long) WORDS.getVolatile(next, w) & bit) == 0) {
            WORDS.getAndBitwiseOr(next, w, bit);
            CHANGED.setVolatile(this, true);
        }
        int s = (int) SEQ.getVolatile(this);
        boolean d = (s & 1) == 0 && ((long) WORDS.getVolatile(durable, w) & bit) != 0
                && (int) SEQ.getVolatile(this) == s;
        if (!d && hot != null && ((long) WORDS.getVolatile(hot, w) & bit) == 0) {
            WORDS.getAndBitwiseOr(hot, w, bit); // it waited once: its write-backs get the grace from now on
        }
        return d;
    }

    /** Cache block {@code c} was written back (its data is durable on the origin): clean from the next commit on. */
    public void cleaned(int c) {
        if (pending != null && ((long) WORDS.getVolatile(hot, c >>> 6) & (1L << c)) != 0) {
            WORDS.getAndBitwiseOr(pending, c >>> 6, 1L << c);
            anyPending = true;
            return;
        }
        WORDS.getAndBitwiseAnd(next, c >>> 6, ~(1L << c));
        CHANGED.setVolatile(this, true);
    }

    /**
     * Cache block {@code c} is being mapped to a new origin block (inside the commit gate's update side, with the
     * mapping's insertion): {@code dirty} when its data already differs from the origin (a whole-block write).
     * The disk's old bit of {@code c} is not trusted for the new block.
     */
    public void promoted(int c, boolean dirty) {
        int w = c >>> 6;
        long bit = 1L << c;
        if (dirty) {
            WORDS.getAndBitwiseOr(next, w, bit);
        } else {
            WORDS.getAndBitwiseAnd(next, w, ~bit);
        }
        WORDS.getAndBitwiseAnd(durable, w, ~bit);
        if (pending != null) {
            WORDS.getAndBitwiseAnd(pending, w, ~bit);
            WORDS.getAndBitwiseAnd(aged, w, ~bit);
            WORDS.getAndBitwiseAnd(hot, w, ~bit);
        }
        WORDS.getAndBitwiseOr(resend, w >>> 6, 1L << w);
        CHANGED.setVolatile(this, true);
    }

    /** Whether any bit changed since the last snapshot. */
    public boolean changed() {
        return (boolean) CHANGED.getVolatile(this) || anyPending && graceOver();
    }

    private boolean graceOver() {
        return nanoClock.getAsLong() - agedAt >= graceNanos;
    }

    /** Where the words to write are: all of them ({@link #snapshotWords()}) the first time, else the changed ones. */
    public boolean firstCommit() {
        return !sentKnown;
    }

    /**
     * Takes the next commit's bits (under the commit gate's exclusive side); returns how many words changed, whose
     * indexes and values are then in {@link #changedIndexes()} and {@link #changedValues()} (at the first commit: all
     * of them, to be written from {@link #snapshotWords()}).
     */
    public int snapshot() {
        CHANGED.setVolatile(this, false);
        int s = (int) SEQ.getVolatile(this);
        SEQ.setVolatile(this, s + 1);
        int n = 0;
        try {
            if (pending != null && anyPending && graceOver()) {
                age();
            }
            // the words are compared (or, the first time, copied into sent) as they are read, under the odd
            // sequence: what the commit writes is exactly what it dropped from durable against
            for (int i = 0; i < resend.length; i++) {
                long r = (long) WORDS.getVolatile(resend, i);
                if (r != 0) {
                    WORDS.setVolatile(resend, i, 0L); // no promotion runs meanwhile (the commit gate's exclusive side)
                }
                int end = Math.min(next.length, (i + 1) << 6);
                for (int w = i << 6; w < end; w++) {
                    long t = (long) WORDS.getVolatile(next, w);
                    long d = (long) WORDS.getVolatile(durable, w);
                    if ((d & ~t) != 0) {
                        WORDS.setVolatile(durable, w, d & t);
                    }
                    if (!sentKnown) {
                        sent[w] = t; // the first commit writes every word from snapshotWords()
                    } else if (t != sent[w] || (r & (1L << w)) != 0) {
                        n = addChanged(n, w, t);
                    }
                }
            }
        } finally {
            SEQ.setVolatile(this, s + 2);
        }
        changedCount = sentKnown ? n : 0;
        return sentKnown ? n : next.length;
    }

    private int addChanged(int n, int w, long value) {
        if (n == changedIdx.length) {
            changedIdx = Arrays.copyOf(changedIdx, n * 2);
            changedVal = Arrays.copyOf(changedVal, n * 2);
        }
        changedIdx[n] = w;
        changedVal[n] = value;
        return n + 1;
    }

    /**
     * Clears the bits of the blocks pending since the last ageing (under the odd sequence) and starts the next
     * grace period with those pending now.
     */
    private void age() {
        anyPending = false; // before the pass: a write-back meanwhile sets it again
        boolean left = false;
        for (int w = 0; w < pending.length; w++) {
            long p = (long) WORDS.getVolatile(pending, w);
            long ripe = p & aged[w];
            if (ripe != 0) {
                WORDS.getAndBitwiseAnd(next, w, ~ripe);
                WORDS.getAndBitwiseAnd(hot, w, ~ripe); // cooled down: its next write-back is committed at once
                p = (long) WORDS.getAndBitwiseAnd(pending, w, ~ripe) & ~ripe;
            }
            aged[w] = p;
            left |= p != 0;
        }
        if (left) {
            anyPending = true;
        }
        agedAt = nanoClock.getAsLong();
    }

    /**
     * Whether the last snapshot ({@code n} words changed) makes any block clean on disk, or may: then the commit
     * must first make the origin durable (a write-back's data, a bit aged out of its grace). A snapshot that only
     * marks blocks dirty needs nothing forced before it.
     */
    public boolean snapshotCleans(int n) {
        if (!sentKnown) {
            return true;
        }
        for (int i = 0; i < n; i++) {
            int w = (int) changedIdx[i];
            if ((sent[w] & ~changedVal[i]) != 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Every word of the committed bits (one bit per cache block): between the first {@link #snapshot()} and its
     * {@link #committed()}, that snapshot (what the first commit writes); after a {@link #committed()}, the bits
     * it committed.
     */
    public long[] snapshotWords() {
        return sent;
    }

    public long[] changedIndexes() {
        return changedIdx;
    }

    public long[] changedValues() {
        return changedVal;
    }

    /** The commit of the last snapshot completed: its bits are the disk's. */
    public void committed() {
        if (sentKnown) {
            for (int i = 0; i < changedCount; i++) {
                sent[(int) changedIdx[i]] = changedVal[i];
            }
        }
        // durable becomes the committed bits: sent now, as the snapshot had them (a word the snapshot did not
        // change is sent's already)
        for (int w = 0; w < sent.length; w++) {
            WORDS.setVolatile(durable, w, sent[w]);
        }
        sentKnown = true;
        giveBackChanged();
    }

    /** The commit of the last snapshot failed: the metadata holds the bits it held before (the transaction was rolled back). */
    public void commitFailed() {
        // durable already holds only bits both the old and the new state have; sent still describes the disk
        // (after a failed first commit it holds that commit's snapshot: the disk's bits stay unknown)
        CHANGED.setVolatile(this, true);
        if (!sentKnown) {
            Arrays.fill(sent, 0);
        }
        giveBackChanged();
    }

    private void giveBackChanged() {
        changedCount = 0;
        if (changedIdx.length > KEPT_CHANGED) {
            changedIdx = new long[KEPT_CHANGED];
            changedVal = new long[KEPT_CHANGED];
        }
    }

    /** The changed-word buffers' length now (for tests). */
    int changedCapacity() {
        return changedIdx.length;
    }

    /** Blocks marked dirty for the next commit (for tests and status). */
    public int nextCount() {
        int n = 0;
        for (int w = 0; w < next.length; w++) {
            n += Long.bitCount((long) WORDS.getVolatile(next, w));
        }
        return n;
    }
}
