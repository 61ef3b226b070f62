package io.jdmcache.sim.policy;

import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongConsumer;

import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;
import io.jdmcache.policy.Policies;
import io.jdmcache.policy.PolicyClock;
import io.jdmcache.policy.PolicyWork;
import io.jdmcache.policy.WorkOp;
import io.jdmcache.sim.trace.Trace;

/**
 * Replays a trace through one of the engine's {@link CachePolicy} classes, driven as the engine drives it (as
 * dm-cache-target drives its policy), on a virtual clock:
 * <ul>
 *   <li>each access takes {@code 1 / iops} seconds; before it, migrations that are due complete;</li>
 *   <li>each access is looked up; a hit counts only if the block is mapped at that moment; a write hit marks the
 *       block dirty (writeback mode);</li>
 *   <li>the migration worker runs when a lookup queues work and at every virtual second (the kernel's waker),
 *       taking work until none is left or {@link #MAX_MIGRATIONS_IN_FLIGHT} are in flight, and telling the policy
 *       the origin is idle only when no access came for a second;</li>
 *   <li>a migration completes {@code lagIos} accesses after it starts (0: at once), successfully; a write-back is
 *       followed by {@code clearDirty}; a write to a block being written back waits and dirties it again after; an
 *       access to a block being demoted goes to the origin (a miss);</li>
 *   <li>the policy ticks every {@code tickEvery} accesses (the kernel ticks when a tagged bio completes) and every
 *       virtual second;</li>
 *   <li>during the trace's idle gaps, the worker runs once a virtual second with idle set, completing up to
 *       {@code idleMigrationsPerSecond} migrations a second;</li>
 *   <li>a discard invalidates the block's mapping when no migration of it is in flight (the engine's discard).</li>
 * </ul>
 * Fills are the completed promotions. With {@code preloadDirty} the cache starts full: the trace's first distinct
 * blocks are loaded as dirty mappings without hints (as after a crash), which is how the cleaner is exercised.
 */
public final class EngineReplay implements SimPolicy {
    /** The kernel's migration mempool holds this many migrations. */
    static final int MAX_MIGRATIONS_IN_FLIGHT = 128;
    /** Defaults of the model (as the bench simulator always used). */
    public static final int DEFAULT_IOPS = 2000;
    public static final int DEFAULT_TICK_EVERY = 16;
    public static final int DEFAULT_IDLE_MIGRATIONS_PER_SECOND = 2000;
    private static final long SECOND = 1_000_000_000L;

    private final String name;
    private final String policyName;
    private final String description;
    private final int lagIos;
    private final int iops;
    private final int tickEvery;
    private final int idleMigrationsPerSecond;
    private final boolean preloadDirty;

    /** The engine's policy {@code policyName}, with the default model: migrations complete at once. */
    public EngineReplay(String name, String policyName, String description) {
        this(name, policyName, description, 0, DEFAULT_IOPS, DEFAULT_TICK_EVERY, DEFAULT_IDLE_MIGRATIONS_PER_SECOND,
                false);
    }

    EngineReplay(String name, String policyName, String description, int lagIos, int iops, int tickEvery,
                 int idleMigrationsPerSecond, boolean preloadDirty) {
        if (lagIos < 0 || iops < 1 || tickEvery < 1 || idleMigrationsPerSecond < 1) {
            throw new IllegalArgumentException("bad replay parameters: lag " + lagIos + ", iops " + iops
                    + ", tick every " + tickEvery + ", idle migrations/s " + idleMigrationsPerSecond);
        }
        this.name = Objects.requireNonNull(name);
        this.policyName = Objects.requireNonNull(policyName);
        this.description = Objects.requireNonNull(description);
        this.lagIos = lagIos;
        this.iops = iops;
        this.tickEvery = tickEvery;
        this.idleMigrationsPerSecond = idleMigrationsPerSecond;
        this.preloadDirty = preloadDirty;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Kind kind() {
        return Kind.ENGINE;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public SimResult run(Trace trace, int cacheBlocks, LongConsumer progress) {
        return details(trace, cacheBlocks, progress).result();
    }

    /** A run with the engine's background work counted. */
    public Details details(Trace trace, int cacheBlocks, LongConsumer progress) {
        return new Run(trace, cacheBlocks, progress).run();
    }

    /**
     * A run's result and background work.
     *
     * @param lateAccesses accesses in the second half of the trace
     * @param lateHits     hits among them (steady state, after warm-up)
     */
    public record Details(SimResult result, long lateAccesses, long lateHits, long promotions, long demotions,
                          long writebacks, long dirtyAtStart, long dirtyAtEnd) {
    }

    /** The mutable state of one replay. */
    private final class Run {
        private final Trace trace;
        private final LongConsumer progress;
        private final VirtualClock clock = new VirtualClock();
        private final CachePolicy policy;
        private final ArrayDeque<PolicyWork> inFlight = new ArrayDeque<>();
        private final ArrayDeque<Integer> dueAt = new ArrayDeque<>();
        private final byte[] busy;
        private final boolean[] dirtyAfter;
        private final long nanosPerIo;
        private final int half;
        private long lastIoNanos;
        private long nextSecond;
        private long hits;
        private long accesses;
        private long lateAccesses;
        private long lateHits;
        private long promotions;
        private long demotions;
        private long writebacks;
        private int position;

        Run(Trace trace, int cacheBlocks, LongConsumer progress) {
            this.trace = trace;
            this.progress = progress;
            this.policy = Policies.create(policyName, cacheBlocks, Math.max(1, trace.blocks()), 128, clock);
            this.busy = new byte[cacheBlocks];
            this.dirtyAfter = new boolean[cacheBlocks];
            this.nanosPerIo = SECOND / iops;
            this.half = trace.length() / 2;
            this.lastIoNanos = clock.nanoTime();
            this.nextSecond = clock.nanoTime() + SECOND;
        }

        Details run() {
            long dirtyAtStart = preloadDirty ? preload() : 0;
            int[] events = trace.events();
            boolean[] writes = trace.writes();
            int[] idle = trace.idleBefore();
            int nextIdle = 0;
            int reported = 0;
            int sinceTick = 0;
            for (position = 0; position < events.length; position++) {
                if (position - reported >= PROGRESS_EVERY) {
                    progress.accept(position - reported);
                    reported = position;
                }
                if (nextIdle < idle.length && idle[nextIdle] == position) {
                    idleGap();
                    nextIdle++;
                }
                int e = events[position];
                if (e < 0) {
                    discard(~e);
                    continue;
                }
                clock.advance(nanosPerIo);
                completeDue(position);
                io(e, writes[position]);
                lastIoNanos = clock.nanoTime();
                if (++sinceTick == tickEvery) {
                    sinceTick = 0;
                    policy.tick(false);
                }
                if (clock.nanoTime() - nextSecond >= 0) {
                    nextSecond += SECOND;
                    policy.tick(true);
                    worker();
                }
            }
            while (!inFlight.isEmpty()) {
                complete(inFlight.poll());
                dueAt.poll();
            }
            progress.accept(events.length - reported);
            return new Details(new SimResult(name, policy.cacheBlocks(), accesses, hits, promotions), lateAccesses,
                    lateHits, promotions, demotions, writebacks, dirtyAtStart, policy.dirtyCount());
        }

        private long preload() {
            int c = 0;
            boolean[] seen = new boolean[trace.blocks()];
            for (int e : trace.events()) {
                if (c == policy.cacheBlocks()) {
                    break;
                }
                if (e >= 0 && !seen[e]) {
                    seen[e] = true;
                    policy.loadMapping(e, c++, true, 0, false);
                }
            }
            return policy.dirtyCount();
        }

        private void hit() {
            hits++;
            if (position >= half) {
                lateHits++;
            }
        }

        private void io(int block, boolean write) {
            accesses++;
            if (position >= half) {
                lateAccesses++;
            }
            int c = policy.lookup(block, write ? IoDirection.WRITE : IoDirection.READ, false);
            if (c >= 0) {
                if (busy[c] == 0) {
                    hit();
                    if (write) {
                        policy.setDirty(c);
                    }
                } else if (busy[c] == 1 + WorkOp.WRITEBACK.ordinal()) {
                    hit();
                    if (write) {
                        dirtyAfter[c] = true;
                    }
                }
                // a block being demoted: the access waits, then goes to the origin
            } else if (c == CachePolicy.MISS_WORK_QUEUED) {
                worker();
            }
        }

        private void discard(int block) {
            int c = policy.lookupMapping(block);
            if (c >= 0 && busy[c] == 0) {
                policy.invalidateMapping(c);
            }
        }

        private void worker() {
            boolean idle = clock.nanoTime() - lastIoNanos >= SECOND;
            while (inFlight.size() < MAX_MIGRATIONS_IN_FLIGHT) {
                Optional<PolicyWork> w = policy.getBackgroundWork(idle);
                if (w.isEmpty()) {
                    return;
                }
                start(w.get());
            }
        }

        private void start(PolicyWork w) {
            busy[w.cblock()] = (byte) (1 + w.op().ordinal());
            if (lagIos == 0) {
                complete(w);
            } else {
                inFlight.add(w);
                dueAt.add(position + lagIos);
            }
        }

        private void completeDue(int pos) {
            while (!dueAt.isEmpty() && dueAt.peek() <= pos) {
                dueAt.poll();
                complete(inFlight.poll());
            }
        }

        private void complete(PolicyWork w) {
            int c = w.cblock();
            busy[c] = 0;
            switch (w.op()) {
                case PROMOTE -> promotions++;
                case DEMOTE -> demotions++;
                case WRITEBACK -> {
                    writebacks++;
                    policy.clearDirty(c);
                }
            }
            policy.completeBackgroundWork(w, true);
            if (dirtyAfter[c]) {
                dirtyAfter[c] = false;
                policy.setDirty(c);
            }
        }

        /** The origin idle for a few seconds: the worker runs each second with idle set, at a bounded rate. */
        private void idleGap() {
            for (int s = 0; s < Trace.IDLE_GAP_SECONDS; s++) {
                clock.advance(SECOND);
                while (!inFlight.isEmpty()) {
                    complete(inFlight.poll());
                    dueAt.poll();
                }
                policy.tick(true);
                boolean idle = clock.nanoTime() - lastIoNanos >= SECOND;
                for (int k = 0; k < idleMigrationsPerSecond; k++) {
                    Optional<PolicyWork> w = policy.getBackgroundWork(idle);
                    if (w.isEmpty()) {
                        break;
                    }
                    busy[w.get().cblock()] = (byte) (1 + w.get().op().ordinal());
                    complete(w.get());
                }
            }
            nextSecond = clock.nanoTime() + SECOND;
        }
    }

    /** A clock the replay moves by hand. */
    private static final class VirtualClock implements PolicyClock {
        private long now = SECOND;

        @Override
        public long nanoTime() {
            return now;
        }

        void advance(long nanos) {
            now += nanos;
        }
    }
}
