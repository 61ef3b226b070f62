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
 * A write checks {@code durable} under a sequence counter that a commit makes odd while it takes its snapshot of
 * {@code next} and drops from {@code durable} what the snapshot no longer has; a write that finds its block
 * not durably dirty waits for a commit that starts after it set {@code next}. Callers hold the block's exclusive
 * lock for {@link #beforeWrite} and {@link #cleaned}; {@link #promoted} runs inside the commit gate's update
 * side, the commit methods under its exclusive side.
 */
public final class DirtyTracker {
    private static final VarHandle WORDS = MethodHandles.arrayElementVarHandle(long[].class);
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
    private final long[] snapshot;
    private final long[] changedIdx;
    private final long[] changedVal;
    /** False until the first commit has written every word (the disk's bits are unknown before). */
    private boolean sentKnown;
    @SuppressWarnings("unused") // through SEQ
    private volatile int seq;
    @SuppressWarnings("unused") // through CHANGED
    private volatile boolean changed;

    public DirtyTracker(int cacheBlocks) {
        this.blocks = cacheBlocks;
        int words = (cacheBlocks + 63) >>> 6;
        this.next = new long[words];
        this.durable = new long[words];
        this.sent = new long[words];
        this.resend = new long[(words + 63) >>> 6];
        this.snapshot = new long[words];
        this.changedIdx = new long[words];
        this.changedVal = new long[words];
    }

    /**
     * The tracker of a writeback cache, starting from the blocks the policy loaded dirty (in the other modes there
     * is none: after a crash every mapped block is loaded dirty, as the kernel does).
     */
    public static DirtyTracker loaded(CachePolicy policy, int cacheBlocks) {
        DirtyTracker t = new DirtyTracker(cacheBlocks);
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
        if (((long) WORDS.getVolatile(next, w) & bit) == 0) {
            WORDS.getAndBitwiseOr(next, w, bit);
            CHANGED.setVolatile(this, true);
        }
        int s = (int) SEQ.getVolatile(this);
        if ((s & 1) != 0) {
            return false;
        }
        boolean d = ((long) WORDS.getVolatile(durable, w) & bit) != 0;
        return d && (int) SEQ.getVolatile(this) == s;
    }

    /** Cache block {@code c} was written back (its data is durable on the origin): clean from the next commit on. */
    public void cleaned(int c) {
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
        WORDS.getAndBitwiseOr(resend, w >>> 6, 1L << w);
        CHANGED.setVolatile(this, true);
    }

    /** Whether any bit changed since the last snapshot. */
    public boolean changed() {
        return (boolean) CHANGED.getVolatile(this);
    }

    /** Where the words to write are: all of them ({@link #snapshotWords()}) the first time, else the changed ones. */
    public boolean firstCommit() {
        return !sentKnown;
    }

    /**
     * Takes the next commit's bits (under the commit gate's exclusive side); returns how many words changed, whose
     * indexes and values are then in {@link #changedIndexes()} and {@link #changedValues()}.
     */
    public int snapshot() {
        CHANGED.setVolatile(this, false);
        int s = (int) SEQ.getVolatile(this);
        SEQ.setVolatile(this, s + 1);
        try {
            for (int w = 0; w < next.length; w++) {
                long t = (long) WORDS.getVolatile(next, w);
                snapshot[w] = t;
                long d = (long) WORDS.getVolatile(durable, w);
                if ((d & ~t) != 0) {
                    WORDS.setVolatile(durable, w, d & t);
                }
            }
        } finally {
            SEQ.setVolatile(this, s + 2);
        }
        int n = 0;
        for (int w = 0; w < snapshot.length; w++) {
            long r = (long) WORDS.getVolatile(resend, w >>> 6);
            boolean again = (r & (1L << w)) != 0;
            if (again) {
                WORDS.getAndBitwiseAnd(resend, w >>> 6, ~(1L << w));
            }
            if (!sentKnown || again || snapshot[w] != sent[w]) {
                changedIdx[n] = w;
                changedVal[n] = snapshot[w];
                n++;
            }
        }
        return n;
    }

    /** The words of the last snapshot, all of them (one bit per cache block). */
    public long[] snapshotWords() {
        return snapshot;
    }

    public long[] changedIndexes() {
        return changedIdx;
    }

    public long[] changedValues() {
        return changedVal;
    }

    /** The commit of the last snapshot completed: its bits are the disk's. */
    public void committed() {
        for (int w = 0; w < snapshot.length; w++) {
            long t = snapshot[w];
            sent[w] = t;
            WORDS.setVolatile(durable, w, t);
        }
        sentKnown = true;
    }

    /** The commit of the last snapshot failed: the metadata holds the bits it held before (the transaction was rolled back). */
    public void commitFailed() {
        // durable already holds only bits both the old and the new state have; sent still describes the disk
        CHANGED.setVolatile(this, true);
        if (!sentKnown) {
            Arrays.fill(sent, 0);
        }
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
