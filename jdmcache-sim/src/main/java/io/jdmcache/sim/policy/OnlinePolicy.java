package io.jdmcache.sim.policy;

import java.util.Objects;
import java.util.function.LongConsumer;

import io.jdmcache.sim.trace.Trace;

/** A {@link SimPolicy} that replays a trace through a fresh {@link OnlineCache}. */
public final class OnlinePolicy implements SimPolicy {
    /** Makes the cache for a run. */
    @FunctionalInterface
    public interface Factory {
        OnlineCache create(int capacity, int blocks);
    }

    private final String name;
    private final Kind kind;
    private final String description;
    private final Factory factory;

    public OnlinePolicy(String name, Kind kind, String description, Factory factory) {
        this.name = Objects.requireNonNull(name);
        this.kind = Objects.requireNonNull(kind);
        this.description = Objects.requireNonNull(description);
        this.factory = Objects.requireNonNull(factory);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Kind kind() {
        return kind;
    }

    @Override
    public String description() {
        return description;
    }

    /** A fresh cache of this policy (for tests). */
    public OnlineCache create(int capacity, int blocks) {
        return factory.create(capacity, blocks);
    }

    @Override
    public SimResult run(Trace trace, int cacheBlocks, LongConsumer progress) {
        OnlineCache cache = factory.create(cacheBlocks, trace.blocks());
        int[] events = trace.events();
        boolean[] writes = trace.writes();
        long hits = 0;
        long accesses = 0;
        int reported = 0;
        for (int i = 0; i < events.length; i++) {
            int e = events[i];
            if (e >= 0) {
                accesses++;
                if (cache.access(e, writes[i])) {
                    hits++;
                }
            } else {
                cache.discard(~e);
            }
            if (i - reported >= PROGRESS_EVERY) {
                progress.accept(i - reported);
                reported = i;
            }
        }
        progress.accept(events.length - reported);
        return new SimResult(name, cacheBlocks, accesses, hits, cache.fills());
    }
}
