package io.jdmcache.engine.core;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the background side needs to know about foreground I/O: when the last one came (the idle test that
 * lets every dirty block be written back), and which I/O is tagged to tick the policy when it completes
 * (one at a time, the kernel's {@code need_tick_bio}).
 */
public final class Activity {
    private final long idleNanos;
    private volatile long lastIoNanos = System.nanoTime();
    private final AtomicBoolean tickTagged = new AtomicBoolean();

    /** @param idleNanos how long without foreground I/O counts as idle */
    public Activity(long idleNanos) {
        this.idleNanos = idleNanos;
    }

    /** Notes foreground I/O; the shared field is written at most about once a millisecond. */
    public void touch() {
        long now = System.nanoTime();
        if (now - lastIoNanos > 1_000_000L) {
            lastIoNanos = now;
        }
    }

    public boolean idle() {
        return System.nanoTime() - lastIoNanos >= idleNanos;
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
