package io.jdmcache.engine;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.testing.CrashingDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One power supply for several {@link CrashingDevice}s: writes are counted across all of them, and when the
 * armed count is reached every device loses power at once (metadata, cache and origin together).
 */
final class PowerRail {
    private final List<CrashingDevice> devices = new ArrayList<>();
    private final AtomicLong writes = new AtomicLong();
    private volatile long cutAt = Long.MAX_VALUE;

    /** A device on this rail: I/O goes to {@code d}, writes count towards the cut. */
    BlockDevice plug(CrashingDevice d, String name) {
        devices.add(d);
        return new BlockDevice() {
            @Override
            public long size() {
                return d.size();
            }

            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                d.read(offset, dst);
            }

            @Override
            public void write(long offset, ByteBuffer src) throws IOException {
                d.write(offset, src);
                if (writes.incrementAndGet() >= cutAt) {
                    cutPower();
                }
            }

            @Override
            public void flush() throws IOException {
                d.flush();
            }

            @Override
            public boolean isReadOnly() {
                return false;
            }

            @Override
            public String name() {
                return name;
            }

            @Override
            public void close() {
            }
        };
    }

    /** Writes made so far, across the devices. */
    long writes() {
        return writes.get();
    }

    /** Cuts the power after {@code n} more writes. */
    void armAfter(long n) {
        cutAt = writes.get() + n;
    }

    synchronized void cutPower() {
        for (CrashingDevice d : devices) {
            d.cutPower();
        }
    }

    boolean isDead() {
        return devices.stream().anyMatch(CrashingDevice::isDead);
    }
}
