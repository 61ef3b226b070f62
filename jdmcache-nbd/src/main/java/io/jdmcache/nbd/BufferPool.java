package io.jdmcache.nbd;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Direct buffers in power-of-two size classes from 4 KiB to 64 MiB, reused across requests so that socket and
 * file I/O need no temporary copies. Each class keeps at most {@code max(2, 64 MiB / class size)} idle buffers
 * (at most 64); what does not fit is left to the garbage collector.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12;
    private static final int MAX_SHIFT = 26;
    private static final long IDLE_BYTES_PER_CLASS = 64L << 20;

    private final ConcurrentLinkedQueue<ByteBuffer>[] idle;
    private final AtomicIntegerArray idleCount = new AtomicIntegerArray(MAX_SHIFT + 1);

    @SuppressWarnings("unchecked")
    BufferPool() {
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

    /** A cleared buffer with position 0 and limit {@code size}. */
    ByteBuffer get(int size) {
        int s = shiftFor(size);
        if (s > MAX_SHIFT) {
            throw new IllegalArgumentException("buffer of " + size + " bytes exceeds the pool's largest class");
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

    void release(ByteBuffer b) {
        if (b == null || !b.isDirect() || Integer.bitCount(b.capacity()) != 1) {
            return;
        }
        int s = Integer.numberOfTrailingZeros(b.capacity());
        if (s < MIN_SHIFT || s > MAX_SHIFT) {
            return;
        }
        if (idleCount.incrementAndGet(s) <= keep(s)) {
            idle[s].offer(b);
        } else {
            idleCount.decrementAndGet(s);
        }
    }
}
