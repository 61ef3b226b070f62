package io.jdmcache.nbd.client;

import static io.jdmcache.nbd.NbdProtocol.*;

import io.jdmcache.nbd.Extent;
import io.jdmcache.nbd.NbdErrorException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client of one NBD export: a block device on a remote server. Thread-safe: any number of threads may call
 * at once, and their requests are pipelined (many in flight per connection, answered in any order).
 *
 * <p>What the server advertises is honoured: requests are aligned to its minimum block size (reads widened
 * to whole blocks, writes that start or end inside a block done as read-modify-write of that block) and split
 * at its maximum payload; FUA is sent when the server has it, else emulated by a FLUSH; TRIM is dropped and
 * WRITE_ZEROES written as zeroes when the server lacks them; block status comes from {@code base:allocation}
 * when the server has it, else everything is reported as data. Several connections are opened only when the
 * server advertises multi-conn (then a FLUSH on any one covers the writes answered on all).
 *
 * <p>Read-modify-write is atomic only against other read-modify-writes of this client: callers must not
 * write concurrently into the same minimum block (the cache engine never does: it holds a lock over each
 * cache block it writes, and cache blocks are at least 32 KiB).
 */
public final class NbdClient implements Closeable {
    /** Timers for handshake timeouts (one daemon thread for every client). */
    static final ScheduledThreadPoolExecutor TIMER = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "nbd-client-timer");
        t.setDaemon(true);
        return t;
    });

    static {
        TIMER.setRemoveOnCancelPolicy(true);
    }

    /** Largest TRIM or WRITE_ZEROES sent at once (their length is a 32-bit field). */
    private static final long MAX_RANGE = 1L << 30;
    private static final int STRIPES = 64;

    /**
     * How to connect.
     *
     * @param connections          connections wanted (more than one only if the server advertises multi-conn)
     * @param maxInFlight          requests in flight per connection
     * @param connectTimeoutMillis time allowed to connect and negotiate
     * @param requestTimeoutMillis time a request may wait for its reply (0 = no limit); when it runs out the
     *                             connection is closed and every request in flight on it fails
     * @param structuredReplies    ask for structured replies
     * @param blockStatus          ask for {@code base:allocation} (needs structured replies)
     */
    public record Options(int connections, int maxInFlight, long connectTimeoutMillis, long requestTimeoutMillis,
                          boolean structuredReplies, boolean blockStatus) {
        public Options {
            if (connections < 1 || connections > 64) {
                throw new IllegalArgumentException("connections must be 1 to 64: " + connections);
            }
            if (maxInFlight < 1 || maxInFlight > 4096) {
                throw new IllegalArgumentException("requests in flight must be 1 to 4096: " + maxInFlight);
            }
            if (connectTimeoutMillis < 1) {
                throw new IllegalArgumentException("the connect timeout must be positive: " + connectTimeoutMillis);
            }
            if (requestTimeoutMillis < 0) {
                throw new IllegalArgumentException("the request timeout must not be negative: "
                        + requestTimeoutMillis);
            }
        }

        public static Options defaults() {
            return new Options(1, 64, 30_000, 0, true, true);
        }

        public Options withConnections(int n) {
            return new Options(n, maxInFlight, connectTimeoutMillis, requestTimeoutMillis, structuredReplies,
                    blockStatus);
        }

        public Options withMaxInFlight(int n) {
            return new Options(connections, n, connectTimeoutMillis, requestTimeoutMillis, structuredReplies,
                    blockStatus);
        }

        public Options withConnectTimeoutMillis(long ms) {
            return new Options(connections, maxInFlight, ms, requestTimeoutMillis, structuredReplies, blockStatus);
        }

        public Options withRequestTimeoutMillis(long ms) {
            return new Options(connections, maxInFlight, connectTimeoutMillis, ms, structuredReplies, blockStatus);
        }

        public Options withStructuredReplies(boolean on) {
            return new Options(connections, maxInFlight, connectTimeoutMillis, requestTimeoutMillis, on,
                    blockStatus);
        }

        public Options withBlockStatus(boolean on) {
            return new Options(connections, maxInFlight, connectTimeoutMillis, requestTimeoutMillis,
                    structuredReplies, on);
        }
    }

    private final NbdUri uri;
    private final Options options;
    private final ClientConnection[] conns;
    private final ClientConnection first;
    private final int min;
    private final int maxChunk;
    private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
    private volatile boolean closed;

    private NbdClient(NbdUri uri, Options options, ClientConnection[] conns) {
        this.uri = uri;
        this.options = options;
        this.conns = conns;
        this.first = conns[0];
        this.min = first.minBlock;
        this.maxChunk = first.maxPayload;
        for (int i = 0; i < STRIPES; i++) {
            stripes[i] = new ReentrantLock();
        }
    }

    /** Connects to {@code uri} and negotiates. */
    public static NbdClient connect(String uri, Options options) throws IOException {
        return connect(NbdUri.parse(uri), options);
    }

    /** Connects to {@code uri} and negotiates. */
    public static NbdClient connect(NbdUri uri, Options options) throws IOException {
        ClientConnection c0 = ClientConnection.open(uri, options, 0);
        List<ClientConnection> all = new ArrayList<>();
        all.add(c0);
        if (options.connections() > 1 && (c0.flags & TF_CAN_MULTI_CONN) != 0) {
            try {
                for (int i = 1; i < options.connections(); i++) {
                    ClientConnection c = ClientConnection.open(uri, options, i);
                    all.add(c);
                    if (c.size != c0.size || c.flags != c0.flags || c.minBlock != c0.minBlock
                            || c.maxPayload != c0.maxPayload || c.baseAllocation != c0.baseAllocation
                            || c.structured != c0.structured) {
                        throw new NbdHandshakeException(uri + ": connection " + (i + 1)
                                + " was offered a different export than the first");
                    }
                }
            } catch (IOException | RuntimeException e) {
                for (ClientConnection c : all) {
                    c.abort(new IOException("closed"));
                }
                throw e;
            }
        }
        return new NbdClient(uri, options, all.toArray(new ClientConnection[0]));
    }

    // ---------------------------------------------------------------- what the server offers

    public NbdUri uri() {
        return uri;
    }

    public Options options() {
        return options;
    }

    /** The export's size in bytes. */
    public long size() {
        return first.size;
    }

    /** The transmission flags the server sent. */
    public int transmissionFlags() {
        return first.flags;
    }

    public boolean isReadOnly() {
        return (first.flags & TF_READ_ONLY) != 0;
    }

    public boolean canFlush() {
        return (first.flags & TF_SEND_FLUSH) != 0;
    }

    public boolean canFua() {
        return (first.flags & TF_SEND_FUA) != 0;
    }

    public boolean canTrim() {
        return (first.flags & TF_SEND_TRIM) != 0;
    }

    public boolean canWriteZeroes() {
        return (first.flags & TF_SEND_WRITE_ZEROES) != 0;
    }

    public boolean canMultiConn() {
        return (first.flags & TF_CAN_MULTI_CONN) != 0;
    }

    public boolean isRotational() {
        return (first.flags & TF_ROTATIONAL) != 0;
    }

    /** Whether structured replies were negotiated. */
    public boolean structuredReplies() {
        return first.structured;
    }

    /** Whether {@code base:allocation} was negotiated, so {@link #blockStatus} asks the server. */
    public boolean canBlockStatus() {
        return first.baseAllocation;
    }

    public int minimumBlockSize() {
        return min;
    }

    public int preferredBlockSize() {
        return first.preferredBlock;
    }

    /** The largest READ or WRITE sent in one request. */
    public int maximumPayload() {
        return maxChunk;
    }

    /** Whether the server sent NBD_INFO_BLOCK_SIZE. */
    public boolean blockSizesAdvertised() {
        return first.blockSizesAdvertised;
    }

    /** Connections open (more than one only with multi-conn). */
    public int connectionCount() {
        return conns.length;
    }

    /** Whether every connection still works (a lost connection is not reopened). */
    public boolean isAlive() {
        for (ClientConnection c : conns) {
            if (!c.isAlive()) {
                return false;
            }
        }
        return !closed;
    }

    // ---------------------------------------------------------------- I/O

    /** Reads {@code dst.remaining()} bytes at {@code offset} (any alignment). */
    public void read(long offset, ByteBuffer dst) throws IOException {
        int len = dst.remaining();
        checkRange(offset, len, false);
        if (len == 0) {
            return;
        }
        if (aligned(offset, len)) {
            readAligned(offset, dst.slice());
        } else {
            long s = floor(offset);
            long e = ceilEnd(offset + len);
            ByteBuffer tmp = ByteBuffer.allocate(Math.toIntExact(e - s));
            readAligned(s, tmp);
            dst.slice().put(tmp.position((int) (offset - s)).limit((int) (offset - s) + len));
        }
        dst.position(dst.position() + len);
    }

    /**
     * Writes {@code src.remaining()} bytes at {@code offset} (any alignment); with {@code fua} they are
     * persistent when this returns.
     */
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        int len = src.remaining();
        checkWritable();
        checkRange(offset, len, true);
        if (len == 0) {
            return;
        }
        boolean sendFua = fua && canFua();
        long end = offset + len;
        ByteBuffer s = src.slice();
        if (aligned(offset, len)) {
            writeAligned(offset, s, sendFua);
        } else {
            long headBlock = floor(offset);
            long tailBlock = floor(end - 1);
            boolean headPartial = offset != headBlock;
            boolean tailPartial = end != ceilEnd(end);
            if (headBlock == tailBlock) {
                readModifyWrite(headBlock, offset, s, sendFua);
            } else {
                long midStart = headPartial ? headBlock + min : offset;
                long midEnd = tailPartial ? tailBlock : end;
                if (headPartial) {
                    readModifyWrite(headBlock, offset, s.slice(0, (int) (midStart - offset)), sendFua);
                }
                if (midEnd > midStart) {
                    writeAligned(midStart, s.slice((int) (midStart - offset), (int) (midEnd - midStart)), sendFua);
                }
                if (tailPartial) {
                    readModifyWrite(tailBlock, tailBlock, s.slice((int) (tailBlock - offset), (int) (end - tailBlock)),
                            sendFua);
                }
            }
        }
        src.position(src.position() + len);
        if (fua && !sendFua) {
            flush();
        }
    }

    /** Makes every write that already returned persistent on the server (nothing to do without SEND_FLUSH). */
    public void flush() throws IOException {
        checkOpen();
        if (!canFlush()) {
            return;
        }
        ClientConnection c = pick();
        await(c, c.submit(new ClientConnection.Request(CMD_FLUSH, 0, 0, 0, null)));
    }

    /**
     * Tells the server a range is no longer needed (NBD_CMD_TRIM over the whole minimum blocks inside it); does
     * nothing when the server has no TRIM.
     */
    public void trim(long offset, long length) throws IOException {
        checkWritable();
        checkRange(offset, length, true);
        if (!canTrim()) {
            return;
        }
        long s = ceil(offset);
        long e = offset + length == size() ? size() : floor(offset + length);
        ranges(CMD_TRIM, 0, s, e);
    }

    /**
     * Makes a range read as zeroes: NBD_CMD_WRITE_ZEROES (with NO_HOLE when {@code noHole}) when the server
     * has it, else writes of zeroes.
     */
    public void writeZeroes(long offset, long length, boolean noHole) throws IOException {
        checkWritable();
        checkRange(offset, length, true);
        long end = offset + length;
        if (!canWriteZeroes()) {
            writeZeroBuffers(offset, end);
            return;
        }
        long s = ceil(offset);
        long e = end == size() ? end : floor(end);
        if (e <= s) {
            writeZeroBuffers(offset, end);
            return;
        }
        writeZeroBuffers(offset, s);
        ranges(CMD_WRITE_ZEROES, noHole ? CMD_FLAG_NO_HOLE : 0, s, e);
        writeZeroBuffers(e, end);
    }

    /**
     * Allocation status from the start of {@code [offset, offset+length)}: extents in order from
     * {@code offset}, covering at least some of the range and none past it ({@link io.jdmcache.nbd.NbdBackend}'s
     * {@code STATE_HOLE}, {@code STATE_ZERO} flags; 0 = data). Without {@code base:allocation}: one data extent.
     */
    public List<Extent> blockStatus(long offset, long length) throws IOException {
        checkRange(offset, length, false);
        if (length == 0) {
            return List.of();
        }
        if (!canBlockStatus()) {
            return List.of(new Extent(length, 0));
        }
        long s = floor(offset);
        long e = Math.min(ceilEnd(offset + length), s + MAX_RANGE);
        ClientConnection c = pick();
        ClientConnection.Request r = await(c, c.submit(
                new ClientConnection.Request(CMD_BLOCK_STATUS, 0, s, (int) (e - s), null)));
        List<Extent> out = new ArrayList<>();
        long pos = s;
        long want = offset + length;
        for (Extent x : r.extents) {
            long xs = Math.max(pos, offset);
            long xe = Math.min(pos + x.length(), want);
            if (xe > xs) {
                out.add(new Extent(xe - xs, x.flags()));
            }
            pos += x.length();
            if (pos >= want) {
                break;
            }
        }
        if (out.isEmpty()) {
            throw new IOException(uri + ": the block-status reply covers nothing of the range asked for");
        }
        return out;
    }

    // ---------------------------------------------------------------- pieces

    private void readAligned(long offset, ByteBuffer dst) throws IOException {
        int len = dst.remaining();
        List<ClientConnection.Request> sent = new ArrayList<>(len / maxChunk + 1);
        List<ClientConnection> on = new ArrayList<>(len / maxChunk + 1);
        IOException failed = null;
        for (int done = 0; done < len && failed == null; ) {
            int n = Math.min(maxChunk, len - done);
            ClientConnection c = pick();
            try {
                sent.add(c.submit(new ClientConnection.Request(CMD_READ, 0, offset + done, n,
                        dst.slice(done, n))));
                on.add(c);
            } catch (IOException e) {
                failed = e;
            }
            done += n;
        }
        awaitAll(sent, on, failed);
    }

    private void writeAligned(long offset, ByteBuffer src, boolean fua) throws IOException {
        int len = src.remaining();
        List<ClientConnection.Request> sent = new ArrayList<>(len / maxChunk + 1);
        List<ClientConnection> on = new ArrayList<>(len / maxChunk + 1);
        IOException failed = null;
        for (int done = 0; done < len && failed == null; ) {
            int n = Math.min(maxChunk, len - done);
            ClientConnection c = pick();
            try {
                sent.add(c.submit(new ClientConnection.Request(CMD_WRITE, fua ? CMD_FLAG_FUA : 0, offset + done,
                        n, src.slice(done, n))));
                on.add(c);
            } catch (IOException e) {
                failed = e;
            }
            done += n;
        }
        awaitAll(sent, on, failed);
    }

    private void readModifyWrite(long block, long offset, ByteBuffer part, boolean fua) throws IOException {
        ReentrantLock l = stripes[(int) Long.remainderUnsigned(block / min, STRIPES)];
        l.lock();
        try {
            ByteBuffer tmp = ByteBuffer.allocate((int) (ceilEnd(block + 1) - block));
            readAligned(block, tmp);
            tmp.clear().position((int) (offset - block));
            tmp.put(part.duplicate());
            tmp.clear();
            writeAligned(block, tmp, fua);
        } finally {
            l.unlock();
        }
    }

    private void ranges(int cmd, int flags, long s, long e) throws IOException {
        List<ClientConnection.Request> sent = new ArrayList<>();
        List<ClientConnection> on = new ArrayList<>();
        IOException failed = null;
        long step = MAX_RANGE / min * min;
        for (long pos = s; pos < e && failed == null; pos += step) {
            long n = Math.min(step, e - pos);
            ClientConnection c = pick();
            try {
                sent.add(c.submit(new ClientConnection.Request(cmd, flags, pos, (int) n, null)));
                on.add(c);
            } catch (IOException ex) {
                failed = ex;
            }
        }
        awaitAll(sent, on, failed);
    }

    private void writeZeroBuffers(long s, long e) throws IOException {
        if (e <= s) {
            return;
        }
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(e - s, 1 << 20));
        for (long pos = s; pos < e; ) {
            int n = (int) Math.min(zeros.capacity(), e - pos);
            write(pos, zeros.clear().limit(n), false);
            pos += n;
        }
    }

    private void awaitAll(List<ClientConnection.Request> sent, List<ClientConnection> on, IOException failed)
            throws IOException {
        for (int i = 0; i < sent.size(); i++) {
            try {
                await(on.get(i), sent.get(i));
            } catch (IOException e) {
                if (failed == null) {
                    failed = e;
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /**
     * Waits for a reply. When the request timeout runs out or the thread is interrupted, the connection is
     * closed first, so that nothing writes into the request's buffer after this returns.
     */
    private ClientConnection.Request await(ClientConnection c, ClientConnection.Request r) throws IOException {
        long timeout = options.requestTimeoutMillis();
        try {
            return timeout > 0 ? r.done.get(timeout, TimeUnit.MILLISECONDS) : r.done.get();
        } catch (TimeoutException e) {
            c.abort(new NbdTimeoutException(c.label + ": no reply within " + timeout + " ms"));
            awaitQuietly(r);
            throw new NbdTimeoutException(c.label + ": no reply within " + timeout + " ms");
        } catch (InterruptedException e) {
            c.abort(new InterruptedIOException(c.label + ": interrupted"));
            awaitQuietly(r);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(c.label + ": interrupted while waiting for a reply");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof NbdErrorException ne) {
                throw new NbdErrorException(ne.error(), ne.getMessage());
            }
            if (cause instanceof NbdTimeoutException te) {
                throw new NbdTimeoutException(te.getMessage());
            }
            if (cause instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException(c.label + ": " + cause, cause);
        }
    }

    private static void awaitQuietly(ClientConnection.Request r) {
        boolean interrupted = false;
        while (true) {
            try {
                r.done.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The live connection with the fewest requests in flight. */
    private ClientConnection pick() throws IOException {
        checkOpen();
        if (conns.length == 1) {
            return first;
        }
        ClientConnection best = null;
        for (ClientConnection c : conns) {
            if (c.isAlive() && (best == null || c.inFlight() < best.inFlight())) {
                best = c;
            }
        }
        return best != null ? best : first;
    }

    private boolean aligned(long offset, long len) {
        return offset % min == 0 && (len % min == 0 || offset + len == size());
    }

    private long floor(long x) {
        return x / min * min;
    }

    private long ceil(long x) {
        return Math.min(size(), (x + min - 1) / min * min);
    }

    /** The end of the minimum block holding the byte before {@code x} (the export's end at most). */
    private long ceilEnd(long x) {
        return ceil(x);
    }

    private void checkOpen() throws IOException {
        if (closed) {
            throw new IOException(uri + ": client closed");
        }
    }

    private void checkWritable() throws IOException {
        checkOpen();
        if (isReadOnly()) {
            throw new NbdErrorException(NbdErrorException.EPERM, uri + ": the export is read-only");
        }
    }

    private void checkRange(long offset, long length, boolean write) throws IOException {
        checkOpen();
        if (offset < 0 || length < 0 || offset > size() - length) {
            throw new NbdErrorException(write ? NbdErrorException.ENOSPC : NbdErrorException.EINVAL,
                    uri + ": access at byte " + offset + " length " + length + " is past the end of the export ("
                            + size() + " bytes)");
        }
    }

    /**
     * Waits (up to the request timeout, else 30 s) for the requests in flight, then disconnects politely
     * (NBD_CMD_DISC) and closes.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        long wait = options.requestTimeoutMillis() > 0 ? options.requestTimeoutMillis() : 30_000;
        for (ClientConnection c : conns) {
            try {
                c.drain(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            c.disconnect();
        }
        for (ClientConnection c : conns) {
            c.awaitClose(5_000);
        }
    }

    /**
     * Closes every connection at once, without waiting: what is in flight fails with a connection-lost error
     * (the client is then dead; a new one must be connected).
     */
    public void abort() {
        closed = true;
        for (ClientConnection c : conns) {
            c.abort(new IOException(c.label + ": closed"));
        }
    }

    @Override
    public String toString() {
        return "NbdClient[" + uri + "]";
    }
}
