package io.jdmcache.engine.core;

import java.util.Arrays;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The bio prison: locks over origin blocks, striped (a fixed table of read-write locks indexed by the low bits
 * of the origin block, so the table's size does not grow with the cache). Reads share a block's lock; writes
 * and migrations hold it exclusively, so a migration never races a write to its block.
 *
 * <p>Whoever takes several stripes takes them in ascending stripe order (every method here does), so two
 * holders of several stripes never deadlock. A {@link Hold} releases what it took when closed:
 * {@code try (BlockLocks.Hold h = locks.exclusive(b)) { ... }}.
 */
public final class BlockLocks {
    /** Stripes in the table (a power of two). */
    public static final int STRIPES = 4096;

    private final ReentrantReadWriteLock[] stripes = new ReentrantReadWriteLock[STRIPES];

    public BlockLocks() {
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantReadWriteLock();
        }
    }

    private static int stripe(long oblock) {
        return (int) (oblock & (STRIPES - 1));
    }

    /** Shares the lock of one origin block. */
    public Hold shared(long oblock) {
        return take(new int[] {stripe(oblock)}, 1, false);
    }

    /** Holds the lock of one origin block exclusively. */
    public Hold exclusive(long oblock) {
        return take(new int[] {stripe(oblock)}, 1, true);
    }

    /** Shares the locks of origin blocks {@code first..last}. */
    public Hold shared(long first, long last) {
        int count = (int) (last - first + 1);
        int[] order = new int[count];
        for (int k = 0; k < count; k++) {
            order[k] = stripe(first + k);
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
        Hold h = new Hold(order, exclusive);
        for (int k = 0; k < count; k++) {
            if (k == 0 || order[k] != order[k - 1]) {
                ReentrantReadWriteLock l = stripes[order[k]];
                if (exclusive) {
                    l.writeLock().lock();
                } else {
                    l.readLock().lock();
                }
                order[h.held++] = order[k];
            }
        }
        return h;
    }

    /** Locks taken together; {@link #close()} releases them in the reverse order. */
    public final class Hold implements AutoCloseable {
        private final int[] taken;
        private final boolean exclusive;
        private int held;

        private Hold(int[] taken, boolean exclusive) {
            this.taken = taken;
            this.exclusive = exclusive;
        }

        @Override
        public void close() {
            for (int k = held - 1; k >= 0; k--) {
                ReentrantReadWriteLock l = stripes[taken[k]];
                if (exclusive) {
                    l.writeLock().unlock();
                } else {
                    l.readLock().unlock();
                }
            }
            held = 0;
        }
    }
}
