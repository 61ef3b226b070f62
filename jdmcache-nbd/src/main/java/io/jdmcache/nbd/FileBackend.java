package io.jdmcache.nbd;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Exports a plain file (or block device) through positional {@link FileChannel} I/O. The export size is the
 * file size when opened. Flush and FUA call {@link FileChannel#force(boolean) force(false)} (fdatasync).
 *
 * <p>Trim is a no-op: Java has no fallocate(PUNCH_HOLE), and NBD makes trim a hint after which the content is
 * undefined until rewritten, so keeping the old data is correct. Write-zeroes writes real zero bytes (so it is
 * never "fast": FAST_ZERO requests get ENOTSUP). Block status uses the interface default (all data), as
 * SEEK_DATA/SEEK_HOLE are not reachable from Java either. One channel is shared by all connections, so the
 * backend is multi-conn safe.
 */
public final class FileBackend implements NbdBackend {
    private static final int ZERO_CHUNK = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(ZERO_CHUNK).asReadOnlyBuffer();

    private final FileChannel channel;
    private final long size;
    private final boolean readOnly;

    private FileBackend(FileChannel channel, long size, boolean readOnly) {
        this.channel = channel;
        this.size = size;
        this.readOnly = readOnly;
    }

    /** Opens {@code file} for export; a missing file is reported by name. */
    public static FileBackend open(Path file, boolean readOnly) throws IOException {
        FileChannel ch;
        try {
            ch = readOnly ? FileChannel.open(file, StandardOpenOption.READ)
                    : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file to export");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new java.nio.file.AccessDeniedException(file.toString(), null,
                    readOnly ? "permission denied reading the file" : "permission denied (--read-only exports it for reading only)");
        }
        long size;
        try {
            size = ch.size();
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new FileBackend(ch, size, readOnly);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        long pos = offset;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, pos);
            if (n < 0) { // the file shrank under us: what is past its end reads as zeroes
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        long pos = offset;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
        if (fua) {
            channel.force(false);
        }
    }

    @Override
    public void flush() throws IOException {
        channel.force(false);
    }

    @Override
    public void trim(long offset, long length) {
        // a hint only: see the class comment
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole) throws IOException {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            ByteBuffer z = ZEROES.duplicate();
            z.limit((int) Math.min(ZERO_CHUNK, end - pos));
            while (z.hasRemaining()) {
                pos += channel.write(z, pos);
            }
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
