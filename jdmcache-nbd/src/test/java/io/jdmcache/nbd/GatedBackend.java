package io.jdmcache.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test backend around another one: calls touching {@code gateOffset} block until {@link #open()}; it also
 * counts flushes and closes, can report a fixed block status and can fail reads from an offset on.
 */
final class GatedBackend implements NbdBackend {
    private final NbdBackend inner;
    private final long gateOffset;
    final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);
    final AtomicInteger flushes = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    final AtomicInteger fuaWrites = new AtomicInteger();
    volatile List<Extent> extents;
    /** Reads at or past this offset fail with an I/O error. */
    volatile long failReadsFrom = Long.MAX_VALUE;

    GatedBackend(NbdBackend inner, long gateOffset) {
        this.inner = inner;
        this.gateOffset = gateOffset;
    }

    void open() {
        gate.countDown();
    }

    private void maybeWait(long offset) throws IOException {
        if (offset == gateOffset) {
            entered.countDown();
            try {
                if (!gate.await(60, TimeUnit.SECONDS)) {
                    throw new IOException("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset >= failReadsFrom) {
            throw new IOException("medium error at " + offset);
        }
        maybeWait(offset);
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        maybeWait(offset);
        if (fua) {
            fuaWrites.incrementAndGet();
        }
        inner.write(offset, src, fua);
    }

    @Override
    public void flush() throws IOException {
        flushes.incrementAndGet();
        inner.flush();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        inner.trim(offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole) throws IOException {
        inner.writeZeroes(offset, length, noHole);
    }

    @Override
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        List<Extent> e = extents;
        return e != null ? e : inner.blockStatus(offset, length);
    }

    @Override
    public boolean isReadOnly() {
        return inner.isReadOnly();
    }

    @Override
    public boolean canMultiConn() {
        return inner.canMultiConn();
    }

    @Override
    public void close() throws IOException {
        closes.incrementAndGet();
        inner.close();
    }
}
