package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.RejectedExecutionException;

/**
 * One client connection: the {@link Handshake}, then the transmission phase, a reader loop that parses each
 * request, checks it ({@link RequestValidator}) and serves it on the reader thread (small ones while nothing
 * else is in flight) or on the server's workers, where {@link RequestExecutor} carries it out. The socket is
 * {@link ConnectionIo}'s, the reply bytes are {@link ReplyEncoder}'s. The connection's monitor guards only its
 * in-flight counts: nobody writes to the socket while holding it.
 */
final class NbdConnection {
    /** Requests up to this size are served on the reader thread when nothing else is in flight. */
    private static final int INLINE_LIMIT = 1 << 20;
    /** Back-pressure: the reader stops taking requests beyond this many in flight on the connection... */
    private static final int MAX_INFLIGHT_REQUESTS = 256;
    /** ...or beyond this many buffered bytes (WRITE payloads and READ replies). */
    private static final long MAX_INFLIGHT_BYTES = 128L << 20;

    /**
     * With structured replies, a READ longer than this is read and sent in pieces of this size (system property
     * {@code jdmcache.nbd.readPiece}). 512 KiB measured best for 1 MiB reads on loopback: a 1 MiB read as one
     * piece or as four of 256 KiB gave 10-25% less throughput and more CPU per request (bench/nbd-bench.sh).
     */
    static final int READ_PIECE = Math.max(4096, Integer.getInteger("jdmcache.nbd.readPiece", 512 << 10));

    private final NbdServer server;
    private final SocketChannel channel;
    private final ConnectionIo io;
    /** The export selected by GO or EXPORT_NAME (null before), its backend and its counters. */
    private NbdExport export;
    private NbdBackend backend;
    private NbdStats stats;
    volatile Thread thread;
    /** Non-null for a connection beyond the server's limit: every GO, INFO and EXPORT_NAME is refused with it. */
    private final String refusal;
    /** Set when the handshake has ended with an export chosen (the handshake timeout no longer applies). */
    volatile boolean negotiated;

    private boolean baseAllocation;
    /** Serves the requests, once the handshake has chosen the export. */
    private RequestExecutor executor;
    /** Guarded by this connection's monitor. */
    private int inflight;
    private long inflightBytes;
    private volatile boolean broken;

    NbdConnection(NbdServer server, SocketChannel channel) {
        this(server, channel, null);
    }

    NbdConnection(NbdServer server, SocketChannel channel, String refusal) {
        this.refusal = refusal;
        this.server = server;
        this.channel = channel;
        this.io = new ConnectionIo(channel, server.options().busyPollMicros() * 1000L);
    }

    void run() {
        io.reader = thread;
        boolean disc = false;
        try {
            Handshake.Negotiated n = new Handshake(server, io, refusal, this::select).negotiate();
            if (n != null) {
                baseAllocation = n.baseAllocation();
                executor = new RequestExecutor(io, server.buffers, backend, stats, n.structured());
                negotiated = true;
                disc = transmission();
            }
        } catch (IOException | RuntimeException e) {
            // client gone, or a protocol violation: this connection ends, the server goes on
        } finally {
            try {
                io.sendHeld();
            } catch (IOException e) {
                // the client is gone
            }
            awaitIdle();
            if (disc && backend != null && !backend.isReadOnly()) {
                try {
                    backend.flush();
                } catch (IOException ignored) {
                    // nobody left to tell; the next FLUSH will report it
                }
            }
            NbdServer.closeQuietly(channel);
            if (export != null) {
                export.detach(this);
            }
        }
    }

    /** Makes {@code e} this connection's export; false when it is being removed. */
    private boolean select(NbdExport e) {
        if (!e.attach(this)) {
            return false;
        }
        export = e;
        backend = e.backend();
        stats = e.stats();
        return true;
    }

    /** Makes the reader see end-of-stream; requests already read still complete and get replies. */
    void stopReading() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            NbdServer.closeQuietly(channel);
        }
    }

    /** Closes the socket: blocked reads and writes of this connection fail at once. */
    void abort() {
        broken = true;
        NbdServer.closeQuietly(channel);
    }

    // ------------------------------------------------------------------ transmission

    /** Reads requests until DISC (returns true), end of stream or a protocol violation (false). */
    private boolean transmission() throws IOException {
        final long size = backend.size();
        final boolean ro = backend.isReadOnly();
        final int minBlock = backend.minimumBlockSize();
        final boolean inlineIdle = server.options().inlineIdle();
        while (!broken) {
            ByteBuffer in;
            try {
                in = io.fill(28);
            } catch (EOFException e) {
                return false;
            }
            int magic = in.getInt();
            int flags = in.getShort() & 0xffff;
            int type = in.getShort() & 0xffff;
            long cookie = in.getLong();
            long offset = in.getLong();
            long length = Integer.toUnsignedLong(in.getInt());
            if (magic != REQUEST_MAGIC) {
                return false; // cannot resynchronise: hard disconnect
            }
            stats.request(type);
            ByteBuffer payload = null;
            long bytes = type == CMD_WRITE || type == CMD_READ ? Math.min(length, MAX_PAYLOAD) : 0;
            if (type == CMD_WRITE) {
                if (length > MAX_PAYLOAD) {
                    return false; // too large to read safely: the protocol allows a hard disconnect
                }
                admit(bytes);
                try {
                    payload = server.buffers.get((int) length);
                } catch (BufferPool.NoBufferMemoryException e) {
                    io.skipPayload(length); // the stream stays in step; the write is refused, the connection goes on
                    executor.replyError(type, cookie, NbdErrorException.ENOMEM, e.getMessage());
                    continue;
                }
                try {
                    io.readFully(payload);
                } catch (IOException e) {
                    server.buffers.release(payload);
                    throw e;
                }
                payload.flip();
            } else if (type == CMD_DISC) {
                return true;
            }
            int error = RequestValidator.validate(type, flags, offset, length, size, ro, minBlock, baseAllocation);
            if (error != 0) {
                server.buffers.release(payload);
                executor.replyError(type, cookie, error, RequestValidator.errorText(error, type));
                continue;
            }
            if (type != CMD_WRITE) {
                admit(bytes);
            }
            RequestExecutor.Request r = new RequestExecutor.Request(type, flags, cookie, offset, length, payload, bytes);
            boolean inline;
            synchronized (this) {
                inline = inlineIdle && inflight == 0 && length <= INLINE_LIMIT && (flags & CMD_FLAG_FUA) == 0
                        && (type == CMD_READ || type == CMD_WRITE || type == CMD_CACHE);
                inflight++;
                inflightBytes += bytes;
            }
            if (inline) {
                io.holdReplies(io.buffered() >= 28);
                try {
                    serve(r);
                } finally {
                    io.holdReplies(false);
                }
            } else {
                try {
                    server.workers().execute(() -> serve(r));
                } catch (RejectedExecutionException e) {
                    serve(r); // the pool is shutting down: finish it here
                }
            }
        }
        return false;
    }

    private void serve(RequestExecutor.Request r) {
        if (r.type() == CMD_READ) {
            stats.read(r.length());
        } else if (r.type() == CMD_WRITE) {
            stats.written(r.length());
        }
        try {
            executor.execute(r);
        } catch (IOException e) {
            markBroken(); // the reply could not be sent: the client is gone
        } finally {
            server.buffers.release(r.payload());
            synchronized (this) {
                inflight--;
                inflightBytes -= r.bytes();
                notifyAll();
            }
        }
    }

    private void markBroken() {
        broken = true;
        NbdServer.closeQuietly(channel);
    }

    private boolean overLimits(long bytes) {
        return inflight > 0 && (inflight >= MAX_INFLIGHT_REQUESTS || inflightBytes + bytes > MAX_INFLIGHT_BYTES);
    }

    /**
     * Waits (on the reader thread) until a request of {@code bytes} fits the in-flight limits. The replies the
     * reader held back are sent first, outside the monitor: the workers need it to finish their requests, and a
     * client slow to read its replies must not keep them from it.
     */
    private void admit(long bytes) throws IOException {
        synchronized (this) {
            if (!overLimits(bytes)) {
                return;
            }
        }
        io.sendHeld();
        synchronized (this) {
            while (overLimits(bytes)) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while waiting for requests in flight");
                }
            }
        }
    }

    private synchronized void awaitIdle() {
        boolean interrupted = false;
        while (inflight > 0) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
