package io.jdmcache.engine.migration;

import io.jdmcache.engine.commit.Committer;
import io.jdmcache.engine.core.BackgroundFailures;
import io.jdmcache.engine.core.DeferredFlushOrigin;
import io.jdmcache.engine.core.BlockLocks;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.SmallFolioWrites;
import io.jdmcache.engine.core.EngineCounters;
import io.jdmcache.engine.core.WorkCompletions;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.Invalidation;
import io.jdmcache.policy.PolicyWork;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Comparator;
import java.util.List;

/**
 * Migration processing: carries out the policy's work items (promote, demote, write back, and write-backs of
 * adjacent origin blocks merged into one origin write) and the mapping changes the I/O path and the target
 * messages ask for (a promotion by a whole-block write, dropping a mapping). Each runs under its block's lock
 * and completes the policy's work item whatever happens.
 */
public final class Migrator {
    /** The largest merged write-back. */
    public static final int MAX_MERGE_BYTES = 4 << 20;

    private final CacheGeometry geometry;
    private final BlockDevice cacheDev;
    /** The cache device as promotions write it: in small pieces, so that the page cache keeps small folios. */
    private final BlockDevice promotionTarget;
    private final BlockDevice originDev;
    /** A remote origin in writeback: commits do not flush it, so each write-back does before its blocks turn clean. */
    private final boolean flushWritebacks;
    private final CacheMetadata md;
    private final CachePolicy policy;
    private final BlockLocks locks;
    private final Committer committer;
    private final EngineCounters counters;
    private final WorkCompletions completions;
    private final BackgroundFailures failures;
    private final ThreadLocal<ByteBuffer> mergeBuffer =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MAX_MERGE_BYTES));

    public Migrator(CacheGeometry geometry, BlockDevice cacheDev, BlockDevice originDev, CacheMetadata md,
                    CachePolicy policy, BlockLocks locks, Committer committer, EngineCounters counters,
                    WorkCompletions completions, BackgroundFailures failures) {
        this.geometry = geometry;
        this.cacheDev = cacheDev;
        this.promotionTarget = SmallFolioWrites.of(cacheDev);
        this.originDev = originDev;
        this.flushWritebacks = originDev instanceof DeferredFlushOrigin;
        this.md = md;
        this.policy = policy;
        this.locks = locks;
        this.committer = committer;
        this.counters = counters;
        this.completions = completions;
        this.failures = failures;
    }

    /**
     * Completes a work item in the policy and wakes whoever waits for work on its block (a write that met it).
     * Every work item the policy issues ends here, whatever happened to it.
     */
    public void complete(PolicyWork w, boolean ok) {
        try {
            policy.completeBackgroundWork(w, ok);
        } finally {
            completions.completed(w.oblock());
        }
    }

    /** Carries out one work item issued by the policy; a failure is recorded (see {@link BackgroundFailures}). */
    public void perform(PolicyWork w, ByteBuffer buf) throws IOException {
        try {
            switch (w.op()) {
                case PROMOTE -> promote(w, buf);
                case DEMOTE -> demote(w);
                case WRITEBACK -> writeback(w, buf);
                default -> throw new IllegalStateException("unknown work " + w);
            }
        } catch (IOException | RuntimeException e) {
            failures.migrationFailed(w.toString(), 1, e);
            throw e;
        }
    }

    private void copy(BlockDevice from, long fromOff, BlockDevice to, long toOff, ByteBuffer buf) throws IOException {
        long blockBytes = geometry.blockBytes();
        long done = 0;
        while (done < blockBytes) {
            int n = (int) Math.min(buf.capacity(), blockBytes - done);
            buf.clear().limit(n);
            from.read(fromOff + done, buf);
            buf.flip();
            to.write(toOff + done, buf);
            done += n;
        }
    }

    private void promote(PolicyWork w, ByteBuffer buf) throws IOException {
        boolean ok = false;
        try (BlockLocks.Hold h = locks.exclusive(w.oblock())) {
            try {
                // the data first, outside the commit gate: a commit waits for the mapping's update, never for a copy
                copy(originDev, geometry.start(w.oblock()), promotionTarget, geometry.cacheOffset(w.cblock(), 0), buf);
                committer.underUpdate(() -> {
                    committer.promoted(w.cblock(), false);
                    md.insertMapping(w.cblock(), w.oblock());
                });
                ok = true;
            } finally {
                complete(w, ok);
            }
        }
        counters.promoted();
    }

    private void demote(PolicyWork w) throws IOException {
        boolean ok = false;
        try {
            try (BlockLocks.Hold h = locks.exclusive(w.oblock())) {
                committer.underUpdate(() -> md.removeMapping(w.cblock()));
            }
            // the cache block may be reused only once its mapping's removal is durable
            committer.commit();
            ok = true;
        } finally {
            // and only once the reads that found it mapped during the commit are done with it: the block's lock
            // again, so that none is still reading the cache block when the policy frees it for another block
            try (BlockLocks.Hold h = locks.exclusive(w.oblock())) {
                complete(w, ok);
            }
        }
        counters.demoted();
    }

    /*
     * Write-backs share their blocks' locks (see BlockLocks): writes wait, so the copy is what the cache block
     * holds when it turns clean, while reads go on from the cache; over a slow remote origin a write-back (its
     * write and flush there) takes milliseconds, and reads waiting for it made a warm cache's 1 MiB reads slower
     * than the bare remote's (bench/remote-bench.sh).
     */
    private void writeback(PolicyWork w, ByteBuffer buf) throws IOException {
        boolean ok = false;
        try (BlockLocks.Hold h = locks.shared(w.oblock())) {
            try {
                copy(cacheDev, geometry.cacheOffset(w.cblock(), 0), originDev, geometry.start(w.oblock()), buf);
                if (flushWritebacks) {
                    originDev.flush();
                }
                counters.wroteBack(1);
                policy.clearDirty(w.cblock());
                committer.cleaned(w.cblock());
                ok = true;
            } finally {
                complete(w, ok);
            }
        }
    }

    /**
     * Write-backs sorted by origin block; each run of adjacent origin blocks is one origin write. A failed run
     * is recorded (each of its write-backs counts) and the others still run; the last failure is thrown.
     */
    public void writebackBatch(List<PolicyWork> batch) throws IOException {
        batch.sort(Comparator.comparingLong(PolicyWork::oblock));
        IOException failure = null;
        int i = 0;
        while (i < batch.size()) {
            int j = i + 1;
            while (j < batch.size() && batch.get(j).oblock() == batch.get(j - 1).oblock() + 1) {
                j++;
            }
            List<PolicyWork> run = batch.subList(i, j);
            try {
                writebackRun(run);
            } catch (IOException | RuntimeException e) {
                failures.migrationFailed(run.size() == 1 ? run.get(0).toString()
                        : run.size() + " merged write-backs from " + run.get(0), run.size(), e);
                failure = e instanceof IOException io ? io : new IOException(e);
            }
            i = j;
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void writebackRun(List<PolicyWork> run) throws IOException {
        long[] oblocks = new long[run.size()];
        for (int k = 0; k < run.size(); k++) {
            oblocks[k] = run.get(k).oblock();
        }
        boolean ok = false;
        try (BlockLocks.Hold h = locks.shared(oblocks, oblocks.length)) {
            try {
                long blockBytes = geometry.blockBytes();
                int bytes = (int) (run.size() * blockBytes);
                ByteBuffer big = mergeBuffer.get();
                if (big.capacity() < bytes) {
                    big = ByteBuffer.allocateDirect(bytes);
                }
                big.clear();
                for (int k = 0; k < run.size(); k++) {
                    big.limit((int) ((k + 1) * blockBytes));
                    cacheDev.read(geometry.cacheOffset(run.get(k).cblock(), 0), big);
                }
                big.flip();
                originDev.write(geometry.start(run.get(0).oblock()), big);
                if (flushWritebacks) {
                    originDev.flush();
                }
                counters.wroteBack(run.size()); // counted before the blocks turn clean, so a clean cache shows them all
                for (PolicyWork w : run) {
                    policy.clearDirty(w.cblock());
                    committer.cleaned(w.cblock());
                }
                ok = true;
            } finally {
                for (PolicyWork w : run) {
                    complete(w, ok);
                }
            }
        }
    }

    /**
     * A whole-block write promoted without a copy (the caller holds the block's lock): the data goes to the
     * cache block, which becomes dirty. If that fails, the failure is recorded (see {@link BackgroundFailures})
     * and the data goes to the origin instead, so the write itself still succeeds.
     */
    public void promoteByOverwrite(PolicyWork work, long pos, ByteBuffer src) throws IOException {
        int c = work.cblock();
        boolean ok = false;
        ByteBuffer dup = src.duplicate();
        try {
            promotionTarget.write(geometry.cacheOffset(c, 0), src);
            committer.underUpdate(() -> {
                committer.promoted(c, true); // committed dirty with the mapping: its data is not the origin's
                md.insertMapping(c, work.oblock());
            });
            ok = true;
        } catch (IOException e) {
            failures.migrationFailed(work + " by a whole-block write", 1, e);
        } finally {
            complete(work, ok);
        }
        if (ok) {
            counters.promoted();
            if (policy.trySetDirty(c)) {
                return;
            }
            // a demotion of the block was issued the moment it was mapped: it will drop the cached copy, so
            // the data must reach the origin as well
        }
        originDev.write(pos, dup);
        src.position(src.limit());
    }

    /**
     * Drops a cache block's mapping, clean or dirty (the caller holds the lock of its origin block). BUSY, having
     * changed nothing, when background work on the block is in flight.
     */
    public Invalidation dropMapping(int c) throws IOException {
        Invalidation r = policy.tryInvalidateMapping(c);
        if (r == Invalidation.DROPPED) {
            committer.underUpdate(() -> md.removeMapping(c));
        }
        return r;
    }

    /** Drops a cache block's mapping if it has one ({@code invalidate_cblocks}). */
    public void invalidate(int c) throws IOException {
        for (;;) {
            long o = policy.oblockOf(c);
            if (o < 0) {
                return;
            }
            long ticket = completions.ticket(o);
            try (BlockLocks.Hold h = locks.exclusive(o)) {
                if (policy.oblockOf(c) != o) {
                    continue;
                }
                if (dropMapping(c) != Invalidation.BUSY) {
                    return;
                }
            }
            completions.await(o, ticket); // background work on the block is in flight: wait for it to complete
        }
    }
}
