package io.jdmcache.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The storage behind one NBD export. The server checks every request against {@link #size()} and
 * {@link #isReadOnly()} before calling in, so implementations only see in-range requests; they are called
 * concurrently from several worker threads (and from several connections when {@link #canMultiConn()}).
 *
 * <p>Durability contract (the cache engine must honour it): a {@link #write} may return once the data is in
 * volatile storage; {@link #flush()} returns only when every write that already returned is persistent; a
 * write, trim or writeZeroes with {@code fua} set returns only when its own data is persistent.
 */
public interface NbdBackend extends Closeable {
    /** {@code base:allocation} flag: the range is not allocated. */
    int STATE_HOLE = 1;
    /** {@code base:allocation} flag: the range reads as zeroes. */
    int STATE_ZERO = 2;

    /** Export size in bytes; constant while the export is served. */
    long size();

    /** Fills {@code dst} (all its remaining bytes) with the content at {@code offset}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Stores all remaining bytes of {@code src} at {@code offset}; with {@code fua}, persistently. */
    void write(long offset, ByteBuffer src, boolean fua) throws IOException;

    /** Makes every write that already returned persistent. */
    void flush() throws IOException;

    /**
     * A hint that the range is no longer needed: the backend may discard it (its content is then undefined
     * until rewritten) or do nothing.
     */
    void trim(long offset, long length) throws IOException;

    /**
     * Makes the range read as zeroes. Without {@code noHole} the backend may deallocate it; with it the range
     * must stay allocated.
     */
    void writeZeroes(long offset, long length, boolean noHole) throws IOException;

    /** Whether {@link #writeZeroes} is faster than writing a buffer of zeroes (decides NBD's FAST_ZERO). */
    default boolean canFastZero() {
        return false;
    }

    /** Persists a range just written by trim or writeZeroes; the default flushes everything. */
    default void flushRange(long offset, long length) throws IOException {
        flush();
    }

    /**
     * Allocation status of {@code [offset, offset+length)}: extents in order starting at {@code offset},
     * together covering at least a prefix of the range (the client asks again for the rest). The default
     * reports one extent of allocated data.
     */
    default List<Extent> blockStatus(long offset, long length) throws IOException {
        return List.of(new Extent(length, 0));
    }

    /** A prefetch hint (NBD_CMD_CACHE); the default does nothing. */
    default void cache(long offset, long length) throws IOException {
    }

    boolean isReadOnly();

    /** Smallest request alignment the backend handles (a power of two, at most 64 KiB). */
    default int minimumBlockSize() {
        return 1;
    }

    /** Alignment and size the backend serves best (a power of two, at least 512). */
    default int preferredBlockSize() {
        return 4096;
    }

    /**
     * True only when every connection to this export shares one coherent backend: a flush on any connection
     * covers writes completed on all, and a write is visible to reads on all once it returned.
     */
    boolean canMultiConn();

    @Override
    void close() throws IOException;
}
