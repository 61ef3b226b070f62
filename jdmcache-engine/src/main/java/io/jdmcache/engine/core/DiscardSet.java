package io.jdmcache.engine.core;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;

/**
 * Which origin blocks are discarded (the whole block discarded and not written since): one bit per origin
 * block, the discard block size being the cache block size. A discarded block is not promoted by reads. The
 * bits are hints: they are saved at a clean shutdown and forgotten after a crash.
 *
 * <p>The bits are kept sparse, in chunks of {@value #CHUNK_BITS} allocated when a bit in them is first set; a
 * chunk whose bits are all set is the one shared {@code FULL} chunk (a device discarded whole, as mkfs does,
 * costs nothing). So an origin with no discards costs 8 bytes per {@value #CHUNK_BITS} blocks, and one bit per
 * block is the most it can cost. A clean shutdown writes the chunks changed since the open (a bit per chunk).
 *
 * <p>Bits change under the block's exclusive lock (see {@link BlockLocks}) and the chunks under this object's
 * monitor; a chunk is published with release semantics, so a lock-free reader of a block sees its bit.
 */
public final class DiscardSet {
    static final int CHUNK_BITS = 4096;
    private static final int CHUNK_SHIFT = 12;
    private static final int WORDS = CHUNK_BITS / 64;
    private static final long[] FULL = full();
    private static final VarHandle CHUNK = MethodHandles.arrayElementVarHandle(long[][].class);

    private final long originBlocks;
    private final long[][] chunks;
    /** Chunks changed since the metadata's bits were loaded: a bit per chunk. */
    private final long[] changed;

    public DiscardSet(long originBlocks) {
        this.originBlocks = originBlocks;
        int n = (int) ((originBlocks + CHUNK_BITS - 1) >>> CHUNK_SHIFT);
        this.chunks = new long[n][];
        this.changed = new long[(n + 63) >>> 6];
    }

    private static long[] full() {
        long[] f = new long[WORDS];
        Arrays.fill(f, -1L);
        return f;
    }

    private long[] chunk(int i) {
        return (long[]) CHUNK.getAcquire(chunks, i);
    }

    /** The chunk holding block {@code b}, made writable (allocated, or copied from FULL). Under the monitor. */
    private long[] writable(long b) {
        int i = (int) (b >>> CHUNK_SHIFT);
        changed[i >>> 6] |= 1L << i;
        long[] c = chunks[i];
        if (c == null || c == FULL) {
            long[] fresh = c == null ? new long[WORDS] : FULL.clone();
            CHUNK.setRelease(chunks, i, fresh);
            return fresh;
        }
        return c;
    }

    private static int word(long b) {
        return (int) (b >>> 6) & (WORDS - 1);
    }

    /** Marks a block loaded from the metadata as discarded (before any I/O). Blocks beyond the end are ignored. */
    public void load(long b) {
        if (b < originBlocks) {
            synchronized (this) {
                writable(b)[word(b)] |= 1L << b;
            }
        }
    }

    /** Forgets every bit loaded (the stored bits were for another discard block size). */
    public synchronized void clearLoaded() {
        Arrays.fill(chunks, null);
    }

    /**
     * Ends loading: what the metadata holds now is what was loaded, so a clean shutdown writes only the changes
     * from here; with {@code storedHasThem} false (the metadata's bitset was resized and lost them) every chunk
     * with a bit set counts as changed. Chunks loaded all set become the shared FULL chunk.
     */
    public synchronized void endLoad(boolean storedHasThem) {
        Arrays.fill(changed, 0);
        for (int i = 0; i < chunks.length; i++) {
            long[] c = chunks[i];
            if (c == null) {
                continue;
            }
            if (c != FULL && Arrays.equals(c, FULL)) {
                CHUNK.setRelease(chunks, i, FULL);
            }
            if (!storedHasThem) {
                changed[i >>> 6] |= 1L << i;
            }
        }
    }

    public boolean isDiscarded(long b) {
        return b >= 0 && b < originBlocks && bit(b);
    }

    /** For blocks known to be below the origin's end: the hot path's test. */
    public boolean bit(long b) {
        long[] c = chunk((int) (b >>> CHUNK_SHIFT));
        return c != null && (c[word(b)] & (1L << b)) != 0;
    }

    public void mark(long b) {
        if (!bit(b)) {
            synchronized (this) {
                writable(b)[word(b)] |= 1L << b;
            }
        }
    }

    /** Clears a block's bit (it is being written). */
    public void clear(long b) {
        if (bit(b)) {
            synchronized (this) {
                writable(b)[word(b)] &= ~(1L << b);
            }
        }
    }

    /** Where the changed bits go at a clean shutdown. */
    @FunctionalInterface
    public interface Sink {
        void set(long block, boolean discarded) throws IOException;
    }

    /** Hands every bit of the chunks changed since the open to {@code sink} (the origin's end clips the last). */
    public synchronized void saveChanges(Sink sink) throws IOException {
        for (int i = 0; i < chunks.length; i++) {
            if ((changed[i >>> 6] & (1L << i)) == 0) {
                continue;
            }
            long[] c = chunks[i];
            long first = (long) i << CHUNK_SHIFT;
            long end = Math.min(originBlocks, first + CHUNK_BITS);
            for (long b = first; b < end; b++) {
                sink.set(b, c != null && (c[word(b)] & (1L << b)) != 0);
            }
        }
    }

    /** Bytes held: the chunk table, the changed bits and the chunks allocated (FULL is shared, not counted). */
    public synchronized long bytes() {
        long n = 8L * chunks.length + 8L * changed.length;
        for (long[] c : chunks) {
            if (c != null && c != FULL) {
                n += 8L * c.length;
            }
        }
        return n;
    }
}
