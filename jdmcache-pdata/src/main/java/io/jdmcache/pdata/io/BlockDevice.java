package io.jdmcache.pdata.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A byte-addressed device: a file, a block device, or memory.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #read} and {@link #write} transfer the buffer's remaining bytes completely, at the given
 *       absolute offset, or throw; they never move a shared file position, so they MAY be called from
 *       many threads at once.</li>
 *   <li>A write is <em>complete</em> when {@code write} returns; it is <em>durable</em> only after a later
 *       {@link #flush} returns. A power loss may drop or tear any write that was not flushed.</li>
 *   <li>Reading past {@link #size()} throws {@link java.io.EOFException}; writing past it throws
 *       {@link java.io.EOFException} too (devices do not grow).</li>
 * </ul>
 */
public interface BlockDevice extends Closeable {

    /** The size in bytes. */
    long size() throws IOException;

    /** Reads {@code dst.remaining()} bytes at {@code offset} into {@code dst}. */
    void read(long offset, ByteBuffer dst) throws IOException;

    /** Writes {@code src.remaining()} bytes at {@code offset}. */
    void write(long offset, ByteBuffer src) throws IOException;

    /** Makes every write that completed before this call durable (a device cache flush). */
    void flush() throws IOException;

    /**
     * Tells the device that a byte range is no longer needed. After a discard the range reads as
     * either its old contents or zeros (as with real devices); callers that need zeros use
     * {@link #writeZeroes}. The default does nothing, which is always correct.
     */
    default void discard(long offset, long length) throws IOException {
    }

    /** Writes zeros over a range; the default writes a zero buffer in chunks of 1 MiB. */
    default void writeZeroes(long offset, long length) throws IOException {
        writeZeroBuffers(this, offset, length, 1 << 20);
    }

    /** Writes zeros over a range of {@code dev} with {@link #write}, a zero buffer of at most {@code chunk} bytes at a time. */
    static void writeZeroBuffers(BlockDevice dev, long offset, long length, int chunk) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, chunk));
        long done = 0;
        while (done < length) {
            int n = (int) Math.min(zeros.capacity(), length - done);
            zeros.clear().limit(n);
            dev.write(offset + done, zeros);
            done += n;
        }
    }

    /** True when writes are refused. */
    boolean isReadOnly();

    /**
     * True for a device over a network (an NBD export): slow, and possibly away for a while. A writeback cache
     * then does not make its commits wait for it (the engine's {@code DeferredFlushOrigin}).
     */
    default boolean isRemote() {
        return false;
    }

    /** A name for messages: the path, or a description. */
    String name();

    /** Checks that {@code [offset, offset+length)} lies inside a device of {@code size} bytes. */
    static void checkRange(BlockDevice dev, long offset, long length, long size) throws IOException {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new java.io.EOFException(dev.name() + ": access at byte " + offset + " length " + length
                    + " is past the end of the device (" + size + " bytes)");
        }
    }
}
