package io.jdmcache.pdata.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A sparse in-memory {@link BlockDevice}: pages of 4 KiB allocated on first write, unwritten pages read as
 * zeros. Every write is immediately "durable"; flush does nothing. Thread-safe (methods synchronize).
 */
public final class MemoryBlockDevice implements BlockDevice {
    static final int PAGE_SHIFT = 12;
    static final int PAGE = 1 << PAGE_SHIFT;

    private final String name;
    private final long size;
    private byte[][] pages;
    private boolean readOnly;

    public MemoryBlockDevice(long size) {
        this("memory", size);
    }

    public MemoryBlockDevice(String name, long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        long nrPages = (size + PAGE - 1) >>> PAGE_SHIFT;
        if (nrPages > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("device too large for memory: " + size);
        }
        this.name = name;
        this.size = size;
        this.pages = new byte[(int) nrPages][];
    }

    /** A deep copy (unwritten pages stay shared-nothing and sparse). */
    public synchronized MemoryBlockDevice copy() {
        MemoryBlockDevice c = new MemoryBlockDevice(name, size);
        for (int i = 0; i < pages.length; i++) {
            if (pages[i] != null) {
                c.pages[i] = pages[i].clone();
            }
        }
        return c;
    }

    public synchronized void setReadOnly(boolean readOnly) {
        this.readOnly = readOnly;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, offset, dst.remaining(), size);
        long pos = offset;
        while (dst.hasRemaining()) {
            int page = (int) (pos >>> PAGE_SHIFT);
            int in = (int) (pos & (PAGE - 1));
            int n = Math.min(PAGE - in, dst.remaining());
            byte[] p = pages[page];
            if (p == null) {
                for (int i = 0; i < n; i++) {
                    dst.put((byte) 0);
                }
            } else {
                dst.put(p, in, n);
            }
            pos += n;
        }
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) {
            throw new IOException(name + ": device is read-only");
        }
        BlockDevice.checkRange(this, offset, src.remaining(), size);
        long pos = offset;
        while (src.hasRemaining()) {
            int page = (int) (pos >>> PAGE_SHIFT);
            int in = (int) (pos & (PAGE - 1));
            int n = Math.min(PAGE - in, src.remaining());
            byte[] p = pages[page];
            if (p == null) {
                p = pages[page] = new byte[PAGE];
            }
            src.get(p, in, n);
            pos += n;
        }
    }

    @Override
    public void flush() {
    }

    @Override
    public synchronized void discard(long offset, long length) throws IOException {
        BlockDevice.checkRange(this, offset, length, size);
        writeZeroes(offset, length);
    }

    @Override
    public synchronized void writeZeroes(long offset, long length) throws IOException {
        BlockDevice.checkRange(this, offset, length, size);
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int page = (int) (pos >>> PAGE_SHIFT);
            int in = (int) (pos & (PAGE - 1));
            int n = (int) Math.min(PAGE - in, end - pos);
            if (in == 0 && n == PAGE) {
                pages[page] = null;
            } else if (pages[page] != null) {
                Arrays.fill(pages[page], in, in + n, (byte) 0);
            }
            pos += n;
        }
    }

    @Override
    public synchronized boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void close() {
    }
}
