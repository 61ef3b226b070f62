package io.jdmcache.engine.bench;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.ForwardingBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.LockSupport;

/**
 * A device wrapper that behaves like a slow disk: each read or write costs a fixed latency plus its size over
 * the bandwidth, and at most {@code queueDepth} requests are serviced at once (1 = a single spindle). Flushes
 * cost one latency.
 */
public final class SlowDevice extends ForwardingBlockDevice {
    private final long latencyNanos;
    private final double nanosPerByte;
    private final Semaphore queue;

    /**
     * @param latencyNanos     per request
     * @param bytesPerSecond   bandwidth cap (0 = none)
     * @param queueDepth       requests serviced concurrently
     */
    public SlowDevice(BlockDevice inner, long latencyNanos, long bytesPerSecond, int queueDepth) {
        super(inner);
        this.latencyNanos = latencyNanos;
        this.nanosPerByte = bytesPerSecond <= 0 ? 0 : 1e9 / bytesPerSecond;
        this.queue = new Semaphore(queueDepth, true);
    }

    private void service(long bytes) throws IOException {
        long cost = latencyNanos + (long) (bytes * nanosPerByte);
        long end = System.nanoTime() + cost;
        try {
            queue.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        try {
            end = System.nanoTime() + cost;
            long left;
            while ((left = end - System.nanoTime()) > 0) {
                LockSupport.parkNanos(left);
            }
        } finally {
            queue.release();
        }
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        service(dst.remaining());
        dev.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        service(src.remaining());
        dev.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        service(0);
        dev.flush();
    }

    @Override
    public String name() {
        return "slow(" + dev.name() + ")";
    }
}
