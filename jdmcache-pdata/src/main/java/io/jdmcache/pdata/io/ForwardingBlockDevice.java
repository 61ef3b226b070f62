package io.jdmcache.pdata.io;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A device that passes every call on to another: the base of decorators that change one or two calls (cut the
 * writes, count them, fail them) and leave the rest as they are.
 */
public abstract class ForwardingBlockDevice implements BlockDevice {
    /** The device the calls go to. */
    protected final BlockDevice dev;

    protected ForwardingBlockDevice(BlockDevice dev) {
        this.dev = dev;
    }

    @Override
    public long size() throws IOException {
        return dev.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        dev.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        dev.write(offset, src);
    }

    @Override
    public void flush() throws IOException {
        dev.flush();
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        dev.discard(offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        dev.writeZeroes(offset, length);
    }

    @Override
    public boolean isReadOnly() {
        return dev.isReadOnly();
    }

    @Override
    public boolean isRemote() {
        return dev.isRemote();
    }

    @Override
    public String name() {
        return dev.name();
    }

    @Override
    public void close() throws IOException {
        dev.close();
    }
}
