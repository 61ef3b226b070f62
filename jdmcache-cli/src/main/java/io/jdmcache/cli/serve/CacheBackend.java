package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.nbd.NbdBackend;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The cache engine as an NBD export: the adapter between the two layers, which know nothing of each other.
 * One {@link CacheDevice} serves every connection, so a flush on one covers writes completed on all
 * (multi-conn is safe). With a {@link RequestTimer}, every request's time in the engine is recorded by
 * operation and outcome: a read or write is a hit when none of its blocks missed (the engine counts misses
 * per calling thread, and a request runs on one thread).
 */
public final class CacheBackend implements NbdBackend {
    private final CacheDevice cache;
    private final boolean readOnly;
    private final RequestTimer timer;
    /** Told how closing went (null: cleanly, else the failure), or null. */
    private volatile java.util.function.Consumer<IOException> closed;

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

    @Override
    public long size() {
        return cache.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
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
        timed(RequestTimer.Op.FLUSH, cache::flush);
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        timed(RequestTimer.Op.TRIM, () -> cache.discard(offset, length));
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole) throws IOException {
        timed(RequestTimer.Op.WRITE_ZEROES, () -> cache.writeZeroes(offset, length));
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
