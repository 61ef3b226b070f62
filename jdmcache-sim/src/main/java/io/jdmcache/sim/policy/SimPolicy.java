package io.jdmcache.sim.policy;

import java.util.function.LongConsumer;

import io.jdmcache.sim.trace.Trace;

/**
 * A replacement policy as the simulator runs it: a whole trace through a cache of a given size. Implementations
 * keep no state between runs, so one instance may run several traces at once on different threads.
 */
public interface SimPolicy {
    /** Events between two progress reports. */
    int PROGRESS_EVERY = 1 << 16;

    /** The name {@code --policies} uses (lower case). */
    String name();

    Kind kind();

    /** One line: what it is and where it comes from. */
    String description();

    /**
     * Replays the trace.
     *
     * @param progress told how many events were replayed since its last call, every {@link #PROGRESS_EVERY}
     *                 events or so and at the end
     */
    SimResult run(Trace trace, int cacheBlocks, LongConsumer progress);

    /** What kind of policy this is, as {@code --list-policies} says. */
    enum Kind {
        /** Usable in {@code serve --policy}: the engine's own class runs in the simulator. */
        ENGINE,
        /** Implemented here after its paper, for comparison. */
        REFERENCE,
        /** A library's own cache. */
        LIBRARY,
        /** Knows the future: an upper bound, not a usable policy. */
        ORACLE;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
