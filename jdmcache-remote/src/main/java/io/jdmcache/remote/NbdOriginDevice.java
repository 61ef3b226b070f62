package io.jdmcache.remote;

import io.jdmcache.nbd.NbdErrorException;
import io.jdmcache.nbd.client.NbdClient;
import io.jdmcache.nbd.client.NbdTimeoutException;
import io.jdmcache.nbd.client.NbdUri;
import io.jdmcache.pdata.io.BlockDevice;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link BlockDevice} on a remote NBD export, for use as a cache's origin. The size comes from the server,
 * and so does read-only-ness.
 *
 * <p>When the connection is lost, the device reconnects in the background with a backoff (from 100 ms,
 * doubling up to {@link RemoteOptions#retryMaxMillis()}); meanwhile each request waits for the connection to
 * come back, up to {@link RemoteOptions#timeoutMillis()} from when it was made, and is then sent again, or
 * fails. A request the server does not answer within the timeout fails at once and the connection is made
 * again. An origin that stays away longer than the timeout is {@link State#FAILED}: requests then fail at once
 * until it is back. Error replies (EIO from the server, EPERM from a read-only export) fail their request only.
 *
 * <p>Writes answered since the last completed flush are kept (copies, up to
 * {@link RemoteOptions#replayBytes()}; a write that would keep more first flushes), and replayed in order on a
 * new connection, then flushed, before any other request is let through: a server that restarted and lost what
 * it had not made durable gets it back, so a later {@link #flush()} covers every write that returned.
 */
public final class NbdOriginDevice implements BlockDevice {
    /** The connection's state. */
    public enum State {
        CONNECTED, RECONNECTING, FAILED
    }

    private final NbdUri uri;
    private final RemoteOptions options;
    private final long size;
    private final boolean readOnly;
    private final Object lock = new Object();
    private NbdClient client;
    private State state = State.CONNECTED;
    private long sinceMillis = System.currentTimeMillis();
    private String lastError = "";
    private boolean closed;
    private Thread reconnector;
    private long reconnects;

    // writes answered since the last flush, oldest first
    private final ArrayDeque<Unflushed> unflushed = new ArrayDeque<>();
    private long unflushedBytes;
    /** Counts flushes begun: a write answered in epoch e is covered by the flush that begins epoch e + 1. */
    private long epoch;

    /** A write kept for a replay: recorded before it is sent, marked when it is answered. */
    private static final class Unflushed {
        final long offset;
        final byte[] data;
        final long zeroes;
        boolean answered;
        long answeredEpoch;

        Unflushed(long offset, byte[] data, long zeroes) {
            this.offset = offset;
            this.data = data;
            this.zeroes = zeroes;
        }

        long cost() {
            return data != null ? data.length : 64;
        }
    }

    /** Granule of the map of ranges known to read as zeroes. */
    static final int GRAIN = 1 << 20;
    /** How much block status is asked for at once when a read meets granules not known yet. */
    static final long WINDOW = 256L << 20;
    // granules whose allocation is known, and those of them known to read as zeroes (from BLOCK_STATUS)
    private final long[] known;
    private final long[] zero;
    private final Object mapLock = new Object();
    /** Writes started: a block-status answer is used only if no write started while it was asked. */
    private final java.util.concurrent.atomic.AtomicLong writesStarted = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong zeroReads = new java.util.concurrent.atomic.AtomicLong();

    /** The devices open now, by the name they were opened with (for front ends that only have the name). */
    private static final ConcurrentHashMap<String, NbdOriginDevice> OPEN = new ConcurrentHashMap<>();

    private NbdOriginDevice(NbdUri uri, RemoteOptions options, NbdClient client) {
        this.uri = uri;
        this.options = options;
        this.client = client;
        this.size = client.size();
        this.readOnly = client.isReadOnly();
        int words = client.canBlockStatus() ? (int) (((size + GRAIN - 1) / GRAIN + 63) / 64) : 0;
        this.known = new long[words];
        this.zero = new long[words];
    }

    /** Connects to the export at {@code uri} (fails if it cannot be reached now). */
    public static NbdOriginDevice open(String uri, RemoteOptions options) throws IOException {
        NbdUri u = NbdUri.parse(uri);
        NbdOriginDevice d = new NbdOriginDevice(u, options, NbdClient.connect(u, options.clientOptions()));
        OPEN.put(uri, d);
        return d;
    }

    /** The device opened with the name {@code uri} and not closed yet, or null. */
    public static NbdOriginDevice opened(String uri) {
        return OPEN.get(uri);
    }

    // ---------------------------------------------------------------- state

    public State state() {
        synchronized (lock) {
            return state;
        }
    }

    /** When the current state began (milliseconds since the epoch). */
    public long stateSinceMillis() {
        synchronized (lock) {
            return sinceMillis;
        }
    }

    /** Why the connection was last lost (empty when it never was). */
    public String lastError() {
        synchronized (lock) {
            return lastError;
        }
    }

    /** Connections made again after a loss. */
    public long reconnects() {
        synchronized (lock) {
            return reconnects;
        }
    }

    public NbdUri uri() {
        return uri;
    }

    /** The client in use now (its capabilities: flags, block sizes, connections). */
    public NbdClient client() {
        synchronized (lock) {
            return client;
        }
    }

    // ---------------------------------------------------------------- BlockDevice

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        BlockDevice.checkRange(this, offset, dst.remaining(), size);
        if (dst.hasRemaining() && readsAsZeroes(offset, dst.remaining())) {
            zeroReads.incrementAndGet();
            while (dst.hasRemaining()) {
                dst.put((byte) 0);
            }
            return;
        }
        int pos = dst.position();
        call(c -> {
            ByteBuffer d = dst.duplicate().position(pos);
            c.read(offset, d);
            return null;
        });
        dst.position(pos + (dst.limit() - pos));
    }

    @Override
    public void write(long offset, ByteBuffer src) throws IOException {
        checkWritable();
        BlockDevice.checkRange(this, offset, src.remaining(), size);
        int pos = src.position();
        int len = src.remaining();
        byte[] copy = new byte[len];
        src.duplicate().position(pos).get(copy);
        written(offset, len);
        Unflushed u = remember(offset, copy, 0);
        try {
            call(c -> {
                c.write(offset, src.duplicate().position(pos), false);
                return null;
            });
        } catch (IOException e) {
            drop(u);
            throw e;
        }
        src.position(pos + len);
        answered(u);
    }

    @Override
    public void writeZeroes(long offset, long length) throws IOException {
        checkWritable();
        BlockDevice.checkRange(this, offset, length, size);
        written(offset, length);
        Unflushed u = remember(offset, null, length);
        try {
            call(c -> {
                c.writeZeroes(offset, length, false);
                return null;
            });
        } catch (IOException e) {
            drop(u);
            throw e;
        }
        answered(u);
    }

    @Override
    public void discard(long offset, long length) throws IOException {
        if (readOnly) {
            return;
        }
        BlockDevice.checkRange(this, offset, length, size);
        written(offset, length);
        call(c -> {
            c.trim(offset, length);
            return null;
        });
    }

    @Override
    public void flush() throws IOException {
        if (readOnly) {
            return;
        }
        long e;
        synchronized (lock) {
            e = epoch++;
        }
        call(c -> {
            c.flush();
            return null;
        });
        synchronized (lock) {
            forget(e);
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    @Override
    public boolean isRemote() {
        return true;
    }

    @Override
    public String name() {
        return uri.toString();
    }

    @Override
    public void close() throws IOException {
        NbdClient c;
        Thread r;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            OPEN.remove(uri.text(), this);
            c = client;
            r = reconnector;
            lock.notifyAll();
        }
        if (r != null) {
            r.interrupt();
            try {
                r.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        c.close();
    }

    @Override
    public String toString() {
        return "NbdOriginDevice[" + uri + "]";
    }

    // ---------------------------------------------------------------- retries

    @FunctionalInterface
    private interface Op<T> {
        T run(NbdClient c) throws IOException;
    }

    private void checkWritable() throws IOException {
        if (readOnly) {
            throw new NbdErrorException(NbdErrorException.EPERM, uri + ": the origin is read-only");
        }
    }

    private <T> T call(Op<T> op) throws IOException {
        long timeout = options.timeoutMillis();
        long deadline = timeout > 0 ? System.nanoTime() + timeout * 1_000_000 : Long.MAX_VALUE;
        while (true) {
            NbdClient c = awaitConnected(deadline);
            try {
                return op.run(c);
            } catch (NbdErrorException e) {
                throw e;
            } catch (NbdTimeoutException e) {
                lost(c, e);
                throw new IOException(uri + ": the origin did not answer within " + timeout
                        + " ms (--origin-timeout)", e);
            } catch (InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                if (c.isAlive()) {
                    throw e;
                }
                lost(c, e);
            }
        }
    }

    private NbdClient awaitConnected(long deadline) throws IOException {
        synchronized (lock) {
            while (true) {
                if (closed) {
                    throw new IOException(uri + ": closed");
                }
                if (state == State.CONNECTED) {
                    return client;
                }
                long now = System.nanoTime();
                failIfOverdue();
                if (state == State.FAILED) {
                    throw new IOException(uri + ": the origin is unreachable since " + Instant.ofEpochMilli(sinceMillis)
                            + " (" + lastError + ")");
                }
                if (now - deadline >= 0) {
                    throw new IOException(uri + ": the origin is unreachable (" + lastError + "); gave up after "
                            + options.timeoutMillis() + " ms (--origin-timeout)");
                }
                long waitMs = Math.max(1, Math.min(100, (deadline - now) / 1_000_000));
                try {
                    lock.wait(waitMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException(uri + ": interrupted while waiting for the origin");
                }
            }
        }
    }

    /** RECONNECTING for longer than the timeout becomes FAILED. Holds {@link #lock}. */
    private void failIfOverdue() {
        long timeout = options.timeoutMillis();
        long now = System.currentTimeMillis();
        if (state == State.RECONNECTING && timeout > 0 && now - sinceMillis >= timeout) {
            state = State.FAILED;
            sinceMillis = now;
            options.log().accept("origin " + uri + ": unreachable for " + timeout + " ms; requests fail until it "
                    + "is back (" + lastError + ")");
        }
    }

    private void lost(NbdClient c, IOException why) {
        synchronized (lock) {
            if (client != c || state != State.CONNECTED || closed) {
                return;
            }
            state = State.RECONNECTING;
            sinceMillis = System.currentTimeMillis();
            lastError = why.getMessage();
            options.log().accept("origin " + uri + ": connection lost (" + lastError + "); reconnecting");
            reconnector = new Thread(this::reconnect, "origin-reconnect " + uri);
            reconnector.setDaemon(true);
            reconnector.start();
        }
    }

    private void reconnect() {
        long backoff = 100;
        NbdClient old;
        synchronized (lock) {
            old = client;
        }
        old.abort();
        long lostAt;
        synchronized (lock) {
            lostAt = sinceMillis;
        }
        while (true) {
            synchronized (lock) {
                if (closed) {
                    return;
                }
                failIfOverdue();
            }
            NbdClient c = null;
            try {
                c = NbdClient.connect(uri, options.clientOptions());
                if (c.size() != size) {
                    throw new IOException("the export's size changed from " + size + " to " + c.size() + " bytes");
                }
                if (c.isReadOnly() != readOnly) {
                    throw new IOException("the export became " + (c.isReadOnly() ? "read-only" : "writable"));
                }
                int replayed = replay(c);
                synchronized (lock) {
                    if (closed) {
                        c.close();
                        return;
                    }
                    long away = System.currentTimeMillis() - lostAt;
                    client = c;
                    state = State.CONNECTED;
                    sinceMillis = System.currentTimeMillis();
                    reconnects++;
                    reconnector = null;
                    lock.notifyAll();
                    options.log().accept("origin " + uri + ": reconnected after " + away + " ms"
                            + (replayed > 0 ? "; " + replayed + " unflushed writes replayed and flushed" : ""));
                }
                return;
            } catch (IOException e) {
                if (c != null) {
                    c.close();
                }
                synchronized (lock) {
                    lastError = e.getMessage();
                }
            }
            try {
                Thread.sleep(backoff);
            } catch (InterruptedException e) {
                synchronized (lock) {
                    if (closed) {
                        return;
                    }
                }
            }
            backoff = Math.min(backoff * 2, options.retryMaxMillis());
        }
    }

    /** Writes again, in order, what was answered but not flushed, then flushes; returns how many. */
    private int replay(NbdClient c) throws IOException {
        Unflushed[] todo;
        long e;
        synchronized (lock) {
            todo = unflushed.toArray(new Unflushed[0]);
            e = epoch++;
        }
        if (todo.length == 0) {
            return 0;
        }
        for (Unflushed u : todo) {
            if (u.data != null) {
                c.write(u.offset, ByteBuffer.wrap(u.data), false);
            } else {
                c.writeZeroes(u.offset, u.zeroes, false);
            }
        }
        c.flush();
        synchronized (lock) {
            forget(e);
        }
        return todo.length;
    }

    /** Keeps a write about to be sent (flushing first when too much is kept already). */
    private Unflushed remember(long offset, byte[] data, long zeroes) throws IOException {
        boolean full;
        synchronized (lock) {
            full = unflushedBytes > options.replayBytes();
        }
        if (full) {
            flush();
        }
        Unflushed u = new Unflushed(offset, data, zeroes);
        synchronized (lock) {
            unflushed.addLast(u);
            unflushedBytes += u.cost();
        }
        return u;
    }

    /** A write that failed: its content on the server is undefined, and it is not replayed. */
    private void drop(Unflushed u) {
        synchronized (lock) {
            if (unflushed.removeFirstOccurrence(u)) {
                unflushedBytes -= u.cost();
            }
        }
    }

    private void answered(Unflushed u) {
        synchronized (lock) {
            u.answered = true;
            u.answeredEpoch = epoch;
        }
    }

    /** Drops the kept writes answered before the flush that began after epoch {@code e}. Holds {@link #lock}. */
    private void forget(long e) {
        for (Iterator<Unflushed> it = unflushed.iterator(); it.hasNext(); ) {
            Unflushed u = it.next();
            if (u.answered && u.answeredEpoch <= e) {
                unflushedBytes -= u.cost();
                it.remove();
            }
        }
    }

    // ---------------------------------------------------------------- ranges known to read as zeroes

    /**
     * Whether {@code [offset, offset+length)} is known to read as zeroes: the server said so (BLOCK_STATUS,
     * {@code base:allocation}) for every whole granule of it, and nothing was written there since through this
     * device. That is safe because a cache's origin is written by the cache only. Granules not known yet are
     * asked about, a window at a time; any failure just means "not known" (the data is then read).
     */
    private boolean readsAsZeroes(long offset, long length) {
        if (known.length == 0) {
            return false;
        }
        long g0 = offset / GRAIN;
        long g1 = (offset + length - 1) / GRAIN;
        synchronized (mapLock) {
            boolean allKnown = true;
            for (long g = g0; g <= g1; g++) {
                if (!bit(known, g)) {
                    allKnown = false;
                } else if (!bit(zero, g)) {
                    return false;
                }
            }
            if (allKnown) {
                return true;
            }
        }
        learn(g0 * GRAIN);
        synchronized (mapLock) {
            for (long g = g0; g <= g1; g++) {
                if (!bit(known, g) || !bit(zero, g)) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Asks the server about the window from {@code start} (a granule boundary). */
    private void learn(long start) {
        long end = Math.min(size, start + WINDOW);
        long gen = writesStarted.get();
        List<long[]> zeroRuns = new ArrayList<>();
        long pos = start;
        try {
            NbdClient c = client();
            for (int asks = 0; pos < end && asks < 64; asks++) {
                for (io.jdmcache.nbd.Extent e : c.blockStatus(pos, end - pos)) {
                    if ((e.flags() & io.jdmcache.nbd.NbdBackend.STATE_ZERO) != 0) {
                        zeroRuns.add(new long[] {pos, pos + e.length()});
                    }
                    pos += e.length();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not known then; the data is read
        }
        long learned = pos;
        synchronized (mapLock) {
            if (writesStarted.get() != gen) {
                return; // a write may have landed after the server answered
            }
            for (long g = start / GRAIN; (g + 1) * GRAIN <= learned || (g * GRAIN < learned && learned == size); g++) {
                set(known, g, true);
            }
            for (long[] r : zeroRuns) {
                for (long g = (r[0] + GRAIN - 1) / GRAIN; g * GRAIN < r[1] && Math.min(size, (g + 1) * GRAIN) <= r[1];
                     g++) {
                    set(zero, g, true);
                }
            }
        }
    }

    /** A write (or trim) is about to change {@code [offset, offset+length)}: those granules are not zero any more. */
    private void written(long offset, long length) {
        if (known.length == 0 || length == 0) {
            return;
        }
        synchronized (mapLock) {
            writesStarted.incrementAndGet();
            for (long g = offset / GRAIN; g <= (offset + length - 1) / GRAIN; g++) {
                set(known, g, true);
                set(zero, g, false);
            }
        }
    }

    private static boolean bit(long[] w, long g) {
        return (w[(int) (g >>> 6)] & (1L << g)) != 0;
    }

    private static void set(long[] w, long g, boolean on) {
        if (on) {
            w[(int) (g >>> 6)] |= 1L << g;
        } else {
            w[(int) (g >>> 6)] &= ~(1L << g);
        }
    }

    /** Reads answered with zeroes without asking the server for data (the range was known to be zeroes). */
    public long zeroReads() {
        return zeroReads.get();
    }

    /** Bytes of answered writes not yet flushed, kept for a replay. */
    public long unflushedBytes() {
        synchronized (lock) {
            return unflushedBytes;
        }
    }
}
