package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdProtocol.*;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantLock;

/** One client connection: handshake, then a reader loop dispatching requests. */
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
    /** Replies of at most this many bytes may be held back (see {@link #holdReplies}). */
    private static final int HOLD_MAX = 64 << 10;
    /**
     * Replies to requests the reader serves itself, held back while the next request is already in the input
     * buffer and sent together before the reader next waits for the client: at queue depth 32 one write
     * carries many replies instead of one each (4K random writes: 19 -> 15 us of server CPU per request).
     * Only the reader thread touches it; it is allocated at the first reply held.
     */
    private ByteBuffer held;
    /** True while the reader serves a request with another one already buffered behind it. */
    private boolean holdReplies;
    private final NbdServer server;
    /** The export selected by GO or EXPORT_NAME (null before), its backend and its counters. */
    private NbdExport export;
    private NbdBackend backend;
    private NbdStats stats;
    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocateDirect(64 << 10).flip();
    private final ReentrantLock sendLock = new ReentrantLock();
    private final long busyPollNanos;
    private final InputStream pollStream;
    volatile Thread thread;
    /** Non-null for a connection beyond the server's limit: every GO, INFO and EXPORT_NAME is refused with it. */
    private final String refusal;
    /** Set when the handshake has ended with an export chosen (the handshake timeout no longer applies). */
    volatile boolean negotiated;

    private boolean structured;
    private boolean baseAllocation;
    private boolean noZeroes;
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
        this.busyPollNanos = server.options().busyPollMicros() * 1000L;
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

    void run() {
        boolean disc = false;
        try {
            if (handshake()) {
                negotiated = true;
                disc = transmission();
            }
        } catch (IOException | RuntimeException e) {
            // client gone, or a protocol violation: this connection ends, the server goes on
        } finally {
            try {
                sendHeld();
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

    // ------------------------------------------------------------------ input

    private void fill(int n) throws IOException {
        if (in.remaining() >= n) {
            return;
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

    /** Sends a complete reply, or copies it to the held replies when the reader may hold it back. */
    private void reply(ByteBuffer b) throws IOException {
        if (!holdReplies || b.remaining() > HOLD_MAX || Thread.currentThread() != thread) {
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
    private void sendHeld() throws IOException {
        if (held != null && held.position() > 0) {
            held.flip();
            try {
                send(held);
            } finally {
                held.clear();
            }
        }
    }

    /** Reads and drops {@code length} bytes of a payload no buffer could be found for. */
    private void skipPayload(long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(length, 64 << 10));
        long left = length;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(left, scratch.capacity()));
            readFully(scratch);
            left -= scratch.limit();
        }
    }

    private void readFully(ByteBuffer dst) throws IOException {
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

    private void skip(long n) throws IOException {
        while (n > 0) {
            if (!in.hasRemaining()) {
                fill(1);
            }
            int k = (int) Math.min(n, in.remaining());
            in.position(in.position() + k);
            n -= k;
        }
    }

    // ------------------------------------------------------------------ output

    /** Sends a header and its data in one gathering write. */
    private void send(ByteBuffer header, ByteBuffer data) throws IOException {
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

    private void send(ByteBuffer b) throws IOException {
        sendLock.lock();
        try {
            while (b.hasRemaining()) {
                channel.write(b);
            }
        } finally {
            sendLock.unlock();
        }
    }

    // ------------------------------------------------------------------ handshake

    private boolean handshake() throws IOException {
        ByteBuffer g = ByteBuffer.allocate(18);
        g.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
        send(g);
        fill(4);
        int cflags = in.getInt();
        if ((cflags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) != 0) {
            return false; // unknown client flag: the protocol says drop the connection
        }
        noZeroes = (cflags & FLAG_C_NO_ZEROES) != 0;
        while (true) {
            fill(16);
            long magic = in.getLong();
            int opt = in.getInt();
            long len = Integer.toUnsignedLong(in.getInt());
            if (magic != IHAVEOPT) {
                return false;
            }
            if (len > MAX_OPTION) {
                if (len > MAX_OPTION_SKIP) {
                    return false;
                }
                skip(len);
                optionError(opt, REP_ERR_TOO_BIG, "option payload of " + len + " bytes is too large");
                continue;
            }
            ByteBuffer data = ByteBuffer.allocate((int) len);
            readFully(data);
            data.flip();
            switch (opt) {
                case OPT_EXPORT_NAME: {
                    if (refusal != null) {
                        return false; // EXPORT_NAME cannot carry an error
                    }
                    String name = utf8(data, data.remaining());
                    NbdExport e = name == null ? null : server.find(name);
                    if (e == null || server.isStopping() || !select(e)) {
                        return false; // EXPORT_NAME cannot carry an error
                    }
                    ByteBuffer r = ByteBuffer.allocate(noZeroes ? 10 : 134);
                    r.putLong(backend.size()).putShort((short) transmissionFlags(backend));
                    r.position(r.limit()).flip();
                    send(r);
                    return true;
                }
                case OPT_ABORT:
                    try {
                        optionReply(opt, REP_ACK, null);
                    } catch (IOException ignored) {
                        // the client may close without reading the ACK
                    }
                    return false;
                case OPT_LIST:
                    if (len != 0) {
                        optionError(opt, REP_ERR_INVALID, "NBD_OPT_LIST takes no payload");
                    } else {
                        for (NbdExport e : server.exports()) {
                            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                            byte[] desc = e.description().getBytes(StandardCharsets.UTF_8);
                            ByteBuffer r = ByteBuffer.allocate(4 + name.length + desc.length);
                            r.putInt(name.length).put(name).put(desc).flip();
                            optionReply(opt, REP_SERVER, r);
                        }
                        optionReply(opt, REP_ACK, null);
                    }
                    break;
                case OPT_INFO:
                case OPT_GO:
                    if (refusal != null) {
                        optionError(opt, REP_ERR_POLICY, refusal);
                    } else if (infoOrGo(opt, data)) {
                        return true;
                    }
                    break;
                case OPT_STRUCTURED_REPLY:
                    if (len != 0) {
                        optionError(opt, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no payload");
                    } else {
                        structured = true;
                        optionReply(opt, REP_ACK, null);
                    }
                    break;
                case OPT_LIST_META_CONTEXT:
                case OPT_SET_META_CONTEXT:
                    metaContext(opt, data);
                    break;
                case OPT_STARTTLS:
                    optionError(opt, REP_ERR_POLICY, "TLS is not supported by this server");
                    break;
                default:
                    optionError(opt, REP_ERR_UNSUP, "option " + opt + " is not supported");
                    break;
            }
        }
    }

    private static String utf8(ByteBuffer data, int n) {
        ByteBuffer s = data.slice();
        s.limit(n);
        try {
            String v = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(s).toString();
            data.position(data.position() + n);
            return v;
        } catch (CharacterCodingException e) {
            return null;
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

    int transmissionFlags(NbdBackend b) {
        int f = TF_HAS_FLAGS | TF_SEND_FLUSH | TF_SEND_FUA | TF_SEND_TRIM | TF_SEND_WRITE_ZEROES
                | TF_SEND_CACHE | TF_SEND_FAST_ZERO;
        if (b.isReadOnly()) {
            f |= TF_READ_ONLY;
        }
        if (b.canMultiConn()) {
            f |= TF_CAN_MULTI_CONN;
        }
        if (structured) {
            f |= TF_SEND_DF; // every READ reply is a single data chunk, so DF always holds
        }
        return f;
    }

    /** Handles NBD_OPT_INFO / NBD_OPT_GO; returns true when transmission starts. */
    private boolean infoOrGo(int opt, ByteBuffer data) throws IOException {
        int len = data.remaining();
        if (len < 6) {
            optionError(opt, REP_ERR_INVALID, "option payload too short");
            return false;
        }
        long nameLen = Integer.toUnsignedLong(data.getInt());
        if (nameLen > len - 6) {
            optionError(opt, REP_ERR_INVALID, "export name length exceeds the option");
            return false;
        }
        String name = utf8(data, (int) nameLen);
        int n = data.getShort() & 0xffff;
        if (data.remaining() != 2 * n) {
            optionError(opt, REP_ERR_INVALID, "information request count does not match the option length");
            return false;
        }
        if (name == null) {
            optionError(opt, REP_ERR_INVALID, "export name is not valid UTF-8");
            return false;
        }
        NbdExport e = server.find(name);
        if (e == null) {
            optionError(opt, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return false;
        }
        if (server.isStopping()) {
            optionError(opt, REP_ERR_SHUTDOWN, "server is shutting down");
            return false;
        }
        NbdBackend b = e.backend();
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < n; i++) {
            int info = data.getShort() & 0xffff;
            wantName |= info == INFO_NAME;
            wantDescription |= info == INFO_DESCRIPTION;
        }
        if (opt == OPT_GO && !select(e)) {
            optionError(opt, REP_ERR_UNKNOWN, "no export named '" + name + "' (it is being removed)");
            return false;
        }
        ByteBuffer r = ByteBuffer.allocate(12);
        r.putShort((short) INFO_EXPORT).putLong(b.size()).putShort((short) transmissionFlags(b)).flip();
        optionReply(opt, REP_INFO, r);
        if (wantName) {
            byte[] nb = e.name().getBytes(StandardCharsets.UTF_8);
            optionReply(opt, REP_INFO, ByteBuffer.allocate(2 + nb.length).putShort((short) INFO_NAME).put(nb).flip());
        }
        String description = e.description();
        if (wantDescription && !description.isEmpty()) {
            byte[] db = description.getBytes(StandardCharsets.UTF_8);
            optionReply(opt, REP_INFO,
                    ByteBuffer.allocate(2 + db.length).putShort((short) INFO_DESCRIPTION).put(db).flip());
        }
        r = ByteBuffer.allocate(14);
        r.putShort((short) INFO_BLOCK_SIZE).putInt(b.minimumBlockSize())
                .putInt(Math.max(512, b.preferredBlockSize())).putInt(MAX_PAYLOAD).flip();
        optionReply(opt, REP_INFO, r);
        optionReply(opt, REP_ACK, null);
        return opt == OPT_GO;
    }

    private void metaContext(int opt, ByteBuffer data) throws IOException {
        boolean set = opt == OPT_SET_META_CONTEXT;
        if (set) {
            baseAllocation = false; // a SET replaces the selection, even when it fails
        }
        if (data.remaining() < 8) {
            optionError(opt, REP_ERR_INVALID, "meta context option payload too short");
            return;
        }
        long nameLen = Integer.toUnsignedLong(data.getInt());
        if (nameLen > data.remaining() - 4) {
            optionError(opt, REP_ERR_INVALID, "export name length exceeds the option");
            return;
        }
        String name = utf8(data, (int) nameLen);
        long nq = Integer.toUnsignedLong(data.getInt());
        String[] queries = new String[(int) Math.min(nq, data.remaining() / 4 + 1)];
        for (long i = 0; i < nq; i++) {
            if (data.remaining() < 4) {
                optionError(opt, REP_ERR_INVALID, "query count exceeds the option");
                return;
            }
            long ql = Integer.toUnsignedLong(data.getInt());
            if (ql > data.remaining()) {
                optionError(opt, REP_ERR_INVALID, "query length exceeds the option");
                return;
            }
            queries[(int) i] = utf8(data, (int) ql);
            if (queries[(int) i] == null) {
                optionError(opt, REP_ERR_INVALID, "query is not valid UTF-8");
                return;
            }
        }
        if (data.hasRemaining()) {
            optionError(opt, REP_ERR_INVALID, "trailing bytes after the queries");
            return;
        }
        if (set && !structured) {
            optionError(opt, REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
            return;
        }
        if (name == null || server.find(name) == null) {
            optionError(opt, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return;
        }
        boolean match = false;
        if (nq == 0) {
            match = !set; // LIST with no query lists everything; SET with none selects nothing
        }
        for (int i = 0; i < nq; i++) {
            String q = queries[i];
            match |= q.equals(BASE_ALLOCATION) || (!set && q.equals("base:"));
        }
        if (match) {
            byte[] b = BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer r = ByteBuffer.allocate(4 + b.length);
            r.putInt(set ? BASE_ALLOCATION_ID : 0).put(b).flip();
            optionReply(opt, REP_META_CONTEXT, r);
            if (set) {
                baseAllocation = true;
            }
        }
        optionReply(opt, REP_ACK, null);
    }

    private void optionReply(int opt, int type, ByteBuffer data) throws IOException {
        int len = data == null ? 0 : data.remaining();
        ByteBuffer h = ByteBuffer.allocate(20 + len);
        h.putLong(OPTION_REPLY_MAGIC).putInt(opt).putInt(type).putInt(len);
        if (data != null) {
            h.put(data);
        }
        send(h.flip());
    }

    private void optionError(int opt, int type, String message) throws IOException {
        optionReply(opt, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }

    // ------------------------------------------------------------------ transmission

    /** Reads requests until DISC (returns true), end of stream or a protocol violation (false). */
    private boolean transmission() throws IOException {
        final long size = backend.size();
        final boolean ro = backend.isReadOnly();
        final int minBlock = backend.minimumBlockSize();
        final boolean inlineIdle = server.options().inlineIdle();
        while (!broken) {
            try {
                fill(28);
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
                    skipPayload(length); // the stream stays in step; the write is refused, the connection goes on
                    replyError(type, cookie, NbdErrorException.ENOMEM, e.getMessage());
                    continue;
                }
                try {
                    readFully(payload);
                } catch (IOException e) {
                    server.buffers.release(payload);
                    throw e;
                }
                payload.flip();
            } else if (type == CMD_DISC) {
                return true;
            }
            int error = validate(type, flags, offset, length, size, ro, minBlock);
            if (error != 0) {
                server.buffers.release(payload);
                replyError(type, cookie, error, errorText(error, type));
                continue;
            }
            if (type != CMD_WRITE) {
                admit(bytes);
            }
            Request r = new Request(type, flags, cookie, offset, length, payload, bytes);
            boolean inline;
            synchronized (this) {
                inline = inlineIdle && inflight == 0 && length <= INLINE_LIMIT && (flags & CMD_FLAG_FUA) == 0
                        && (type == CMD_READ || type == CMD_WRITE || type == CMD_CACHE);
                inflight++;
                inflightBytes += bytes;
            }
            if (inline) {
                holdReplies = in.remaining() >= 28;
                try {
                    serve(r);
                } finally {
                    holdReplies = false;
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

    private int validate(int type, int flags, long offset, long length, long size, boolean ro, int minBlock) {
        int allowed;
        switch (type) {
            case CMD_READ:
                allowed = CMD_FLAG_FUA | CMD_FLAG_DF;
                break;
            case CMD_WRITE:
            case CMD_TRIM:
            case CMD_FLUSH:
            case CMD_CACHE:
                allowed = CMD_FLAG_FUA;
                break;
            case CMD_WRITE_ZEROES:
                allowed = CMD_FLAG_FUA | CMD_FLAG_NO_HOLE | CMD_FLAG_FAST_ZERO;
                break;
            case CMD_BLOCK_STATUS:
                allowed = CMD_FLAG_FUA | CMD_FLAG_REQ_ONE;
                break;
            default:
                return NbdErrorException.EINVAL;
        }
        if ((flags & ~allowed) != 0) {
            return NbdErrorException.EINVAL;
        }
        boolean writes = type == CMD_WRITE || type == CMD_TRIM || type == CMD_WRITE_ZEROES;
        if (ro && writes) {
            return NbdErrorException.EPERM;
        }
        if (type == CMD_FLUSH) {
            return offset == 0 && length == 0 ? 0 : NbdErrorException.EINVAL;
        }
        if (type == CMD_READ && (length == 0 || length > MAX_PAYLOAD)) {
            return NbdErrorException.EINVAL;
        }
        if (type == CMD_BLOCK_STATUS && (length == 0 || !baseAllocation)) {
            return NbdErrorException.EINVAL;
        }
        if (Long.compareUnsigned(offset, size) > 0 || length > size - offset) {
            return type == CMD_WRITE || type == CMD_WRITE_ZEROES ? NbdErrorException.ENOSPC
                    : NbdErrorException.EINVAL;
        }
        if (minBlock > 1 && ((offset | length) & (minBlock - 1)) != 0) {
            return NbdErrorException.EINVAL;
        }
        return 0;
    }

    private String errorText(int error, int type) {
        switch (error) {
            case NbdErrorException.EPERM:
                return "export is read-only";
            case NbdErrorException.ENOSPC:
                return "request goes past the end of the export";
            default:
                return "invalid request (command " + type + ")";
        }
    }

    private static final class Request {
        final int type;
        final int flags;
        final long cookie;
        final long offset;
        final long length;
        final ByteBuffer payload;
        final long bytes;

        Request(int type, int flags, long cookie, long offset, long length, ByteBuffer payload, long bytes) {
            this.type = type;
            this.flags = flags;
            this.cookie = cookie;
            this.offset = offset;
            this.length = length;
            this.payload = payload;
            this.bytes = bytes;
        }
    }

    private void serve(Request r) {
        if (r.type == CMD_READ) {
            stats.read(r.length);
        } else if (r.type == CMD_WRITE) {
            stats.written(r.length);
        }
        try {
            execute(r);
        } catch (IOException e) {
            markBroken(); // the reply could not be sent: the client is gone
        } finally {
            server.buffers.release(r.payload);
            synchronized (this) {
                inflight--;
                inflightBytes -= r.bytes;
                notifyAll();
            }
        }
    }

    private void execute(Request r) throws IOException {
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
        replyOk(r.cookie);
    }

    /**
     * A READ: up to 1 MiB, the reply header and the data share one direct buffer (header first), so the reply
     * is one write of one buffer with no copy of a heap header into a temporary direct buffer.
     */
    private void read(Request r) throws IOException {
        int len = (int) r.length;
        if (structured && len > READ_PIECE && (r.flags & CMD_FLAG_DF) == 0) {
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
                putDataChunkHeader(h, true, r.cookie, r.offset, len);
            } else {
                h.putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(r.cookie);
            }
            if (together) {
                buf.position(0).limit(hdr + len);
                reply(buf);
            } else {
                data.flip();
                send(h.flip(), data);
            }
        } finally {
            server.buffers.release(buf);
        }
    }

    /**
     * A large READ with structured replies and no DF flag: read and sent in pieces of {@link #READ_PIECE} bytes,
     * each its own OFFSET_DATA chunk sent as soon as it is read, so the client takes in one piece while the next
     * is being read. A failure after some pieces ends the reply with an ERROR chunk (the protocol allows data
     * chunks before it).
     */
    private void readInPieces(Request r) throws IOException {
        int len = (int) r.length;
        int piece = READ_PIECE;
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
                putDataChunkHeader(buf, done == len, r.cookie, at, n);
                buf.position(0).limit(hdr + n);
                send(buf);
            }
        } finally {
            server.buffers.release(buf);
        }
    }

    /** The 28-byte header of an OFFSET_DATA chunk carrying {@code len} bytes read at {@code offset}. */
    private static void putDataChunkHeader(ByteBuffer b, boolean last, long cookie, long offset, int len) {
        b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) (last ? REPLY_FLAG_DONE : 0))
                .putShort((short) REPLY_TYPE_OFFSET_DATA).putLong(cookie).putInt(8 + len).putLong(offset);
    }

    /** A buffer from the pool, or null after an EIO reply when direct memory is exhausted (the connection goes on). */
    private ByteBuffer replyBuffer(Request r, int size) throws IOException {
        try {
            return server.buffers.get(size);
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
        boolean one = (r.flags & CMD_FLAG_REQ_ONE) != 0;
        int max = one ? 1 : (int) Math.min(MAX_EXTENTS, Math.max(1, extents.size()));
        ByteBuffer b = ByteBuffer.allocate(20 + 4 + 8 * max);
        b.position(24);
        long left = r.length;
        int count = 0;
        for (Extent e : extents) {
            if (left <= 0 || count == max) {
                break;
            }
            long l = Math.min(e.length(), left);
            b.putInt((int) l).putInt(e.flags());
            left -= l;
            count++;
        }
        if (count == 0) {
            b.putInt((int) r.length).putInt(0);
            count = 1;
        }
        int payload = 4 + 8 * count;
        b.flip();
        b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                .putShort((short) REPLY_TYPE_BLOCK_STATUS).putLong(r.cookie).putInt(payload)
                .putInt(BASE_ALLOCATION_ID);
        b.position(0).limit(20 + payload);
        send(b);
    }

    private void replyOk(long cookie) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putInt(SIMPLE_REPLY_MAGIC).putInt(0).putLong(cookie).flip();
        reply(b);
    }

    private void replyError(int type, long cookie, int error, String message) throws IOException {
        stats.error();
        if (structured) {
            byte[] m = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
            if (m.length > 4096) {
                m = java.util.Arrays.copyOf(m, 4096);
            }
            ByteBuffer b = ByteBuffer.allocate(20 + 6 + m.length);
            b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE).putShort((short) REPLY_TYPE_ERROR)
                    .putLong(cookie).putInt(6 + m.length).putInt(error).putShort((short) m.length).put(m).flip();
            send(b);
        } else {
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie).flip();
            send(b);
        }
    }

    private void markBroken() {
        broken = true;
        NbdServer.closeQuietly(channel);
    }

    /** Waits (on the reader thread) until a request of {@code bytes} fits the in-flight limits. */
    private synchronized void admit(long bytes) throws IOException {
        while (inflight > 0 && (inflight >= MAX_INFLIGHT_REQUESTS || inflightBytes + bytes > MAX_INFLIGHT_BYTES)) {
            sendHeld();
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for requests in flight");
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
