package io.jdmcache.nbd.client;

import static io.jdmcache.nbd.NbdProtocol.*;

import io.jdmcache.nbd.Extent;
import io.jdmcache.nbd.NbdErrorException;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One NBD connection in transmission: the fixed-newstyle handshake ({@code NBD_OPT_STRUCTURED_REPLY},
 * {@code NBD_OPT_SET_META_CONTEXT base:allocation}, {@code NBD_OPT_GO} asking for the block-size constraints,
 * {@code NBD_OPT_EXPORT_NAME} when GO is not supported), then requests sent by any thread (one send lock) and
 * replies, simple or structured, taken in by one reader thread that matches them to their requests by cookie,
 * so many requests are in flight at once and may be answered in any order.
 *
 * <p>Requests are sent as given: the caller ({@link NbdClient}) keeps them within the server's constraints.
 * A protocol violation by the server, or any failure to send or receive, ends the connection and fails every
 * request in flight on it; error replies fail only their own request.
 */
final class ClientConnection {
    /** Largest option reply taken in during the handshake. */
    private static final int MAX_OPTION_REPLY = 1 << 20;

    final NbdUri uri;
    final String label;
    private final SocketChannel ch;
    private final ByteBuffer in = ByteBuffer.allocateDirect(64 << 10).flip();
    private final ByteBuffer header = ByteBuffer.allocateDirect(28);
    private final Object sendLock = new Object();
    private final ConcurrentHashMap<Long, Request> pending = new ConcurrentHashMap<>();
    private final AtomicLong cookies = new AtomicLong();
    private final Semaphore slots;
    private volatile IOException failure;
    private Thread reader;
    private boolean handshaking;
    private boolean timedOut;

    // what the handshake found
    long size;
    int flags;
    boolean structured;
    boolean baseAllocation;
    int baseAllocationId;
    int minBlock = 1;
    int preferredBlock = 4096;
    int maxPayload = MAX_PAYLOAD;
    boolean blockSizesAdvertised;

    /** One request in flight. */
    static final class Request {
        final int type;
        final int cmdFlags;
        final long offset;
        final int length;
        /** READ: the destination (position 0, limit length); WRITE: the payload. */
        final ByteBuffer data;
        final CompletableFuture<Request> done = new CompletableFuture<>();
        long cookie;
        long covered;
        int error;
        String message;
        List<Extent> extents;

        Request(int type, int cmdFlags, long offset, int length, ByteBuffer data) {
            this.type = type;
            this.cmdFlags = cmdFlags;
            this.offset = offset;
            this.length = length;
            this.data = data;
        }
    }

    private ClientConnection(NbdUri uri, SocketChannel ch, int maxInFlight, int index) {
        this.uri = uri;
        this.ch = ch;
        this.slots = new Semaphore(maxInFlight);
        this.label = uri + (index > 0 ? " (connection " + (index + 1) + ")" : "");
    }

    /** Connects and negotiates; throws (with the server's reason when it gave one) if that fails. */
    static ClientConnection open(NbdUri uri, NbdClient.Options opts, int index) throws IOException {
        SocketAddress addr = uri.address();
        SocketChannel ch;
        if (uri.isUnix()) {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            if (((InetSocketAddress) addr).isUnresolved()) {
                throw new IOException(uri + ": cannot resolve host '" + uri.host() + "'");
            }
            ch = SocketChannel.open();
        }
        ClientConnection c = new ClientConnection(uri, ch, opts.maxInFlight(), index);
        c.handshaking = true;
        ScheduledFuture<?> watchdog = NbdClient.TIMER.schedule(() -> {
            synchronized (c) {
                if (c.handshaking) {
                    c.timedOut = true;
                    c.quietClose();
                }
            }
        }, opts.connectTimeoutMillis(), TimeUnit.MILLISECONDS);
        try {
            if (uri.isUnix()) {
                ch.connect(addr);
            } else {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
                ch.socket().connect(addr, (int) Math.min(Integer.MAX_VALUE, opts.connectTimeoutMillis()));
            }
            c.handshake(opts);
            synchronized (c) {
                c.handshaking = false;
                if (c.timedOut) {
                    throw new java.nio.channels.ClosedChannelException();
                }
            }
        } catch (IOException | RuntimeException e) {
            c.quietClose();
            boolean late;
            synchronized (c) {
                c.handshaking = false;
                late = c.timedOut;
            }
            if (late && !(e instanceof NbdHandshakeException)) {
                throw new NbdTimeoutException(uri + ": no answer within " + opts.connectTimeoutMillis()
                        + " ms while connecting");
            }
            if (e instanceof NbdHandshakeException) {
                throw e;
            }
            throw new IOException(uri + ": cannot connect: " + reason(e), e);
        } finally {
            watchdog.cancel(false);
        }
        c.reader = new Thread(c::readLoop, "nbd-client-reader " + c.label);
        c.reader.setDaemon(true);
        c.reader.start();
        return c;
    }

    static String reason(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    // ---------------------------------------------------------------- handshake

    private void handshake(NbdClient.Options opts) throws IOException {
        fill(18);
        long magic = in.getLong();
        if (magic != NBDMAGIC) {
            throw refuse("not an NBD server (greeting 0x" + Long.toHexString(magic) + ")");
        }
        long opt = in.getLong();
        if (opt == OLDSTYLE_MAGIC) {
            throw refuse("the server speaks the oldstyle protocol, which is not supported");
        }
        if (opt != IHAVEOPT) {
            throw refuse("not an NBD server (bad newstyle magic 0x" + Long.toHexString(opt) + ")");
        }
        int hflags = Short.toUnsignedInt(in.getShort());
        if ((hflags & FLAG_FIXED_NEWSTYLE) == 0) {
            throw refuse("the server does not speak fixed newstyle");
        }
        boolean noZeroes = (hflags & FLAG_NO_ZEROES) != 0;
        send(ByteBuffer.allocate(4).putInt(FLAG_C_FIXED_NEWSTYLE | (noZeroes ? FLAG_C_NO_ZEROES : 0)).flip());

        byte[] name = uri.export().getBytes(StandardCharsets.UTF_8);
        if (opts.structuredReplies()) {
            sendOption(OPT_STRUCTURED_REPLY, ByteBuffer.allocate(0));
            OptionReply r = optionReply(OPT_STRUCTURED_REPLY);
            structured = r.type == REP_ACK;
            if (!structured && !r.isError()) {
                throw refuse("unexpected reply " + r.type + " to NBD_OPT_STRUCTURED_REPLY");
            }
        }
        if (structured && opts.blockStatus()) {
            byte[] ctx = BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer b = ByteBuffer.allocate(4 + name.length + 8 + ctx.length);
            b.putInt(name.length).put(name).putInt(1).putInt(ctx.length).put(ctx).flip();
            sendOption(OPT_SET_META_CONTEXT, b);
            while (true) {
                OptionReply r = optionReply(OPT_SET_META_CONTEXT);
                if (r.type == REP_META_CONTEXT && r.data.length >= 4) {
                    ByteBuffer d = ByteBuffer.wrap(r.data);
                    int id = d.getInt();
                    String got = new String(r.data, 4, r.data.length - 4, StandardCharsets.UTF_8);
                    if (got.equals(BASE_ALLOCATION)) {
                        baseAllocation = true;
                        baseAllocationId = id;
                    }
                } else if (r.type == REP_ACK || r.isError()) {
                    if (r.isError()) {
                        baseAllocation = false;
                    }
                    break;
                } else {
                    throw refuse("unexpected reply " + r.type + " to NBD_OPT_SET_META_CONTEXT");
                }
            }
        }
        ByteBuffer go = ByteBuffer.allocate(4 + name.length + 4);
        go.putInt(name.length).put(name).putShort((short) 1).putShort((short) INFO_BLOCK_SIZE).flip();
        sendOption(OPT_GO, go);
        boolean gotExport = false;
        while (true) {
            OptionReply r = optionReply(OPT_GO);
            if (r.type == REP_INFO) {
                ByteBuffer d = ByteBuffer.wrap(r.data);
                if (d.remaining() < 2) {
                    throw refuse("an NBD_REP_INFO reply shorter than its type");
                }
                int info = Short.toUnsignedInt(d.getShort());
                if (info == INFO_EXPORT) {
                    if (d.remaining() < 10) {
                        throw refuse("a short NBD_INFO_EXPORT");
                    }
                    size = d.getLong();
                    flags = Short.toUnsignedInt(d.getShort());
                    gotExport = true;
                } else if (info == INFO_BLOCK_SIZE) {
                    if (d.remaining() < 12) {
                        throw refuse("a short NBD_INFO_BLOCK_SIZE");
                    }
                    blockSizes(d.getInt(), d.getInt(), d.getInt());
                }
            } else if (r.type == REP_ACK) {
                if (!gotExport) {
                    throw refuse("NBD_OPT_GO was acknowledged without NBD_INFO_EXPORT");
                }
                break;
            } else if (r.type == REP_ERR_UNSUP) {
                exportName(name, noZeroes);
                break;
            } else if (r.type == REP_ERR_UNKNOWN) {
                throw refuse("the server has no export named '" + uri.export() + "'" + r.message());
            } else if (r.isError()) {
                throw refuse("the server refused the export: " + errorName(r.type) + r.message());
            } else {
                throw refuse("unexpected reply " + r.type + " to NBD_OPT_GO");
            }
        }
        if (size < 0) {
            throw refuse("the export's size (" + Long.toUnsignedString(size) + " bytes) is too large");
        }
        if ((flags & TF_HAS_FLAGS) == 0) {
            flags = 0;
        }
    }

    /** The legacy end of the handshake, for servers without NBD_OPT_GO. */
    private void exportName(byte[] name, boolean noZeroes) throws IOException {
        sendOption(OPT_EXPORT_NAME, ByteBuffer.wrap(name));
        try {
            fill(10);
        } catch (EOFException e) {
            throw refuse("the server has no export named '" + uri.export() + "' (it closed the connection)");
        }
        size = in.getLong();
        flags = Short.toUnsignedInt(in.getShort());
        if (!noZeroes) {
            skip(124);
        }
        // a meta context selected before is only promised to count for NBD_OPT_GO
        baseAllocation = false;
    }

    private void blockSizes(int min, int pref, int max) throws IOException {
        if (min <= 0 || Integer.bitCount(min) != 1 || min > 64 << 10) {
            throw refuse("invalid minimum block size " + Integer.toUnsignedString(min));
        }
        if (pref <= 0 || Integer.bitCount(pref) != 1 || pref < min) {
            pref = Math.max(min, 4096);
        }
        long maxU = Integer.toUnsignedLong(max);
        if (maxU < min) {
            throw refuse("maximum payload " + maxU + " below the minimum block size " + min);
        }
        minBlock = min;
        preferredBlock = pref;
        // 0xffffffff means no limit; stay within what every server takes
        maxPayload = (int) Math.min(maxU, MAX_PAYLOAD) / min * min;
        blockSizesAdvertised = true;
    }

    private record OptionReply(int type, byte[] data) {
        boolean isError() {
            return (type & 0x80000000) != 0;
        }

        String message() {
            return isError() && data.length > 0 ? " (" + new String(data, StandardCharsets.UTF_8) + ")" : "";
        }
    }

    private void sendOption(int option, ByteBuffer data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(option).putInt(data.remaining()).flip();
        send(h, data);
    }

    private OptionReply optionReply(int option) throws IOException {
        fill(20);
        long magic = in.getLong();
        int opt = in.getInt();
        int type = in.getInt();
        int len = in.getInt();
        if (magic != OPTION_REPLY_MAGIC) {
            throw refuse("bad option reply magic 0x" + Long.toHexString(magic));
        }
        if (opt != option) {
            throw refuse("reply to option " + opt + " while waiting for option " + option);
        }
        if (len < 0 || len > MAX_OPTION_REPLY) {
            throw refuse("option reply of " + Integer.toUnsignedString(len) + " bytes");
        }
        byte[] data = new byte[len];
        readInto(ByteBuffer.wrap(data));
        return new OptionReply(type, data);
    }

    static String errorName(int type) {
        return switch (type) {
            case REP_ERR_UNSUP -> "ERR_UNSUP";
            case REP_ERR_POLICY -> "ERR_POLICY";
            case REP_ERR_INVALID -> "ERR_INVALID";
            case REP_ERR_PLATFORM -> "ERR_PLATFORM";
            case REP_ERR_TLS_REQD -> "ERR_TLS_REQD (TLS is not supported)";
            case REP_ERR_UNKNOWN -> "ERR_UNKNOWN";
            case REP_ERR_SHUTDOWN -> "ERR_SHUTDOWN (the server is shutting down)";
            case REP_ERR_BLOCK_SIZE_REQD -> "ERR_BLOCK_SIZE_REQD";
            case REP_ERR_TOO_BIG -> "ERR_TOO_BIG";
            default -> "error 0x" + Integer.toHexString(type);
        };
    }

    private NbdHandshakeException refuse(String why) {
        return new NbdHandshakeException(uri + ": " + why);
    }

    // ---------------------------------------------------------------- transmission

    /**
     * Sends a request; its {@link Request#done} completes when the reply is in (exceptionally with an
     * {@link NbdErrorException} for an error reply, an IOException when the connection is lost).
     */
    Request submit(Request r) throws IOException {
        IOException f = failure;
        if (f != null) {
            throw lost(f);
        }
        try {
            slots.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException(label + ": interrupted while waiting to send");
        }
        r.cookie = cookies.incrementAndGet();
        pending.put(r.cookie, r);
        if (failure != null) {
            if (pending.remove(r.cookie) != null) {
                slots.release();
                throw lost(failure);
            }
            return r; // die() failed it already
        }
        try {
            synchronized (sendLock) {
                header.clear();
                header.putInt(REQUEST_MAGIC).putShort((short) r.cmdFlags).putShort((short) r.type)
                        .putLong(r.cookie).putLong(r.offset).putInt(r.length).flip();
                if (r.type == CMD_WRITE) {
                    send(header, r.data.duplicate());
                } else {
                    send(header);
                }
            }
        } catch (IOException e) {
            die(e);
        }
        return r;
    }

    /** Sends NBD_CMD_DISC (no reply) and closes the sending side. */
    void disconnect() {
        if (failure != null) {
            return;
        }
        try {
            synchronized (sendLock) {
                header.clear();
                header.putInt(REQUEST_MAGIC).putShort((short) 0).putShort((short) CMD_DISC)
                        .putLong(cookies.incrementAndGet()).putLong(0).putInt(0).flip();
                send(header);
                ch.shutdownOutput();
            }
        } catch (IOException e) {
            // the connection is being closed anyway
        }
    }

    boolean isAlive() {
        return failure == null;
    }

    IOException failure() {
        return failure;
    }

    int inFlight() {
        return pending.size();
    }

    /** Waits up to {@code millis} for every request in flight to be answered. */
    boolean drain(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!pending.isEmpty() && failure == null) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /**
     * Ends the connection: every request in flight fails with {@code cause}, and when this returns the reader
     * thread no longer touches any request's buffer.
     */
    void abort(IOException cause) {
        die(cause);
        Thread t = reader;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits (bounded) for the server to close after a DISC, then closes. */
    void awaitClose(long millis) {
        Thread t = reader;
        if (t != null) {
            try {
                t.join(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        abort(new IOException(label + ": connection closed"));
    }

    private IOException lost(IOException f) {
        if (f instanceof NbdTimeoutException) {
            return new NbdTimeoutException(f.getMessage());
        }
        return new IOException(label + ": connection lost: " + reason(f), f);
    }

    private void die(IOException cause) {
        synchronized (this) {
            if (failure == null) {
                failure = cause;
            }
        }
        quietClose();
        for (Long k : pending.keySet()) {
            Request r = pending.remove(k);
            if (r != null) {
                slots.release();
                r.done.completeExceptionally(lost(failure));
            }
        }
    }

    private void quietClose() {
        try {
            ch.close();
        } catch (IOException e) {
            // nothing more to do
        }
    }

    // ---------------------------------------------------------------- reader thread

    private void readLoop() {
        try {
            while (true) {
                fill(4);
                int magic = in.getInt();
                if (magic == SIMPLE_REPLY_MAGIC) {
                    simpleReply();
                } else if (magic == STRUCTURED_REPLY_MAGIC) {
                    structuredChunk();
                } else {
                    throw protocol("bad reply magic 0x" + Integer.toHexString(magic));
                }
            }
        } catch (IOException e) {
            if (failure == null && e instanceof EOFException && pending.isEmpty()) {
                die(new EOFException(label + ": the server closed the connection"));
            } else {
                die(e);
            }
        } catch (RuntimeException e) {
            die(new IOException(label + ": " + e, e));
        }
    }

    private Request lookup(long cookie) throws IOException {
        Request r = pending.get(cookie);
        if (r == null) {
            throw protocol("reply to unknown cookie " + Long.toUnsignedString(cookie));
        }
        return r;
    }

    private void simpleReply() throws IOException {
        fill(12);
        int error = in.getInt();
        long cookie = in.getLong();
        Request r = lookup(cookie);
        if (r.type == CMD_READ && error == 0) {
            readInto(r.data.duplicate().clear());
            r.covered = r.length;
        } else if (r.type == CMD_BLOCK_STATUS && error == 0) {
            throw protocol("a simple reply to NBD_CMD_BLOCK_STATUS");
        }
        r.error = error;
        finish(r);
    }

    private void structuredChunk() throws IOException {
        fill(16);
        int cflags = Short.toUnsignedInt(in.getShort());
        int type = Short.toUnsignedInt(in.getShort());
        long cookie = in.getLong();
        long len = Integer.toUnsignedLong(in.getInt());
        if (!structured) {
            throw protocol("a structured reply that was not negotiated");
        }
        Request r = lookup(cookie);
        switch (type) {
            case REPLY_TYPE_NONE -> {
                if (len != 0) {
                    throw protocol("NBD_REPLY_TYPE_NONE with " + len + " bytes");
                }
                if ((cflags & REPLY_FLAG_DONE) == 0) {
                    throw protocol("NBD_REPLY_TYPE_NONE without NBD_REPLY_FLAG_DONE");
                }
            }
            case REPLY_TYPE_OFFSET_DATA -> {
                if (r.type != CMD_READ || len < 8) {
                    throw protocol("unexpected data chunk (" + len + " bytes)");
                }
                fill(8);
                long off = in.getLong();
                long n = len - 8;
                ByteBuffer dst = target(r, off, n);
                readInto(dst);
                r.covered += n;
            }
            case REPLY_TYPE_OFFSET_HOLE -> {
                if (r.type != CMD_READ || len != 12) {
                    throw protocol("unexpected hole chunk (" + len + " bytes)");
                }
                fill(12);
                long off = in.getLong();
                long n = Integer.toUnsignedLong(in.getInt());
                ByteBuffer dst = target(r, off, n);
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                r.covered += n;
            }
            case REPLY_TYPE_BLOCK_STATUS -> {
                if (r.type != CMD_BLOCK_STATUS || len < 12 || (len - 4) % 8 != 0) {
                    throw protocol("unexpected block-status chunk (" + len + " bytes)");
                }
                fill(4);
                int id = in.getInt();
                long n = (len - 4) / 8;
                List<Extent> ext = new ArrayList<>((int) Math.min(n, 1024));
                for (long i = 0; i < n; i++) {
                    fill(8);
                    long el = Integer.toUnsignedLong(in.getInt());
                    int ef = in.getInt();
                    if (el == 0) {
                        throw protocol("a block-status extent of length 0");
                    }
                    ext.add(new Extent(el, ef));
                }
                if (baseAllocation && id == baseAllocationId) {
                    r.extents = ext;
                }
            }
            default -> {
                if ((type & 0x8000) == 0) {
                    throw protocol("unknown reply chunk type " + type);
                }
                if (len < 6) {
                    throw protocol("an error chunk of " + len + " bytes");
                }
                fill(6);
                int error = in.getInt();
                int mlen = Short.toUnsignedInt(in.getShort());
                if (mlen > len - 6) {
                    throw protocol("an error message longer than its chunk");
                }
                byte[] msg = new byte[mlen];
                readInto(ByteBuffer.wrap(msg));
                skip(len - 6 - mlen);
                if (r.error == 0) {
                    r.error = error == 0 ? NbdErrorException.EINVAL : error;
                    r.message = new String(msg, StandardCharsets.UTF_8);
                }
            }
        }
        if ((cflags & REPLY_FLAG_DONE) != 0) {
            if (r.error == 0 && r.type == CMD_READ && r.covered != r.length) {
                throw protocol("a READ reply covering " + r.covered + " of " + r.length + " bytes");
            }
            if (r.error == 0 && r.type == CMD_BLOCK_STATUS && r.extents == null && baseAllocation) {
                throw protocol("a BLOCK_STATUS reply without base:allocation extents");
            }
            finish(r);
        }
    }

    /** The part of a READ's buffer that a chunk at {@code off} of {@code n} bytes fills. */
    private ByteBuffer target(Request r, long off, long n) throws IOException {
        long rel = off - r.offset;
        if (rel < 0 || n > r.length || rel > r.length - n) {
            throw protocol("a chunk at " + off + " (" + n + " bytes) outside the READ of " + r.length
                    + " bytes at " + r.offset);
        }
        return r.data.duplicate().clear().position((int) rel).limit((int) (rel + n));
    }

    private void finish(Request r) {
        if (pending.remove(r.cookie) == null) {
            return;
        }
        slots.release();
        if (r.error != 0) {
            r.done.completeExceptionally(new NbdErrorException(r.error, label + ": " + errnoName(r.error)
                    + (r.message == null || r.message.isEmpty() ? "" : " (" + r.message + ")")));
        } else {
            r.done.complete(r);
        }
    }

    static String errnoName(int e) {
        return switch (e) {
            case NbdErrorException.EPERM -> "EPERM, operation not permitted";
            case NbdErrorException.EIO -> "EIO, input/output error";
            case NbdErrorException.ENOMEM -> "ENOMEM, out of memory";
            case NbdErrorException.EINVAL -> "EINVAL, invalid argument";
            case NbdErrorException.ENOSPC -> "ENOSPC, no space left on device";
            case NbdErrorException.EOVERFLOW -> "EOVERFLOW, value too large";
            case NbdErrorException.ENOTSUP -> "ENOTSUP, operation not supported";
            case NbdErrorException.ESHUTDOWN -> "ESHUTDOWN, the server is shutting down";
            default -> "error " + Integer.toUnsignedString(e);
        };
    }

    private IOException protocol(String why) {
        return new IOException(label + ": protocol error: " + why);
    }

    // ---------------------------------------------------------------- byte plumbing

    private void send(ByteBuffer... bufs) throws IOException {
        for (ByteBuffer b : bufs) {
            while (b.hasRemaining()) {
                ch.write(bufs);
            }
        }
    }

    /** Makes at least {@code n} (at most the buffer's size) bytes readable in {@link #in}. */
    private void fill(int n) throws IOException {
        if (in.remaining() >= n) {
            return;
        }
        in.compact();
        try {
            while (in.position() < n) {
                if (ch.read(in) < 0) {
                    throw new EOFException(label + ": the server closed the connection");
                }
            }
        } finally {
            in.flip();
        }
    }

    private void readInto(ByteBuffer dst) throws IOException {
        int n = Math.min(in.remaining(), dst.remaining());
        if (n > 0) {
            dst.put(in.slice(in.position(), n));
            in.position(in.position() + n);
        }
        while (dst.hasRemaining()) {
            if (dst.remaining() < 4096) {
                fill(dst.remaining());
                readInto(dst);
                return;
            }
            if (ch.read(dst) < 0) {
                throw new EOFException(label + ": the server closed the connection");
            }
        }
    }

    private void skip(long n) throws IOException {
        while (n > 0) {
            fill((int) Math.min(n, in.capacity()));
            int k = (int) Math.min(n, in.remaining());
            in.position(in.position() + k);
            n -= k;
        }
    }
}
