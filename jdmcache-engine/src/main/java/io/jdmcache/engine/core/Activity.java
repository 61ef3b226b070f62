package io.jdmcache.engine.core;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the background side needs to know about foreground I/O: whether any came lately (the idle test that
 * lets every dirty block be written back), and which I/O is tagged to tick the policy when it completes
 * (one at a time, the kernel's {@code need_tick_bio}).
 *
 * <p>The foreground only raises a flag (no clock read per I/O); {@link #idle()}, which the migration workers
 * ask whenever they look for work (at least at every timer tick), takes the flag down and notes the time. So
 * the last I/O's time is known to within the interval between those looks, and the origin counts as idle at
 * most that much later than {@code idleNanos} after the last I/O.
 */
public final class Activity {
    private final long idleNanos;
    private volatile boolean ioSeen;
    private volatile long lastIoNanos = System.nanoTime();
    private final AtomicBoolean tickTagged = new AtomicBoolean();

    /** @param idleNanos how long without foreground I/O counts as idle */
    public Activity(long idleNanos) {
        this.idleNanos = idleNanos;
    }

    /** Notes foreground I/O: the shared flag is written only when {@link #idle()} took it down since. */
    public void touch() {
        if (!ioSeen) {
            ioSeen = true;
        }
    }

    public boolean idle() {
        long now = System.nanoTime();
        if (ioSeen) {
            ioSeen = false;
            lastIoNanos = now;
        }
        return now - lastIoNanos >= idleNanos;
    }

    /** Tags this I/O for the policy tick if no other I/O is tagged (test before set: no contended CAS). */
    public boolean tagForTick() {
        return !tickTagged.get() && tickTagged.compareAndSet(false, true);
    }

    /** The tagged I/O completed (after it ticked the policy). */
    public void untag() {
        tickTagged.set(false);
    }
}
