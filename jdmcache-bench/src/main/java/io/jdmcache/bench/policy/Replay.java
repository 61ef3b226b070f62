package io.jdmcache.bench.policy;

/** A way to run a trace through a cache of a given size. Implementations are single-threaded, stateless between runs. */
interface Replay {
    /** Column name. */
    String name();

    ReplayResult replay(Trace trace, int cacheBlocks);
}
