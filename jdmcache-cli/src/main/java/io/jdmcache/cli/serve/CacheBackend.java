package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.nbd.NbdBackend;
import io.jdmcache.sim.trace.JdmTraceFormat;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The cache engine as an NBD export: the adapter between the two layers, which know nothing of each other.
 * One {@link CacheDevice} serves every connection, so a flush on one covers writes completed on all
 * (multi-conn is safe). With a {@link RequestTimer}, every request's time in the engine is recorded by
 * operation and outcome: a read or write is a hit when none of its blocks missed (the engine counts misses
 * per calling thread, and a request runs on one thread). With a {@link TraceRecorder} (from {@code serve --trace},
 * the volume's {@code trace:} key or the message {@code trace start FILE}), every request is also recorded as
 * it arrives.
 */
public final class CacheBackend implements NbdBackend {
    private final CacheDevice cache;
    private final boolean readOnly;
    private final RequestTimer timer;
    /** Told how closing went (null: cleanly, else the failure), or null. */
    private volatile java.util.function.Consumer<IOException> closed;
    /** Where requests are recorded, or null; changed under {@code this}. */
    private volatile TraceRecorder trace;
    private boolean closing;

    public CacheBackend(CacheDevice cache, boolean readOnly) {
        this(cache, readOnly, null);
    }

    /** @param timer where request latencies go, or null for none */
    public CacheBackend(CacheDevice cache, boolean readOnly, RequestTimer timer) {
        this.cache = cache;
        this.readOnly = readOnly;
        this.timer = timer;
    }

    public CacheDevice cache() {
        return cache;
    }

    /**
     * Calls {@code listener} once the cache is closed (the NBD server closes its backends when an export is
     * removed or the server stops), with null when the close went well or with its failure.
     */
    public CacheBackend onClose(java.util.function.Consumer<IOException> listener) {
        this.closed = listener;
        return this;
    }

    /** Told of a trace stopped because the volume stops (to log what it holds), or null. */
    private volatile java.util.function.Consumer<TraceRecorder> traceStopped;

    public CacheBackend onTraceStoppedByClose(java.util.function.Consumer<TraceRecorder> listener) {
        this.traceStopped = listener;
        return this;
    }

    /**
     * Starts recording every request to {@code file} (created or truncated).
     *
     * @param name the volume's name (for the writer thread's)
     * @throws IllegalStateException when a trace is being recorded already, or the volume is stopping
     */
    public synchronized TraceRecorder startTrace(java.nio.file.Path file, String name) throws IOException {
        if (closing) {
            throw new IllegalStateException("the volume is stopping");
        }
        TraceRecorder t = trace;
        if (t != null) {
            throw new IllegalStateException("a trace is being recorded already, to " + t.file()
                    + "; send 'trace stop' first");
        }
        t = TraceRecorder.start(file, name);
        trace = t;
        return t;
    }

    /** Stops the trace being recorded (its requests written, its file closed) and returns it, or null. */
    public synchronized TraceRecorder stopTrace() {
        TraceRecorder t = trace;
        trace = null;
        if (t != null) {
            t.close();
        }
        return t;
    }

    /** The trace being recorded, or null. */
    public TraceRecorder trace() {
        return trace;
    }

    private void record(int op, long offset, long length) {
        TraceRecorder t = trace;
        if (t != null) {
            t.record(op, offset, length);
        }
    }

    @Override
    public long size() {
        return cache.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        record(JdmTraceFormat.READ, offset, dst.remaining());
        if (timer == null) {
            cache.read(offset, dst);
            return;
        }
        long misses = cache.threadMisses();
        long t0 = System.nanoTime();
        RequestTimer.Outcome outcome = RequestTimer.Outcome.ERROR;
        try {
            cache.read(offset, dst);
            outcome = cache.threadMisses() == misses ? RequestTimer.Outcome.HIT : RequestTimer.Outcome.MISS;
        } finally {
            timer.observe(RequestTimer.Op.READ, outcome, System.nanoTime() - t0);
        }
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        record(JdmTraceFormat.WRITE, offset, src.remaining());
        if (timer == null) {
            write(offset, src, fua, cache);
            return;
        }
        long misses = cache.threadMisses();
        long t0 = System.nanoTime();
        RequestTimer.Outcome outcome = RequestTimer.Outcome.ERROR;
        try {
            write(offset, src, fua, cache);
            outcome = cache.threadMisses() == misses ? RequestTimer.Outcome.HIT : RequestTimer.Outcome.MISS;
        } finally {
            timer.observe(RequestTimer.Op.WRITE, outcome, System.nanoTime() - t0);
        }
    }

    private static void write(long offset, ByteBuffer src, boolean fua, CacheDevice cache) throws IOException {
        if (fua) {
            cache.writeFua(offset, src);
        } else {
            cache.write(offset, src);
        }
    }

    @Override
    public void flush() throws IOException {
        record(JdmTraceFormat.FLUSH, 0, 0);
        timed(RequestTimer.Op.FLUSH, cache::flush);
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        record(JdmTraceFormat.TRIM, offset, length);
        timed(RequestTimer.Op.TRIM, () -> cache.discard(offset, length));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole) throws IOException {
        record(JdmTraceFormat.WRITE_ZEROES, offset, length);
        timed(RequestTimer.Op.WRITE_ZEROES, () -> cache.writeZeroes(offset, length));
    }

    @Override
    public void cache(long offset, long length) throws IOException {
        record(JdmTraceFormat.CACHE, offset, length);
        NbdBackend.super.cache(offset, length);
    }

    private interface Call {
        void run() throws IOException;
    }

    /** Runs a request that is neither a hit nor a miss, timing it when there is a timer. */
    private void timed(RequestTimer.Op op, Call call) throws IOException {
        if (timer == null) {
            call.run();
            return;
        }
        long t0 = System.nanoTime();
        RequestTimer.Outcome outcome = RequestTimer.Outcome.ERROR;
        try {
            call.run();
            outcome = RequestTimer.Outcome.DONE;
        } finally {
            timer.observe(op, outcome, System.nanoTime() - t0);
        }
    }

    @Override
    public boolean isReadOnly() {
        return readOnly || cache.isReadOnly();
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public void close() throws IOException {
        java.util.function.Consumer<IOException> l = closed;
        synchronized (this) {
            closing = true;
        }
        TraceRecorder t = stopTrace(); // every request has finished: the trace is whole
        if (t != null && traceStopped != null) {
            traceStopped.accept(t);
        }
        try {
            cache.close();
        } catch (IOException e) {
            if (l != null) {
                l.accept(e);
            }
            throw e;
        }
        if (l != null) {
            l.accept(null);
        }
    }
}
