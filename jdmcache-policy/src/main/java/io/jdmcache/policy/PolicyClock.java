package io.jdmcache.policy;

/**
 * The time source of a policy, in nanoseconds, monotonic (differences matter, not the origin). smq uses it
 * for its periods (1 s hotspot period, 10 s writeback sentinel period, 60 s demote sentinel and cache
 * periods), which it checks on {@link CachePolicy#tick}. Production uses {@link #SYSTEM}; simulators and
 * tests pass a virtual clock.
 */
@FunctionalInterface
public interface PolicyClock {
    /** {@link System#nanoTime()}. */
    PolicyClock SYSTEM = System::nanoTime;

    /** The current time in nanoseconds; must never go backwards. */
    long nanoTime();
}
