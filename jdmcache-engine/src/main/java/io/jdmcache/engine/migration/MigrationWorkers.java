package io.jdmcache.engine.migration;

import io.jdmcache.engine.EngineOptions;
import io.jdmcache.engine.commit.Committer;
import io.jdmcache.engine.core.Activity;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.BackgroundFailures;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.PolicyWork;
import io.jdmcache.policy.WorkOp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The background side: migration worker threads that take the policy's work within the migration budget
 * ({@code migration_threshold} sectors in flight), and the timer that ticks the policy and commits every
 * commit period (the kernel's {@code do_waker}). Without threads ({@link EngineOptions#backgroundThreads()}
 * false) the caller drives both, through {@link #runBackgroundWork} and {@link #tick}.
 */
public final class MigrationWorkers {
    public static final long DEFAULT_THRESHOLD = 2048;
    private static final int COPY_CHUNK = 1 << 20;

    private final EngineOptions options;
    private final CacheGeometry geometry;
    private final CachePolicy policy;
    private final CacheMetadata md;
    private final Migrator migrator;
    private final Committer committer;
    private final BackgroundFailures failures;
    private final Activity activity;

    private volatile long threshold = DEFAULT_THRESHOLD;
    private final AtomicLong inFlightSectors = new AtomicLong();
    private final AtomicLong maxInFlightSectors = new AtomicLong();
    /** Bumped by every {@link #wake()}: a worker that saw no work sleeps until it moves. */
    private final AtomicLong wakeups = new AtomicLong();
    /** Workers asleep (or about to sleep) on {@link #workSignal}. */
    private final AtomicInteger sleeping = new AtomicInteger();
    private final Object workSignal = new Object();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopping;

    public MigrationWorkers(EngineOptions options, CacheGeometry geometry, CachePolicy policy, CacheMetadata md,
                            Migrator migrator, Committer committer, BackgroundFailures failures, Activity activity) {
        this.options = options;
        this.geometry = geometry;
        this.policy = policy;
        this.md = md;
        this.migrator = migrator;
        this.committer = committer;
        this.failures = failures;
        this.activity = activity;
    }

    public long threshold() {
        return threshold;
    }

    /** Sets {@code migration_threshold} (sectors of migration in flight at most; 0 stops migrations). */
    public void setThreshold(long sectors) {
        threshold = sectors;
        wake();
    }

    /** The most migration sectors that were ever in flight at once. */
    public long maxInFlightSectors() {
        return maxInFlightSectors.get();
    }

    /** Starts the workers and the timer (when the options ask for threads). */
    public void start() {
        if (!options.backgroundThreads()) {
            return;
        }
        for (int i = 0; i < options.migrationWorkers(); i++) {
            Thread t = new Thread(this::workerLoop, "jdmcache-migration-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        Thread timer = new Thread(this::timerLoop, "jdmcache-commit");
        timer.setDaemon(true);
        threads.add(timer);
        threads.forEach(Thread::start);
    }

    /** Stops the threads, letting the work in hand finish (waits up to 30 s for each). */
    public void stop() {
        stopping = true;
        synchronized (workSignal) {
            workSignal.notifyAll();
        }
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
    }

    /**
     * Background work may be waiting (work was queued, the threshold changed, the policy ticked): one sleeping
     * worker wakes to look; a worker that is busy looks anyway before it sleeps again. Cheap when every worker
     * is busy (the foreground calls this for each miss that queued work).
     */
    public void wake() {
        wakeups.incrementAndGet();
        if (sleeping.get() > 0) {
            synchronized (workSignal) {
                workSignal.notify();
            }
        }
    }

    /**
     * Sleeps until a {@link #wake()} after {@code seen} (the count read before the worker last looked for work,
     * so a wake-up in between is not lost) or until the workers stop. No timeout: nothing polls.
     */
    private void sleepUntilWoken(long seen) throws InterruptedException {
        synchronized (workSignal) {
            sleeping.incrementAndGet();
            try {
                while (wakeups.get() == seen && !stopping) {
                    workSignal.wait();
                }
            } finally {
                sleeping.decrementAndGet();
            }
        }
    }

    /**
     * Ticks the policy and commits if the metadata changed (what the timer does every commit period); then
     * wakes a worker, as time alone can make work due (write-backs once the origin is idle, or once blocks have
     * been untouched for a write-back period).
     */
    public void tick() throws IOException {
        policy.tick(true);
        try {
            committer.commitIfChanged();
        } finally {
            wake();
        }
    }

    private void timerLoop() {
        long period = options.commitPeriodNanos();
        while (!stopping) {
            LockSupport.parkNanos(this, period);
            if (stopping) {
                break;
            }
            try {
                tick();
            } catch (IOException | RuntimeException e) {
                failures.commitFailed(e);
            }
        }
    }

    /**
     * Takes one block's worth of the migration budget: allowed while the sectors in flight stay within
     * {@code migration_threshold}, and always for the first migration when the threshold is below one block
     * (so large blocks never stall migration, the kernel's weakness); a threshold of 0 stops migrations.
     */
    private boolean acquireBudget() {
        long need = geometry.blockSectors();
        long t = threshold;
        if (t == 0) {
            return false;
        }
        for (;;) {
            long cur = inFlightSectors.get();
            if (cur != 0 && cur + need > t) {
                return false;
            }
            if (inFlightSectors.compareAndSet(cur, cur + need)) {
                maxInFlightSectors.accumulateAndGet(cur + need, Math::max);
                return true;
            }
        }
    }

    private void releaseBudget() {
        inFlightSectors.addAndGet(-geometry.blockSectors());
    }

    private ByteBuffer copyBuffer(boolean direct) {
        int n = (int) Math.min(geometry.blockBytes(), COPY_CHUNK);
        return direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
    }

    private void workerLoop() {
        ByteBuffer buf = copyBuffer(true);
        while (!stopping) {
            long seen = wakeups.get();
            boolean did = false;
            if (md.mode() == MetadataMode.READ_WRITE && acquireBudget()) {
                try {
                    did = doWorkBatch(buf);
                } catch (IOException | RuntimeException e) {
                    failures.migrationFailed("background work", 1, e); // unless the migrator recorded it already
                } finally {
                    releaseBudget();
                }
            }
            if (!did && !stopping) {
                try {
                    sleepUntilWoken(seen);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Runs up to {@code max} background work items in the calling thread (for callers that run without
     * background threads); returns how many ran.
     */
    public int runBackgroundWork(int max) throws IOException {
        ByteBuffer buf = copyBuffer(false);
        int n = 0;
        while (n < max && md.mode() == MetadataMode.READ_WRITE && doOneWork(buf)) {
            n++;
        }
        return n;
    }

    private boolean doOneWork(ByteBuffer buf) throws IOException {
        Optional<PolicyWork> ow = policy.getBackgroundWork(activity.idle());
        if (ow.isEmpty()) {
            return false;
        }
        migrator.perform(ow.get(), buf);
        return true;
    }

    /**
     * A worker's step, holding one block of budget: one work item, or, when it is a write-back, as many further
     * write-backs as the budget allows (up to {@link Migrator#MAX_MERGE_BYTES} bytes), so that write-backs of
     * adjacent origin blocks go to the origin as one write.
     */
    private boolean doWorkBatch(ByteBuffer buf) throws IOException {
        Optional<PolicyWork> ow = policy.getBackgroundWork(activity.idle());
        if (ow.isEmpty()) {
            return false;
        }
        PolicyWork first = ow.get();
        if (sleeping.get() > 0) {
            wake(); // there may be more: a sleeping worker looks too (so all of them work while work lasts)
        }
        int maxItems = (int) Math.min(64, Migrator.MAX_MERGE_BYTES / geometry.blockBytes());
        if (first.op() != WorkOp.WRITEBACK || maxItems < 2) {
            migrator.perform(first, buf);
            return true;
        }
        List<PolicyWork> batch = new ArrayList<>();
        batch.add(first);
        PolicyWork other = null;
        int extra = 0;
        try {
            while (batch.size() < maxItems && acquireBudget()) {
                extra++;
                Optional<PolicyWork> nx = policy.getBackgroundWork(activity.idle());
                if (nx.isEmpty()) {
                    break;
                }
                if (nx.get().op() != WorkOp.WRITEBACK) {
                    other = nx.get();
                    break;
                }
                batch.add(nx.get());
            }
            migrator.writebackBatch(batch);
            if (other != null) {
                PolicyWork o = other;
                other = null;
                migrator.perform(o, buf);
            }
        } finally {
            if (other != null) {
                migrator.complete(other, false);
            }
            for (int i = 0; i < extra; i++) {
                releaseBudget();
            }
        }
        return true;
    }
}
