package io.jdmcache.pdata.testing;

import io.jdmcache.pdata.io.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Wraps a device and fails one chosen I/O (or every I/O from it on) with an {@link IOException}, for fault
 * injection tests. Operations are counted in order: reads, writes and flushes each count one.
 */
public final class FaultyDevice implements BlockDevice {
    /** Which operations count towards the failure point. */
    public enum Kind { READ, WRITE, FLUSH, ANY }

    private final BlockDevice inner;
    private Kind kind = Kind.ANY;
    private long failAt = Long.MAX_VALUE;
    private boolean sticky;
    private long ops;
    private long failures;

    public FaultyDevice(BlockDevice inner) {
        this.inner = inner;
    }

    /** Fails the {@code n}-th operation of {@code kind} counted from now (1-based); sticky = all after too. */
    public synchronized void failAt(Kind kind, long n, boolean sticky) {
        this.kind = kind;
        this.failAt = n;
        this.sticky = sticky;
        this.ops = 0;
    }

    /** Stops injecting failures. */
    public synchronized void heal() {
        failAt = Long.MAX_VALUE;
        sticky = false;
    }

    /** Operations of the armed kind seen since {@link #failAt} (or since creation). */
    public synchronized long operations() {
        return ops;
    }

    public synchronized long failures() {
        return failures;
    }

    private synchronized void count(Kind k, String what, long offset) throws IOException {
        if (kind == Kind.ANY || kind == k) {
            ops++;
            if (ops == failAt || (sticky && ops > failAt)) {
                failures++;
                throw new IOException("injected I/O error (" + what + " at byte " + offset + ")");
            }
        }
    }

    @Override
    public long size() throws IOException {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        count(Kind.READ, "read", offset);
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        count(Kind.WRITE, "write", offset);
        inner.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        count(Kind.FLUSH, "flush", -1);
        inner.flush();
    }

    @Override
    public boolean isReadOnly() {
        return inner.isReadOnly();
    }

    @Override
    public String name() {
        return "faulty(" + inner.name() + ")";
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }
}
