package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Serves the requests of one connection's transmission phase on its export's backend: the command itself, then
 * its reply (a READ's data straight from the backend into the reply buffer, in pieces when large). Runs on the
 * reader thread or on a worker, several at once; it shares nothing with them but the socket's send lock.
 */
final class RequestExecutor {
    /** A request read and checked, with its WRITE payload ({@code bytes}: what it holds in flight). */
    record Request(int type, int flags, long cookie, long offset, long length, ByteBuffer payload, long bytes) {
    }

    private final ConnectionIo io;
    private final BufferPool buffers;
    private final NbdBackend backend;
    private final NbdStats stats;
    private final boolean structured;

    RequestExecutor(ConnectionIo io, BufferPool buffers, NbdBackend backend, NbdStats stats, boolean structured) {
        this.io = io;
        this.buffers = buffers;
        this.backend = backend;
        this.stats = stats;
        this.structured = structured;
    }

    /** Carries out {@code r} and replies; an IOException means the reply could not be sent. */
    void execute(Request r) throws IOException {
        boolean fua = (r.flags & CMD_FLAG_FUA) != 0;
        if (r.type == CMD_READ) {
            read(r);
            return;
        }
        try {
            switch (r.type) {
                case CMD_WRITE:
                    backend.write(r.offset, r.payload, fua);
                    break;
                case CMD_FLUSH:
                    backend.flush();
                    break;
                case CMD_TRIM:
                    backend.trim(r.offset, r.length);
                    if (fua) {
                        backend.flushRange(r.offset, r.length);
                    }
                    break;
                case CMD_WRITE_ZEROES:
                    if ((r.flags & CMD_FLAG_FAST_ZERO) != 0 && !backend.canFastZero()) {
                        throw new NbdErrorException(NbdErrorException.ENOTSUP, "zeroing is not fast here");
                    }
                    backend.writeZeroes(r.offset, r.length, (r.flags & CMD_FLAG_NO_HOLE) != 0);
                    if (fua) {
                        backend.flushRange(r.offset, r.length);
                    }
                    break;
                case CMD_CACHE:
                    backend.cache(r.offset, r.length);
                    break;
                case CMD_BLOCK_STATUS:
                    blockStatus(r);
                    return;
                default:
                    throw new NbdErrorException(NbdErrorException.EINVAL, "unknown command");
            }
        } catch (NbdErrorException e) {
            replyError(r.type, r.cookie, e.error(), e.getMessage());
            return;
        } catch (IOException | RuntimeException e) {
            replyError(r.type, r.cookie, NbdErrorException.EIO, "I/O error: " + e.getMessage());
            return;
        }
        io.reply(ReplyEncoder.simpleReply(0, r.cookie));
    }

    /**
     * A READ: up to 1 MiB, the reply header and the data share one direct buffer (header first), so the reply
     * is one write of one buffer with no copy of a heap header into a temporary direct buffer.
     */
    private void read(Request r) throws IOException {
        int len = (int) r.length;
        if (structured && len > NbdConnection.READ_PIECE && (r.flags & CMD_FLAG_DF) == 0) {
            readInPieces(r);
            return;
        }
        int hdr = structured ? 28 : 16;
        // large reads keep header and data apart, so a 32 MiB read takes a 32 MiB buffer, not a 64 MiB one
        boolean together = len <= (1 << 20) - hdr;
        ByteBuffer buf = replyBuffer(r, together ? hdr + len : len);
        if (buf == null) {
            return;
        }
        try {
            ByteBuffer data = together ? buf.position(hdr).slice() : buf;
            if (!readBackend(r, r.offset, data)) {
                return;
            }
            ByteBuffer h = together ? buf.position(0) : ByteBuffer.allocate(hdr);
            if (structured) {
                ReplyEncoder.putDataChunkHeader(h, true, r.cookie, r.offset, len);
            } else {
                ReplyEncoder.putSimpleHeader(h, 0, r.cookie);
            }
            if (together) {
                buf.position(0).limit(hdr + len);
                io.reply(buf);
            } else {
                data.flip();
                io.send(h.flip(), data);
            }
        } finally {
            buffers.release(buf);
        }
    }

    /**
     * A large READ with structured replies and no DF flag: read and sent in pieces of {@link NbdConnection#READ_PIECE} bytes,
     * each its own OFFSET_DATA chunk sent as soon as it is read, so the client takes in one piece while the next
     * is being read. A failure after some pieces ends the reply with an ERROR chunk (the protocol allows data
     * chunks before it).
     */
    private void readInPieces(Request r) throws IOException {
        int len = (int) r.length;
        int piece = NbdConnection.READ_PIECE;
        int hdr = 28;
        ByteBuffer buf = replyBuffer(r, hdr + piece);
        if (buf == null) {
            return;
        }
        try {
            for (int done = 0; done < len; ) {
                int n = Math.min(piece, len - done);
                long at = r.offset + done;
                buf.clear().position(hdr).limit(hdr + n);
                if (!readBackend(r, at, buf.slice())) {
                    return;
                }
                done += n;
                buf.clear();
                ReplyEncoder.putDataChunkHeader(buf, done == len, r.cookie, at, n);
                buf.position(0).limit(hdr + n);
                io.send(buf);
            }
        } finally {
            buffers.release(buf);
        }
    }

    /** A buffer from the pool, or null after an ENOMEM reply when the pool's budget is spent (the connection goes on). */
    private ByteBuffer replyBuffer(Request r, int size) throws IOException {
        try {
            return buffers.get(size);
        } catch (BufferPool.NoBufferMemoryException e) {
            replyError(r.type, r.cookie, NbdErrorException.ENOMEM, e.getMessage());
            return null;
        }
    }

    /** Fills {@code data} from the backend at {@code at}; on failure sends r's error reply and returns false. */
    private boolean readBackend(Request r, long at, ByteBuffer data) throws IOException {
        int want = data.remaining();
        try {
            backend.read(at, data);
            if (data.hasRemaining()) {
                throw new IOException("backend returned " + (want - data.remaining()) + " of " + want + " bytes");
            }
            return true;
        } catch (NbdErrorException e) {
            replyError(r.type, r.cookie, e.error(), e.getMessage());
        } catch (IOException | RuntimeException e) {
            replyError(r.type, r.cookie, NbdErrorException.EIO, "I/O error: " + e.getMessage());
        }
        return false;
    }

    private void blockStatus(Request r) throws IOException {
        List<Extent> extents;
        try {
            extents = backend.blockStatus(r.offset, r.length);
        } catch (NbdErrorException e) {
            replyError(r.type, r.cookie, e.error(), e.getMessage());
            return;
        } catch (IOException | RuntimeException e) {
            replyError(r.type, r.cookie, NbdErrorException.EIO, "I/O error: " + e.getMessage());
            return;
        }
        io.send(ReplyEncoder.blockStatus(r.cookie, r.length, extents, (r.flags & CMD_FLAG_REQ_ONE) != 0));
    }

    void replyError(int type, long cookie, int error, String message) throws IOException {
        stats.error();
        io.send(structured ? ReplyEncoder.structuredError(cookie, error, message)
                : ReplyEncoder.simpleReply(error, cookie));
    }

}
