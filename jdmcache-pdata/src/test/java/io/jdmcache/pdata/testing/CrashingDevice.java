package io.jdmcache.pdata.testing;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A memory device that models a volatile write cache and power loss.
 *
 * <p>Writes go to the visible image at once and are remembered as pending until the next {@link #flush()},
 * which makes them durable. {@link #cutPowerAfterWrite(long)} arms a cut: once that many writes have
 * completed, every further operation fails with {@link PowerLossException}. {@link #survivor} then builds
 * what a disk could hold after the cut: the durable image plus each pending write kept, dropped or torn
 * (a random subset of its 512-byte sectors), in any combination.
 */
public final class CrashingDevice implements BlockDevice {
    /** What happens to the writes that were not flushed when power went away. */
    public enum Loss { KEEP_ALL, DROP_ALL, RANDOM }

    private record Pending(long offset, byte[] data) {
    }

    private final MemoryBlockDevice durable;
    private final MemoryBlockDevice visible;
    private final List<Pending> pending = new ArrayList<>();
    private long writes;
    private long flushes;
    private long cutAfter = Long.MAX_VALUE;
    private boolean dead;

    public CrashingDevice(long size) {
        this(new MemoryBlockDevice("crashing", size));
    }

    /** Starts from a copy of {@code initial}, all of it durable. */
    public CrashingDevice(MemoryBlockDevice initial) {
        this.durable = initial.copy();
        this.visible = initial.copy();
    }

    /** Arms a power cut after the {@code n}-th write (counted from the start). */
    public synchronized void cutPowerAfterWrite(long n) {
        cutAfter = n;
        if (writes >= n) {
            dead = true;
        }
    }

    /** Cuts power now. */
    public synchronized void cutPower() {
        dead = true;
    }

    public synchronized boolean isDead() {
        return dead;
    }

    /** Writes completed so far. */
    public synchronized long writes() {
        return writes;
    }

    public synchronized long flushes() {
        return flushes;
    }

    /** Number of writes not yet made durable. */
    public synchronized int pendingWrites() {
        return pending.size();
    }

    private void checkAlive() throws PowerLossException {
        if (dead) {
            throw new PowerLossException("power lost after write " + writes);
        }
    }

    @Override
    public long size() {
        return visible.size();
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        checkAlive();
        visible.read(offset, dst);
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        checkAlive();
        byte[] data = new byte[src.remaining()];
        src.get(data);
        visible.write(offset, ByteBuffer.wrap(data));
        pending.add(new Pending(offset, data));
        writes++;
        if (writes >= cutAfter) {
            dead = true;
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        checkAlive();
        for (Pending p : pending) {
            durable.write(p.offset, ByteBuffer.wrap(p.data));
        }
        pending.clear();
        flushes++;
    }

    @Override
    public synchronized void writeZeroes(long offset, long length) throws IOException {
        checkAlive();
        BlockDevice.super.writeZeroes(offset, length);
    }

    /** The image as it is now, as if every pending write had reached the disk. */
    public synchronized MemoryBlockDevice visibleImage() {
        return visible.copy();
    }

    /** A possible disk image after the power cut; see the class comment. */
    public synchronized MemoryBlockDevice survivor(Loss loss, Random rnd) throws IOException {
        MemoryBlockDevice img = durable.copy();
        for (Pending p : pending) {
            switch (loss) {
                case KEEP_ALL:
                    img.write(p.offset, ByteBuffer.wrap(p.data));
                    break;
                case DROP_ALL:
                    break;
                case RANDOM:
                    int choice = rnd.nextInt(3);
                    if (choice == 1) {
                        img.write(p.offset, ByteBuffer.wrap(p.data));
                    } else if (choice == 2) {
                        for (int s = 0; s * 512 < p.data.length; s++) {
                            if (rnd.nextBoolean()) {
                                int len = Math.min(512, p.data.length - s * 512);
                                img.write(p.offset + s * 512L, ByteBuffer.wrap(p.data, s * 512, len));
                            }
                        }
                    }
                    break;
                default:
                    throw new IllegalStateException();
            }
        }
        return img;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    @Override
    public String name() {
        return "crashing device";
    }

    @Override
    public void close() {
    }
}
