package io.jdmcache.nbd;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection's socket I/O. Input: a 64 KiB buffer the reader parses from ({@link #fill}), large payloads
 * read straight into their buffers, and a busy poll before the reader blocks. Output: complete replies, each
 * written whole under the send lock (workers and the reader reply concurrently), or held back by the reader and
 * sent together ({@link #reply}). Nothing here holds any lock but the send lock, and that only while writing.
 */
final class ConnectionIo {
    /** Replies of at most this many bytes may be held back (see {@link #holdReplies}). */
    private static final int HOLD_MAX = 64 << 10;

    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocateDirect(64 << 10).flip();
    private final ReentrantLock sendLock = new ReentrantLock();
    private final long busyPollNanos;
    private final InputStream pollStream;
    /** The thread reading this connection's requests (the only one that may hold replies back). */
    volatile Thread reader;
    /**
     * Replies to requests the reader serves itself, held back while the next request is already in the input
     * buffer and sent together before the reader next waits for the client: at queue depth 32 one write
     * carries many replies instead of one each (4K random writes: 19 -> 15 us of server CPU per request).
     * Only the reader thread touches it; it is allocated at the first reply held.
     */
    private ByteBuffer held;
    /** True while the reader serves a request with another one already buffered behind it. */
    private boolean holdReplies;

    ConnectionIo(SocketChannel channel, long busyPollNanos) {
        this.channel = channel;
        this.busyPollNanos = busyPollNanos;
        this.pollStream = busyPollNanos > 0 ? pollStream(channel) : null;
    }

    /** The socket's stream view, only used for {@code available()}; null for a Unix socket (none there). */
    private static InputStream pollStream(SocketChannel channel) {
        try {
            return channel.socket().getInputStream();
        } catch (UnsupportedOperationException | IOException e) {
            return null;
        }
    }

    // ------------------------------------------------------------------ input

    /** The input buffer with at least {@code n} bytes to parse, reading the client when needed. */
    ByteBuffer fill(int n) throws IOException {
        if (in.remaining() >= n) {
            return in;
        }
        in.compact();
        sendHeld();
        busyPoll();
        while (in.position() < n) {
            if (channel.read(in) < 0) {
                in.flip();
                throw new EOFException("client closed the connection");
            }
        }
        in.flip();
        return in;
    }

    /** Bytes already read from the client and not parsed yet. */
    int buffered() {
        return in.remaining();
    }

    /**
     * Polls the socket (FIONREAD, no blocking) for up to the busy-poll time before the caller blocks in a read:
     * a request that arrives meanwhile is taken without this thread having gone to sleep, so the client's send
     * does not pay for waking it (a wake-up across CPUs is the larger part of a small request's cost on a VM).
     */
    private void busyPoll() {
        if (pollStream == null) {
            return;
        }
        long deadline = System.nanoTime() + busyPollNanos;
        try {
            while (pollStream.available() == 0 && System.nanoTime() - deadline < 0) {
                Thread.onSpinWait();
            }
        } catch (IOException e) {
            // the socket is closing: the read that follows reports it
        }
    }

    /** Reads exactly {@code dst.remaining()} bytes: what is buffered first, a large rest straight from the socket. */
    void readFully(ByteBuffer dst) throws IOException {
        if (in.hasRemaining()) {
            int n = Math.min(in.remaining(), dst.remaining());
            ByteBuffer s = in.slice();
            s.limit(n);
            dst.put(s);
            in.position(in.position() + n);
        }
        if (!dst.hasRemaining()) {
            return;
        }
        if (dst.remaining() >= in.capacity() / 2) {
            sendHeld();
            while (dst.hasRemaining()) {
                if (channel.read(dst) < 0) {
                    throw new EOFException("client closed the connection");
                }
            }
        } else {
            fill(dst.remaining());
            readFully(dst);
        }
    }

    /** Skips {@code n} bytes of input. */
    void skip(long n) throws IOException {
        while (n > 0) {
            if (!in.hasRemaining()) {
                fill(1);
            }
            int k = (int) Math.min(n, in.remaining());
            in.position(in.position() + k);
            n -= k;
        }
    }

    /** Reads and drops {@code length} bytes of a payload no buffer could be found for. */
    void skipPayload(long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(length, 64 << 10));
        long left = length;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(left, scratch.capacity()));
            readFully(scratch);
            left -= scratch.limit();
        }
    }

    // ------------------------------------------------------------------ output

    /** Sends a header and its data in one gathering write. */
    void send(ByteBuffer header, ByteBuffer data) throws IOException {
        ByteBuffer[] both = {header, data};
        sendLock.lock();
        try {
            while (data.hasRemaining()) {
                channel.write(both);
            }
        } finally {
            sendLock.unlock();
        }
    }

    /** Sends a complete reply (or option reply) now. */
    void send(ByteBuffer b) throws IOException {
        sendLock.lock();
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } finally {
            sendLock.unlock();
        }
    }

    /** Whether the reader may hold its replies back now (another request is buffered behind this one). */
    void holdReplies(boolean on) {
        holdReplies = on;
    }

    /** Sends a complete reply, or copies it to the held replies when the reader may hold it back. */
    void reply(ByteBuffer b) throws IOException {
        if (!holdReplies || b.remaining() > HOLD_MAX || Thread.currentThread() != reader) {
            send(b);
            return;
        }
        if (held == null) {
            held = ByteBuffer.allocateDirect(4 * HOLD_MAX);
        } else if (b.remaining() > held.remaining()) {
            sendHeld();
        }
        held.put(b);
    }

    /** Sends the replies held back by the reader (before it waits for the client or stops). */
    void sendHeld() throws IOException {
        if (held != null && held.position() > 0) {
            held.flip();
            try {
                send(held);
            } finally {
                held.clear();
            }
        }
    }
}
