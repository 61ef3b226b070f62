package io.jdmcache.engine.core;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.ForwardingBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The origin of a writeback cache over a remote device: a {@link #flush()} reaches the device only when a write
 * went to it since the last flush. The metadata commit (every second, and on each client FLUSH) flushes the
 * origin before it records anything, which in writeback is needed only for writes that went to the origin
 * directly (write misses the cache did not take): write-backs flush the origin themselves before their blocks
 * turn clean. So commits do not wait for a slow or unreachable origin unless data the client wrote is only
 * there.
 */
public final class DeferredFlushOrigin extends ForwardingBlockDevice {
    private final AtomicBoolean written = new AtomicBoolean();

    public DeferredFlushOrigin(BlockDevice origin) {
        super(origin);
    }

    /** Wraps {@code origin} when the cache is in writeback and the origin is remote; else returns it as it is. */
    public static BlockDevice forMode(BlockDevice origin, boolean writeback) {
        return writeback && origin.isRemote() ? new DeferredFlushOrigin(origin) : origin;
    }

    /** The device itself. */
    public BlockDevice device() {
        return dev;
    }

    /** Whether a write reached the origin since the last flush. */
    public boolean hasUnflushedWrites() {
        return written.get();
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        dev.write(offset, src);
        written.set(true);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        dev.writeZeroes(offset, length);
        written.set(true);
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        dev.discard(offset, length);
        written.set(true);
    }

    /**
     * Flushes the origin if a write reached it since the last flush (a write completed later sets it again).
     * Flushes run one at a time, so one that finds nothing to do returns only after the flush in progress,
     * which covers what it would have, has completed.
     */
    @Override
    public synchronized void flush() throws IOException {
        if (written.getAndSet(false)) {
            try {
                dev.flush();
            } catch (IOException | RuntimeException e) {
                written.set(true);
                throw e;
            }
        }
    }

    @Override
    public boolean isRemote() {
        return true;
    }
}
