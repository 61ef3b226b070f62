package io.jdmcache.engine;

import io.jdmcache.pdata.io.BlockDevice;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A test device around another one with a gate: once armed, the next flush, write or read (or, armed for all,
 * every one) blocks until the gate is opened; later calls pass. {@link #entered} tells that a call is held at
 * the gate.
 */
final class GatedDevice implements BlockDevice {
    enum Op { FLUSH, WRITE, READ }

    private final BlockDevice inner;
    private volatile Op armed;
    private volatile boolean everyCall;
    private final AtomicBoolean taken = new AtomicBoolean();
    final CountDownLatch entered = new CountDownLatch(1);
    private final CountDownLatch gate = new CountDownLatch(1);

    GatedDevice(BlockDevice inner) {
        this.inner = inner;
    }

    /** The next call of this kind waits at the gate. */
    void arm(Op op) {
        armed = op;
    }

    /** Every call of this kind waits at the gate until it opens. */
    void armAll(Op op) {
        everyCall = true;
        armed = op;
    }

    /** Lets the held call (and every later one) through. */
    void open() {
        armed = null;
        gate.countDown();
    }

    private void maybeWait(Op op) throws IOException {
        if (armed == op && (everyCall || taken.compareAndSet(false, true))) {
            entered.countDown();
            try {
                if (!gate.await(60, TimeUnit.SECONDS)) {
                    throw new IOException("the gate was never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException();
            }
        }
    }

    @Override
    public long size() throws IOException {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        maybeWait(Op.READ);
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        maybeWait(Op.WRITE);
        inner.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        maybeWait(Op.FLUSH);
        inner.flush();
    }

    @Override
    public boolean isReadOnly() {
        return inner.isReadOnly();
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
