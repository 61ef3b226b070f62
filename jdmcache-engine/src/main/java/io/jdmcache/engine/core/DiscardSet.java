package io.jdmcache.engine.core;

import java.io.IOException;
import java.util.Arrays;

/**
 * Which origin blocks are discarded (the whole block discarded and not written since): one bit per origin
 * block, the discard block size being the cache block size. A discarded block is not promoted by reads. The
 * bits are hints: they are saved at a clean shutdown and forgotten after a crash.
 *
 * <p>Bits change under the block's exclusive lock (see {@link BlockLocks}); the words they share are
 * updated under this object's monitor.
 */
public final class DiscardSet {
    private final long originBlocks;
    private final long[] bits;
    private long[] stored;

    public DiscardSet(long originBlocks) {
        this.originBlocks = originBlocks;
        this.bits = new long[(int) ((originBlocks + 63) >>> 6)];
        this.stored = bits;
    }

    /** Marks a block loaded from the metadata as discarded (before any I/O). Blocks beyond the end are ignored. */
    public void load(long b) {
        if (b < originBlocks) {
            bits[(int) (b >>> 6)] |= 1L << b;
        }
    }

    /** Forgets every bit loaded (the stored bits were for another discard block size). */
    public void clearLoaded() {
        Arrays.fill(bits, 0);
    }

    /**
     * Ends loading: records what the metadata holds now, so a clean shutdown writes only the changes. With
     * {@code storedHasThem} false (the metadata's bitset was resized and lost them) every set bit counts as a
     * change.
     */
    public void endLoad(boolean storedHasThem) {
        stored = storedHasThem ? bits.clone() : new long[bits.length];
    }

    public boolean isDiscarded(long b) {
        return b >= 0 && b < originBlocks && bit(b);
    }

    /** For blocks known to be below the origin's end: the hot path's test. */
    public boolean bit(long b) {
        return (bits[(int) (b >>> 6)] & (1L << b)) != 0;
    }

    public void mark(long b) {
        synchronized (this) {
            bits[(int) (b >>> 6)] |= 1L << b;
        }
    }

    /** Clears a block's bit (it is being written). */
    public void clear(long b) {
        if (bit(b)) {
            synchronized (this) {
                bits[(int) (b >>> 6)] &= ~(1L << b);
            }
        }
    }

    /** Where the changed bits go at a clean shutdown. */
    @FunctionalInterface
    public interface Sink {
        void set(long block, boolean discarded) throws IOException;
    }

    /** Hands every bit that differs from what the metadata holds to {@code sink}. */
    public void saveChanges(Sink sink) throws IOException {
        for (int i = 0; i < bits.length; i++) {
            long diff = bits[i] ^ stored[i];
            while (diff != 0) {
                int bit = Long.numberOfTrailingZeros(diff);
                diff &= diff - 1;
                long d = ((long) i << 6) + bit;
                sink.set(d, (bits[i] & (1L << bit)) != 0);
            }
        }
    }
}
