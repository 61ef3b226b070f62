package io.jdmcache.engine.core;

import java.util.Arrays;
import java.util.concurrent.locks.StampedLock;

/**
 * The bio prison: locks over origin blocks, striped (a fixed table of read-write locks indexed by the low bits
 * of the origin block, so the table's size does not grow with the cache). Reads share a block's lock; writes
 * and migrations that change a mapping hold it exclusively, so a migration never races a write to its block.
 * A write-back (which changes no mapping, only the dirty bit) shares it, as the kernel's write-back takes its
 * cell at WRITE_LOCK_LEVEL: writes wait for it, reads of the block go on from the cache.
 *
 * <p>The stripes are {@link StampedLock}s, whose read side is one compare-and-set each way (no per-thread hold
 * counts): they are not reentrant, and nothing here takes a block's lock while holding it. Whoever takes
 * several stripes takes them in ascending stripe order (every method here does), so two holders of several
 * stripes never deadlock. A {@link Hold} releases what it took when closed:
 * {@code try (BlockLocks.Hold h = locks.exclusive(b)) { ... }}.
 */
public final class BlockLocks {
    /** Stripes in the table (a power of two). */
    public static final int STRIPES = 4096;

    private final StampedLock[] stripes = new StampedLock[STRIPES];

    public BlockLocks() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new StampedLock();
        }
    }

    private static int stripe(long oblock) {
        return (int) (oblock & (STRIPES - 1));
    }

    /** Locks taken together; {@link #close()} releases them. */
    public abstract static class Hold implements AutoCloseable {
        @Override
        public abstract void close();
    }

    /** One stripe, the common case: no arrays. */
    private final class One extends Hold {
        private final StampedLock lock;
        private long stamp;

        One(StampedLock lock, long stamp) {
            this.lock = lock;
            this.stamp = stamp;
        }

        @Override
        public void close() {
            if (stamp != 0) {
                lock.unlock(stamp);
                stamp = 0;
            }
        }
    }

    /**
     * Shares the lock of one origin block without a {@link Hold} (the read path's, which allocates nothing):
     * the stamp to give back to {@link #unlockShared}.
     */
    public long lockShared(long oblock) {
        return stripes[stripe(oblock)].readLock();
    }

    /** Releases what {@link #lockShared} took. */
    public void unlockShared(long oblock, long stamp) {
        stripes[stripe(oblock)].unlockRead(stamp);
    }

    /** Shares the lock of one origin block. */
    public Hold shared(long oblock) {
        StampedLock l = stripes[stripe(oblock)];
        return new One(l, l.readLock());
    }

    /** Holds the lock of one origin block exclusively. */
    public Hold exclusive(long oblock) {
        StampedLock l = stripes[stripe(oblock)];
        return new One(l, l.writeLock());
    }

    /** Shares the locks of origin blocks {@code first..last}. */
    public Hold shared(long first, long last) {
        if (first == last) {
            return shared(first);
        }
        int count = (int) (last - first + 1);
        int[] order = new int[count];
        for (int k = 0; k < count; k++) {
            order[k] = stripe(first + k);
        }
        return take(order, count, false);
    }

    /** Shares the locks of the given origin blocks. */
    public Hold shared(long[] oblocks, int count) {
        int[] order = new int[count];
        for (int k = 0; k < count; k++) {
            order[k] = stripe(oblocks[k]);
        }
        return take(order, count, false);
    }

    /** Holds the locks of the given origin blocks exclusively. */
    public Hold exclusive(long[] oblocks, int count) {
        int[] order = new int[count];
        for (int k = 0; k < count; k++) {
            order[k] = stripe(oblocks[k]);
        }
        return take(order, count, true);
    }

    private Hold take(int[] order, int count, boolean exclusive) {
        Arrays.sort(order, 0, count);
        Many h = new Many(order, new long[count]);
        for (int k = 0; k < count; k++) {
            if (k == 0 || order[k] != order[k - 1]) {
                StampedLock l = stripes[order[k]];
                h.stamps[h.held] = exclusive ? l.writeLock() : l.readLock();
                order[h.held++] = order[k];
            }
        }
        return h;
    }

    /** Several stripes, in ascending order; released in the reverse order. */
    private final class Many extends Hold {
        private final int[] taken;
        private final long[] stamps;
        private int held;

        Many(int[] taken, long[] stamps) {
            this.taken = taken;
            this.stamps = stamps;
        }

        @Override
        public void close() {
            for (int k = held - 1; k >= 0; k--) {
                stripes[taken[k]].unlock(stamps[k]);
            }
            held = 0;
        }
    }
}
