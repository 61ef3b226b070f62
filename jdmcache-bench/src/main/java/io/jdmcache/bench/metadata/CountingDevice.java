package io.jdmcache.bench.metadata;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.ForwardingBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Passes I/O through and counts metadata blocks written and flushes. Thread-safe (atomic counters). */
final class CountingDevice extends ForwardingBlockDevice {
    private final java.util.concurrent.atomic.AtomicLong bytesWritten = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong flushes = new java.util.concurrent.atomic.AtomicLong();

    CountingDevice(BlockDevice inner) {
        super(inner);
    }

    long blocksWritten() {
        return bytesWritten.get() / BlockManager.BLOCK_SIZE;
    }

    long flushes() {
        return flushes.get();
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        bytesWritten.addAndGet(src.remaining());
        dev.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        flushes.incrementAndGet();
        dev.flush();
    }
}
