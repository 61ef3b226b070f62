package io.jdmcache.pdata.io;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * A {@link BlockDevice} over a regular file or a block device, with positional {@link FileChannel} I/O
 * and {@link FileChannel#force(boolean)} for flush. Thread-safe.
 *
 * <p>The size of a regular file is fixed when it is opened; block devices report the size of the
 * device (read from sysfs through the device number, since {@code fstat} reports 0 for them).
 *
 * <p>Positional reads and writes are spread over {@link #LANES} channels of the same file, chosen by thread:
 * each JDK FileChannel serialises its callers on an internal monitor for every read and write, which the
 * cache's I/O threads would otherwise all queue on. They share the page cache, and a flush (fsync of any
 * descriptor) makes every write of every lane durable.
 */
public final class FileBlockDevice implements BlockDevice {
    private final Path path;
    /** Channels per device (a power of two). */
    static final int LANES = 4;
    private final FileChannel channel;
    private final FileChannel[] lanes;
    private final boolean readOnly;
    private final long size;
    private DeviceLocks.Claim claim;

    private FileBlockDevice(Path path, FileChannel[] lanes, boolean readOnly, long size) {
        this.path = path;
        this.channel = lanes[0];
        this.lanes = lanes;
        this.readOnly = readOnly;
        this.size = size;
    }

    private FileChannel lane() {
        return lanes[(int) (Thread.currentThread().getId() & (LANES - 1))];
    }

    /** Opens an existing file or block device, with no claim on it (tests and internal copies). */
    public static FileBlockDevice open(Path path, boolean readOnly) throws IOException {
        return open(path, readOnly, DeviceLocks.Mode.NONE, path.toString());
    }

    /**
     * Opens an existing file or block device and claims it for as long as it stays open ({@link DeviceLocks}):
     * {@code EXCLUSIVE} for a writer, {@code SHARED} for a reader. A device another opener holds is refused with a
     * {@link DeviceBusyException} naming {@code what} and, where it can be known, the holder.
     *
     * @param what how messages name the device, e.g. "metadata device m.img"
     */
    public static FileBlockDevice open(Path path, boolean readOnly, DeviceLocks.Mode claim, String what)
            throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "No such file or directory");
        } catch (FileSystemException e) {
            throw withOperation(e, path, "look up");
        }
        if (attrs.isDirectory()) {
            throw new IOException(path + ": is a directory, not a device or regular file");
        }
        FileIdentity id = DeviceLocks.reserve(path, claim, what);
        FileChannel[] lanes = new FileChannel[LANES];
        try {
            for (int i = 0; i < LANES; i++) {
                try {
                    lanes[i] = readOnly
                            ? FileChannel.open(path, StandardOpenOption.READ)
                            : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
                } catch (FileSystemException e) {
                    throw withOperation(e, path, readOnly ? "open for reading" : "open for reading and writing");
                }
            }
            DeviceLocks.Claim c = DeviceLocks.lock(id, lanes[0], path, claim, what);
            long size = attrs.isRegularFile() ? lanes[0].size() : blockDeviceSize(path, lanes[0]);
            FileBlockDevice d = new FileBlockDevice(path, lanes, readOnly, size);
            d.claim = c;
            return d;
        } catch (IOException | RuntimeException e) {
            DeviceLocks.unreserve(id);
            closeAll(lanes);
            throw e;
        }
    }

    /**
     * The same kind of exception (callers tell AccessDeniedException apart), its message now "PATH: cannot
     * OPERATION: REASON" with the system's own words for the reason.
     */
    private static FileSystemException withOperation(FileSystemException e, Path path, String operation) {
        String reason = "cannot " + operation + ": " + OsErrors.reason(e);
        FileSystemException w;
        if (e instanceof AccessDeniedException) {
            w = new AccessDeniedException(path.toString(), null, reason);
        } else if (e instanceof NoSuchFileException) {
            w = new NoSuchFileException(path.toString(), null, reason);
        } else {
            w = new FileSystemException(path.toString(), null, reason);
        }
        w.initCause(e);
        return w;
    }

    private static long blockDeviceSize(Path path, FileChannel ch) throws IOException {
        long s = ch.size();
        if (s > 0) {
            return s;
        }
        try {
            Object rdev = Files.getAttribute(path, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
            long dev = ((Number) rdev).longValue();
            long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
            long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
            Path sys = Path.of("/sys/dev/block/" + major + ":" + minor + "/size");
            return Long.parseLong(Files.readString(sys).trim()) * 512L;
        } catch (UnsupportedOperationException | IllegalArgumentException | IOException e) {
            throw new IOException(path + ": cannot determine the size of the device", e);
        }
    }

    public Path path() {
        return path;
    }

    /** The underlying channel, for zero-copy transfers. */
    public FileChannel channel() {
        return channel;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, offset, dst.remaining(), size);
        long pos = offset;
        FileChannel ch = lane();
        while (dst.hasRemaining()) {
            int n = ch.read(dst, pos);
            if (n < 0) {
                throw new EOFException(path + ": unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        if (readOnly) {
            throw new IOException(path + ": device is read-only");
        }
        BlockDevice.checkRange(this, offset, src.remaining(), size);
        long pos = offset;
        FileChannel ch = lane();
        while (src.hasRemaining()) {
            pos += ch.write(src, pos);
        }
    }

    @Override
    public void flush() throws IOException {
        if (!readOnly) {
            channel.force(true);
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public String name() {
        return path.toString();
    }

    @Override
    public void close() throws IOException {
        try {
            closeAll(lanes);
        } finally {
            if (claim != null) {
                claim.release();
            }
        }
    }

    private static void closeAll(FileChannel[] chs) throws IOException {
        IOException first = null;
        for (FileChannel c : chs) {
            if (c == null) {
                continue;
            }
            try {
                c.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    @Override
    public String toString() {
        return "FileBlockDevice[" + path + "]";
    }
}
