package io.jdmcache.nbd;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Direct buffers in power-of-two size classes from 4 KiB to 64 MiB, reused across requests so that socket and
 * file I/O need no temporary copies. Each class keeps at most {@code max(2, 64 MiB / class size)} idle buffers
 * (at most 64); what does not fit is left to the garbage collector.
 *
 * <p>The buffers handed out at once are held to a budget (by default three quarters of the JVM's direct
 * memory), so that running out is an ordinary, checked condition ({@link NoBufferMemoryException}: the request
 * is answered with an error and the connection goes on) and never an {@link OutOfMemoryError} to be caught.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 26;
    private static final long IDLE_BYTES_PER_CLASS = 64L << 20;

    /** No buffer can be handed out now without going over the pool's budget. */
    static final class NoBufferMemoryException extends IOException {
        private static final long serialVersionUID = 1L;

        NoBufferMemoryException(String message) {
            super(message);
        }
    }

    private final ConcurrentLinkedQueue<ByteBuffer>[] idle;
    private final AtomicIntegerArray idleCount = new AtomicIntegerArray(MAX_SHIFT + 1);
    private final long budget;
    private final AtomicLong handedOut = new AtomicLong();

    BufferPool() {
        this(defaultBudget());
    }

    /** The JVM's direct memory limit ({@code -XX:MaxDirectMemorySize}, else the heap's), three quarters of it. */
    static long defaultBudget() {
        long max = Runtime.getRuntime().maxMemory();
        try {
            var vm = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            long set = Long.parseLong(vm.getVMOption("MaxDirectMemorySize").getValue());
            if (set > 0) {
                max = set;
            }
        } catch (RuntimeException | LinkageError e) {
            // not HotSpot: the heap's size, which is HotSpot's default too
        }
        return Math.max(64L << 20, max / 4 * 3);
    }

    /** @param budget the most bytes of buffers handed out at once */
    @SuppressWarnings("unchecked")
    BufferPool(long budget) {
        this.budget = budget;
        idle = new ConcurrentLinkedQueue[MAX_SHIFT + 1];
        for (int s = MIN_SHIFT; s <= MAX_SHIFT; s++) {
            idle[s] = new ConcurrentLinkedQueue<>();
        }
    }

    private static int shiftFor(int size) {
        int s = 32 - Integer.numberOfLeadingZeros(Math.max(size, 1) - 1);
        return Math.max(s, MIN_SHIFT);
    }

    private static int keep(int shift) {
        return (int) Math.min(64, Math.max(2, IDLE_BYTES_PER_CLASS >> shift));
    }

    /**
     * A cleared buffer with position 0 and limit {@code size}, to be given back with {@link #release}.
     *
     * @throws NoBufferMemoryException when the buffers handed out would go over the budget
     */
    ByteBuffer get(int size) throws NoBufferMemoryException {
        int s = shiftFor(size);
        if (s > MAX_SHIFT) {
            throw new IllegalArgumentException("buffer of " + size + " bytes exceeds the pool's largest class");
        }
        long cap = 1L << s;
        long now = handedOut.addAndGet(cap);
        if (now > budget) {
            handedOut.addAndGet(-cap);
            throw new NoBufferMemoryException("out of buffer memory: " + ((now - cap) >> 20) + " MiB of "
                    + (budget >> 20) + " MiB in use");
        }
        ByteBuffer b = idle[s].poll();
        if (b == null) {
            b = ByteBuffer.allocateDirect(1 << s);
        } else {
            idleCount.decrementAndGet(s);
        }
        b.clear().limit(size);
        return b;
    }

    /** Bytes of buffers handed out and not released. */
    long handedOut() {
        return handedOut.get();
    }

    /** Gives back a buffer {@link #get} handed out (null is ignored). */
    void release(ByteBuffer b) {
        if (b == null || !b.isDirect() || Integer.bitCount(b.capacity()) != 1) {
            return;
        }
        int s = Integer.numberOfTrailingZeros(b.capacity());
        if (s < MIN_SHIFT || s > MAX_SHIFT) {
            return;
        }
        handedOut.addAndGet(-b.capacity());
        if (idleCount.incrementAndGet(s) <= keep(s)) {
            idle[s].offer(b);
        } else {
            idleCount.decrementAndGet(s);
        }
    }
}
