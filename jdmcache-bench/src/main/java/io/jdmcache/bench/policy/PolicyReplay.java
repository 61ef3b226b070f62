package io.jdmcache.bench.policy;

import java.util.ArrayDeque;
import java.util.Optional;

import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;
import io.jdmcache.policy.Policies;
import io.jdmcache.policy.PolicyClock;
import io.jdmcache.policy.PolicyWork;
import io.jdmcache.policy.WorkOp;

/**
 * Replays a trace through a {@link CachePolicy} the way the engine drives it (as dm-cache-target drives its
 * policy), on a virtual clock:
 * <ul>
 *   <li>each I/O takes {@code 1 / iops} seconds; before it, migrations that are due complete;</li>
 *   <li>each I/O is looked up; a hit counts only if the block is mapped at that moment; a write hit marks the
 *       block dirty (writeback mode);</li>
 *   <li>the migration worker runs when a lookup queues work and at every virtual second (the kernel's waker),
 *       taking work until none is left or {@link #MAX_MIGRATIONS_IN_FLIGHT} are in flight, and telling the
 *       policy the origin is idle only when no I/O came for a second;</li>
 *   <li>a migration completes {@code lagIos} I/Os after it starts (0: at once), successfully; a write-back is
 *       followed by {@code clearDirty}; a write to a block being written back waits and dirties it again after;
 *       a write or read to a block being demoted goes to the origin (a miss);</li>
 *   <li>the policy ticks every {@code tickEvery} I/Os (the kernel ticks when a tagged bio completes) and every
 *       virtual second;</li>
 *   <li>during the trace's idle gaps, the worker runs once a virtual second with idle set, completing up to
 *       {@code idleMigrationsPerSecond} migrations a second.</li>
 * </ul>
 * With {@code preloadDirty} the cache starts full: the trace's first distinct blocks are loaded as dirty
 * mappings without hints (as after a crash), which is how the cleaner policy is exercised.
 */
final class PolicyReplay implements Replay {
    /** The kernel's migration mempool holds this many migrations. */
    static final int MAX_MIGRATIONS_IN_FLIGHT = 128;
    private static final long SECOND = 1_000_000_000L;

    private final String column;
    private final String policyName;
    private final int lagIos;
    private final int iops;
    private final int tickEvery;
    private final int idleMigrationsPerSecond;
    private final boolean preloadDirty;

    PolicyReplay(String column, String policyName, int lagIos, int iops, int tickEvery, int idleMigrationsPerSecond,
                 boolean preloadDirty) {
        if (lagIos < 0 || iops < 1 || tickEvery < 1 || idleMigrationsPerSecond < 1) {
            throw new IllegalArgumentException("bad replay parameters: lag " + lagIos + ", iops " + iops
                    + ", tick every " + tickEvery + ", idle migrations/s " + idleMigrationsPerSecond);
        }
        this.column = column;
        this.policyName = policyName;
        this.lagIos = lagIos;
        this.iops = iops;
        this.tickEvery = tickEvery;
        this.idleMigrationsPerSecond = idleMigrationsPerSecond;
        this.preloadDirty = preloadDirty;
    }

    @Override
    public String name() {
        return column;
    }

    @Override
    public ReplayResult replay(Trace trace, int cacheBlocks) {
        return new Run(trace, cacheBlocks).run();
    }

    /** The mutable state of one replay. */
    private final class Run {
        private final Trace trace;
        private final VirtualClock clock = new VirtualClock();
        private final CachePolicy policy;
        private final ArrayDeque<PolicyWork> inFlight = new ArrayDeque<>();
        private final ArrayDeque<Integer> dueAt = new ArrayDeque<>();
        private final byte[] busy;
        private final boolean[] dirtyAfter;
        private final HitCounter counter;
        private final long nanosPerIo;
        private long lastIoNanos;
        private long nextSecond;
        private long promotions;
        private long demotions;
        private long writebacks;
        private int position;

        Run(Trace trace, int cacheBlocks) {
            this.trace = trace;
            this.policy = Policies.create(policyName, cacheBlocks, trace.originBlocks(), 128, clock);
            this.busy = new byte[cacheBlocks];
            this.dirtyAfter = new boolean[cacheBlocks];
            this.counter = new HitCounter(trace.length());
            this.nanosPerIo = SECOND / iops;
            this.lastIoNanos = clock.nanoTime();
            this.nextSecond = clock.nanoTime() + SECOND;
        }

        ReplayResult run() {
            long dirtyAtStart = preloadDirty ? preload() : 0;
            int[] blocks = trace.blocks();
            boolean[] writes = trace.writes();
            int[] idle = trace.idleBefore();
            int nextIdle = 0;
            for (position = 0; position < blocks.length; position++) {
                if (nextIdle < idle.length && idle[nextIdle] == position) {
                    idleGap();
                    nextIdle++;
                }
                clock.advance(nanosPerIo);
                completeDue(position);
                io(blocks[position], writes[position]);
                lastIoNanos = clock.nanoTime();
                if ((position + 1) % tickEvery == 0) {
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
            return new ReplayResult(column, blocks.length, counter.hits(), counter.lateIos(blocks.length),
                    counter.lateHits(), promotions, demotions, writebacks, dirtyAtStart, policy.dirtyCount());
        }

        private long preload() {
            int c = 0;
            boolean[] seen = new boolean[trace.originBlocks()];
            for (int b : trace.blocks()) {
                if (c == policy.cacheBlocks()) {
                    break;
                }
                if (!seen[b]) {
                    seen[b] = true;
                    policy.loadMapping(b, c++, true, 0, false);
                }
            }
            return policy.dirtyCount();
        }

        private void io(int block, boolean write) {
            int c = policy.lookup(block, write ? IoDirection.WRITE : IoDirection.READ, false);
            if (c >= 0) {
                if (busy[c] == 0) {
                    counter.hit(position);
                    if (write) {
                        policy.setDirty(c);
                    }
                } else if (busy[c] == 1 + WorkOp.WRITEBACK.ordinal()) {
                    counter.hit(position);
                    if (write) {
                        dirtyAfter[c] = true;
                    }
                }
                // a block being demoted: the I/O waits, then goes to the origin
            } else if (c == CachePolicy.MISS_WORK_QUEUED) {
                worker();
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
