package io.jdmcache.engine;

import io.jdmcache.policy.PolicyClock;

import java.util.Objects;

/**
 * How a {@link CacheDevice} runs, beyond its table line.
 *
 * @param migrationWorkers  threads doing background work (promotions, demotions, write-backs)
 * @param idleNanos         how long the device must go without foreground I/O to count as idle (the kernel: 1 s);
 *                          an idle origin gets every dirty block written back
 * @param commitPeriodNanos the periodic metadata commit and policy tick (the kernel: 1 s)
 * @param clock             the policy's clock
 * @param backgroundThreads false: no workers and no timer; the caller drives {@link CacheDevice#runBackgroundWork}
 *                          and {@link CacheDevice#tick} (deterministic tests and simulations)
 */
public record EngineOptions(int migrationWorkers, long idleNanos, long commitPeriodNanos, PolicyClock clock,
                            boolean backgroundThreads) {
    public static final EngineOptions DEFAULTS =
            new EngineOptions(2, 1_000_000_000L, 1_000_000_000L, PolicyClock.SYSTEM, true);

    public EngineOptions {
        Objects.requireNonNull(clock, "clock");
        if (migrationWorkers < 1) {
            throw new IllegalArgumentException("at least one migration worker: " + migrationWorkers);
        }
        if (idleNanos < 0 || commitPeriodNanos <= 0) {
            throw new IllegalArgumentException("negative idle or non-positive commit period");
        }
    }

    public EngineOptions withIdleNanos(long n) {
        return new EngineOptions(migrationWorkers, n, commitPeriodNanos, clock, backgroundThreads);
    }

    public EngineOptions withCommitPeriodNanos(long n) {
        return new EngineOptions(migrationWorkers, idleNanos, n, clock, backgroundThreads);
    }

    public EngineOptions withWorkers(int n) {
        return new EngineOptions(n, idleNanos, commitPeriodNanos, clock, backgroundThreads);
    }

    /** No threads, the given clock: the caller drives background work and ticks. */
    public static EngineOptions manual(PolicyClock clock) {
        return new EngineOptions(1, 1_000_000_000L, 1_000_000_000L, clock, false);
    }
}
