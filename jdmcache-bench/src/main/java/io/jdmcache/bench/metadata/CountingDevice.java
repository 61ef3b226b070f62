package io.jdmcache.bench.metadata;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.io.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Passes I/O through and counts metadata blocks written and flushes. Thread-safe (atomic counters). */
final class CountingDevice implements BlockDevice {
    private final BlockDevice inner;
    private final java.util.concurrent.atomic.AtomicLong bytesWritten = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong flushes = new java.util.concurrent.atomic.AtomicLong();

    CountingDevice(BlockDevice inner) {
        this.inner = inner;
    }

    long blocksWritten() {
        return bytesWritten.get() / BlockManager.BLOCK_SIZE;
    }

    long flushes() {
        return flushes.get();
    }

    @Override
    public long size() throws IOException {
        return inner.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        bytesWritten.addAndGet(src.remaining());
        inner.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        flushes.incrementAndGet();
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
