package io.jdmcache.engine.core;

import java.io.InterruptedIOException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Waiting for background work on an origin block to complete, without spinning (the kernel's bio prison puts
 * a bio that meets a migration in the cell, and the migration's completion releases it). Striped as
 * {@link BlockLocks}: each stripe has a completion count, bumped whenever work on one of its blocks completes.
 *
 * <p>A request reads the count of its block's stripe ({@link #ticket}) before it tries; if the try met work in
 * flight, it {@link #await}s a count past its ticket, sleeping until a completion in the stripe wakes it. A
 * completion between the try and the wait is never lost: the ticket predates it. A completion of another block
 * in the same stripe wakes the waiter too; it tries again and, if the block is still busy, waits again.
 */
public final class WorkCompletions {
    /** Stripes (a power of two). */
    static final int STRIPES = 64;
    /** Longs between two stripes' counts, so that each count has a cache line of its own. */
    private static final int PAD = 8;

    private final AtomicLongArray completed = new AtomicLongArray(STRIPES * PAD);
    private final AtomicIntegerArray waiters = new AtomicIntegerArray(STRIPES * PAD * 2);
    private final Object[] monitors = new Object[STRIPES];

    public WorkCompletions() {
        for (int i = 0; i < STRIPES; i++) {
            monitors[i] = new Object();
        }
    }

    private static int stripe(long oblock) {
        return (int) (oblock & (STRIPES - 1));
    }

    /** The completion count of {@code oblock}'s stripe, read before a try that may meet work in flight. */
    public long ticket(long oblock) {
        return completed.get(stripe(oblock) * PAD);
    }

    /** Waits until work on a block of {@code oblock}'s stripe has completed since {@code ticket} was taken. */
    public void await(long oblock, long ticket) throws InterruptedIOException {
        int s = stripe(oblock);
        Object m = monitors[s];
        synchronized (m) {
            waiters.incrementAndGet(s * PAD * 2);
            try {
                while (completed.get(s * PAD) == ticket) {
                    m.wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted waiting for a migration of origin block " + oblock);
            } finally {
                waiters.decrementAndGet(s * PAD * 2);
            }
        }
    }

    /** Work on {@code oblock} completed: wakes whoever waits in its stripe. */
    public void completed(long oblock) {
        int s = stripe(oblock);
        completed.incrementAndGet(s * PAD);
        if (waiters.get(s * PAD * 2) > 0) {
            Object m = monitors[s];
            synchronized (m) {
                m.notifyAll();
            }
        }
    }
}
