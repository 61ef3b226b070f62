package io.jdmcache.engine.io;

import io.jdmcache.engine.CacheMode;
import io.jdmcache.engine.commit.Committer;
import io.jdmcache.engine.core.Activity;
import io.jdmcache.engine.core.BlockLocks;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.DiscardSet;
import io.jdmcache.engine.core.EngineCounters;
import io.jdmcache.engine.core.WorkCompletions;
import io.jdmcache.engine.migration.MigrationWorkers;
import io.jdmcache.engine.migration.Migrator;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.policy.CachePolicy;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Bio processing: every request from outside (read, write, discard, write-zeroes, flush) enters here, already
 * checked against the cache's size. A request is cut at cache block boundaries; each piece runs under its
 * origin block's lock and the {@link IoMode} decides where it goes.
 */
public final class IoPath {
    /** The most blocks one read locks and looks up together. */
    private static final int MAX_READ_RUN = 64;
    private static final int ZERO_CHUNK = 1 << 20;
    /** How far past a sequential write that waits for a commit the blocks are marked dirty with it (bytes). */
    static final long DIRTY_AHEAD = 8L << 20;

    private final CacheGeometry geometry;
    private final CachePolicy policy;
    private final BlockDevice cacheDev;
    private final BlockDevice originDev;
    private final BlockLocks locks;
    private final WorkCompletions completions;
    private final DiscardSet discards;
    private final EngineCounters counters;
    private final Activity activity;
    private final MigrationWorkers workers;
    private final Committer committer;
    private final IoMode mode;
    private final boolean discardPassdown;
    /** Where the last write ended (writeback with the exact dirty state): the next one starting there is sequential. */
    private volatile long lastWriteEnd = -1;

    public IoPath(CacheGeometry geometry, CacheMode mode, boolean discardPassdown, CachePolicy policy,
                  BlockDevice cacheDev, BlockDevice originDev, BlockLocks locks, WorkCompletions completions,
                  DiscardSet discards,
                  EngineCounters counters, Activity activity, Migrator migrator, MigrationWorkers workers,
                  Committer committer) {
        this.geometry = geometry;
        this.policy = policy;
        this.cacheDev = cacheDev;
        this.originDev = originDev;
        this.locks = locks;
        this.completions = completions;
        this.discards = discards;
        this.counters = counters;
        this.activity = activity;
        this.workers = workers;
        this.committer = committer;
        this.discardPassdown = discardPassdown;
        this.mode = IoMode.of(mode, new IoContext(geometry, policy, cacheDev, originDev, counters, migrator, workers,
                committer));
    }

    public CacheMode mode() {
        return mode.mode();
    }

    // ------------------------------------------------------------------ reads

    public void read(long offset, ByteBuffer dst) throws IOException {
        activity.touch();
        long reqEnd = offset + dst.remaining();
        long first = geometry.block(offset);
        long last = geometry.block(reqEnd - 1);
        if (first == last) { // the common case: one block
            if (readPiece(first, offset - geometry.start(first), offset, dst)) {
                tickAfterMiss();
            }
            return;
        }
        int limit = dst.limit();
        long pos = offset;
        boolean missed = false;
        try {
            if (!geometry.cacheable(last)) {
                missed = forEachPiece(pos, dst, readPieceOp);
            } else {
                for (long b = first; b <= last; b += MAX_READ_RUN) {
                    long runLast = Math.min(last, b + MAX_READ_RUN - 1);
                    long end = Math.min(reqEnd, geometry.start(runLast + 1));
                    int n = (int) (end - pos);
                    dst.limit(dst.position() + n);
                    missed |= readRun(b, runLast, pos, dst);
                    dst.limit(limit);
                    pos += n;
                }
            }
        } finally {
            dst.limit(limit);
        }
        if (missed) {
            tickAfterMiss();
        }
    }

    /**
     * Ticks the policy at the completion of a request that missed (the kernel's {@code need_tick_bio}, one at a
     * time): the tick ends the hotspot's hit-counting period, which only misses feed, so a request that hit in
     * every block has nothing to end and skips it (the periodic work is the timer's tick's).
     */
    private void tickAfterMiss() {
        if (activity.tagForTick()) {
            try {
                policy.tick(false);
            } finally {
                activity.untag();
            }
        }
    }

    private int lookupForRead(long b) {
        int c = mode.lookupForRead(policy, b, discards.bit(b));
        if (c >= 0) {
            counters.readHit();
        } else {
            counters.readMiss();
            if (c == CachePolicy.MISS_WORK_QUEUED) {
                workers.wake();
            }
        }
        return c;
    }

    /** Reads one piece of block {@code b}; whether it missed. */
    private boolean readPiece(long b, long in, long pos, ByteBuffer dst) throws IOException {
        if (!geometry.cacheable(b)) {
            originDev.read(pos, dst);
            return false;
        }
        long stamp = locks.lockShared(b);
        try {
            int c = lookupForRead(b);
            if (c >= 0 && mode.readsHitsFromCache()) {
                cacheDev.read(geometry.cacheOffset(c, in), dst);
            } else {
                originDev.read(pos, dst);
            }
            return c < 0;
        } finally {
            locks.unlockShared(b, stamp);
        }
    }

    /**
     * Reads origin blocks {@code first..last} (all cacheable), the part of them from {@code pos} to {@code dst}'s
     * limit: their locks are shared together, each block is looked up once, and pieces that are adjacent on the
     * same device are read with one call, so a large read of cached blocks that sit next to each other in the
     * cache costs one read of the cache device, not one per block.
     */
    private boolean readRun(long first, long last, long pos, ByteBuffer dst) throws IOException {
        try (BlockLocks.Hold h = locks.shared(first, last)) {
            boolean missed = false;
            int limit = dst.limit();
            BlockDevice groupDev = null;
            long groupStart = 0;
            int groupLen = 0;
            long p = pos;
            for (long b = first; b <= last; b++) {
                long in = p - geometry.start(b);
                int n = (int) Math.min(limit - dst.position() - groupLen, geometry.blockBytes() - in);
                int c = lookupForRead(b);
                missed |= c < 0;
                BlockDevice dev;
                long at;
                if (c >= 0 && mode.readsHitsFromCache()) {
                    dev = cacheDev;
                    at = geometry.cacheOffset(c, in);
                } else {
                    dev = originDev;
                    at = p;
                }
                if (dev == groupDev && at == groupStart + groupLen) {
                    groupLen += n;
                } else {
                    if (groupLen > 0) {
                        dst.limit(dst.position() + groupLen);
                        groupDev.read(groupStart, dst);
                        dst.limit(limit);
                    }
                    groupDev = dev;
                    groupStart = at;
                    groupLen = n;
                }
                p += n;
            }
            if (groupLen > 0) {
                dst.limit(dst.position() + groupLen);
                groupDev.read(groupStart, dst);
                dst.limit(limit);
            }
            return missed;
        }
    }

    // ------------------------------------------------------------------ writes

    public void write(long offset, ByteBuffer src) throws IOException {
        activity.touch();
        long misses = counters.threadMisses();
        try {
            if (src.remaining() > 0 && mode.mode() == CacheMode.WRITEBACK && committer.exactDirty()) {
                long end = offset + src.remaining();
                boolean sequential = offset == lastWriteEnd;
                lastWriteEnd = end;
                long first = geometry.block(offset);
                long last = geometry.block(end - 1);
                if (last > first || sequential) {
                    markDirtyTogether(first, last, sequential);
                }
            }
            forEachPiece(offset, src, writePieceOp);
        } finally {
            if (counters.threadMisses() != misses) {
                tickAfterMiss();
            }
        }
    }

    /**
     * Writeback with the exact dirty state, before a write over blocks {@code first..last}: the cached ones that
     * the committed metadata says are clean are marked dirty together, each under its exclusive lock (their data
     * unchanged yet, so a write-back meanwhile is harmless), and then wait for one commit; the pieces written
     * next find them committed dirty. Without it each such block waited for a commit of its own, one after the
     * other: a 1 MiB write over 16 clean 64 KiB blocks made 16 commits (17-70 MiB/s instead of 1-2 GiB/s for
     * sequential 1 MiB writes at queue depth 8 over NBD, each commit forcing three devices). Blocks not mapped,
     * or with a demotion in flight, are left to the piece's own path.
     */
    private void markDirtyTogether(long first, long last, boolean sequential) throws IOException {
        boolean wait = markDirty(first, last);
        if (wait && sequential) {
            // a sequential writer will write the blocks after these next: the commit this write waits for anyway
            // marks the cached ones among them dirty too (read-ahead for the dirty bits), so the stream waits
            // for one commit per DIRTY_AHEAD bytes, not one per request. A block marked so and then not written
            // is only written back once more (its data is the origin's), and committed clean after it.
            markDirty(last + 1, last + Math.max(1, DIRTY_AHEAD / geometry.blockBytes()));
        }
        if (wait) {
            committer.commitDirty();
        }
    }

    /** Marks the cached blocks of {@code first..last} dirty for the next commit; whether any must wait for it. */
    private boolean markDirty(long first, long last) {
        boolean wait = false;
        for (long b = first; b <= last && geometry.cacheable(b); b++) {
            try (BlockLocks.Hold h = locks.exclusive(b)) {
                int c = policy.lookupMapping(b);
                // under b's exclusive lock its mapping cannot change; oblockOf is -1 while a promotion is in flight
                if (c >= 0 && policy.oblockOf(c) == b && policy.trySetDirty(c)) {
                    wait |= committer.markBeforeWrite(c);
                }
            }
        }
        return wait;
    }

    /**
     * One piece of a request: {@code buf}'s remaining bytes, at byte {@code in} of block {@code b} (byte
     * {@code pos}); a read's tells whether it missed.
     */
    @FunctionalInterface
    private interface PieceOp {
        boolean run(long b, long in, long pos, ByteBuffer buf) throws IOException;
    }

    private final PieceOp readPieceOp = this::readPiece;
    private final PieceOp writePieceOp = this::writePiece;

    /** Cuts {@code buf}'s remaining bytes, which start at byte {@code pos}, at block boundaries; any piece true. */
    private boolean forEachPiece(long pos, ByteBuffer buf, PieceOp op) throws IOException {
        int limit = buf.limit();
        boolean any = false;
        try {
            while (buf.position() < limit) {
                long b = geometry.block(pos);
                int n = geometry.pieceLength(pos, pos + limit - buf.position());
                buf.limit(buf.position() + n);
                any |= op.run(b, pos - geometry.start(b), pos, buf);
                buf.limit(limit);
                pos += n;
            }
        } finally {
            buf.limit(limit);
        }
        return any;
    }

    private boolean writePiece(long b, long in, long pos, ByteBuffer src) throws IOException {
        if (!geometry.cacheable(b)) {
            originDev.write(pos, src);
            return false;
        }
        for (;;) {
            long ticket = completions.ticket(b);
            try (BlockLocks.Hold h = locks.exclusive(b)) {
                discards.clear(b);
                if (mode.writePiece(b, in, pos, src)) {
                    return false; // the write's misses are counted per thread (see write)
                }
            }
            // a migration of this block is in flight (a demotion committing, say): wait until it completes
            completions.await(b, ticket);
        }
    }

    // ------------------------------------------------------------------ discards, zeroes, flushes

    /**
     * Discards a range: whole cache blocks in it are marked discarded (not promoted until written again), and
     * the range is passed down to the origin unless {@code no_discard_passdown}. Cached copies are kept, so the
     * range reads back as its old contents or as zeros, as the devices do.
     */
    public void discard(long offset, long length) throws IOException {
        activity.touch();
        long end = geometry.endWholeBlock(offset, length);
        for (long b = geometry.firstWholeBlock(offset); b < end; b++) {
            try (BlockLocks.Hold h = locks.exclusive(b)) {
                discards.mark(b);
            }
        }
        if (discardPassdown && length > 0) {
            originDev.discard(offset, length);
        }
    }

    /** Writes zeros (as a write of zeros through the cache). */
    public void writeZeroes(long offset, long length) throws IOException {
        ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(length, Math.min(geometry.blockBytes(), ZERO_CHUNK)));
        long done = 0;
        while (done < length) {
            long pos = offset + done;
            int n = Math.min(zeros.capacity(), geometry.pieceLength(pos, offset + length));
            zeros.clear().limit(n);
            write(pos, zeros);
            done += n;
        }
    }

    /** Makes every completed write durable: data devices forced, then the metadata committed. */
    public void flush() throws IOException {
        committer.commit();
    }
}
