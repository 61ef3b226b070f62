package io.jdmcache.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

import io.jdmcache.sim.policy.SimPolicies;
import io.jdmcache.sim.policy.SimPolicy;
import io.jdmcache.sim.policy.SimResult;
import io.jdmcache.sim.trace.Trace;

/**
 * Runs every trace through every policy at every cache size. Runs are independent and deterministic, so they go to
 * a few threads; the results come back in trace, size, policy order whatever the threads did. LRU and OPT run
 * even when not asked for, as the references of the readable table.
 */
public final class Simulation {
    /** One trace's results. */
    public record TraceRun(Trace trace, String source, int distinctBlocks, List<Integer> cacheBlocks,
                           List<SimResult> results) {
        /** The result of a policy at a size, or {@code null}. */
        public SimResult get(String policy, int blocks) {
            for (SimResult r : results) {
                if (r.policy().equals(policy) && r.cacheBlocks() == blocks) {
                    return r;
                }
            }
            return null;
        }
    }

    /** A trace to run and where it came from (the format it was read as, or "synthetic"). */
    public record Input(Trace trace, String source) {
    }

    private final java.util.Map<String, long[]> speed = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<SimPolicy> policies;
    private final List<CacheSize> sizes;
    private final long blockBytes;
    private final int threads;

    public Simulation(List<SimPolicy> policies, List<CacheSize> sizes, long blockBytes, int threads) {
        this.policies = List.copyOf(policies);
        this.sizes = List.copyOf(sizes);
        this.blockBytes = blockBytes;
        this.threads = Math.max(1, threads);
        if (policies.isEmpty() || sizes.isEmpty()) {
            throw new IllegalArgumentException("a simulation needs at least one policy and one cache size");
        }
    }

    /** The policies that run: those asked for, plus LRU and OPT. */
    public List<SimPolicy> runPolicies() {
        List<SimPolicy> run = new ArrayList<>(policies);
        for (String ref : List.of("lru", "opt")) {
            if (run.stream().noneMatch(p -> p.name().equals(ref))) {
                run.add(SimPolicies.byName(ref));
            }
        }
        return run;
    }

    /** The events all the runs will replay (for a progress bar's total). */
    public long totalEvents(List<Input> inputs) {
        long n = 0;
        for (Input in : inputs) {
            n += (long) in.trace().length() * cacheBlocks(in.trace()).size() * runPolicies().size();
        }
        return n;
    }

    /** The distinct cache sizes for a trace, ascending. */
    public List<Integer> cacheBlocks(Trace t) {
        int distinct = t.distinctBlocks();
        TreeSet<Integer> s = new TreeSet<>();
        for (CacheSize c : sizes) {
            s.add(c.blocks(distinct, blockBytes));
        }
        return List.copyOf(s);
    }

    private SimResult timed(SimPolicy p, Trace t, int blocks, LongConsumer progress) {
        long start = System.nanoTime();
        SimResult r = p.run(t, blocks, progress);
        long took = System.nanoTime() - start;
        speed.merge(p.name(), new long[] {t.length(), took}, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        return r;
    }

    /**
     * Events replayed a second by each policy in the runs so far (each run timed on its own thread), in run
     * order: a measure of the simulator's speed, for the bench.
     */
    public java.util.Map<String, Double> eventsPerSecond() {
        java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
        for (SimPolicy p : runPolicies()) {
            long[] v = speed.get(p.name());
            if (v != null && v[1] > 0) {
                m.put(p.name(), v[0] * 1e9 / v[1]);
            }
        }
        return m;
    }

    public List<TraceRun> run(List<Input> inputs, LongConsumer progress) throws InterruptedException {
        Objects.requireNonNull(progress, "progress");
        AtomicLong done = new AtomicLong();
        LongConsumer shared = d -> progress.accept(done.addAndGet(d));
        List<SimPolicy> run = runPolicies();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "jdmcache-sim");
            t.setDaemon(true);
            return t;
        });
        try {
            List<List<Future<SimResult>>> futures = new ArrayList<>();
            List<List<Integer>> blocks = new ArrayList<>();
            for (Input in : inputs) {
                List<Integer> bs = cacheBlocks(in.trace());
                blocks.add(bs);
                List<Future<SimResult>> fs = new ArrayList<>();
                for (int b : bs) {
                    for (SimPolicy p : run) {
                        fs.add(pool.submit(() -> timed(p, in.trace(), b, shared)));
                    }
                }
                futures.add(fs);
            }
            List<TraceRun> out = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                List<SimResult> results = new ArrayList<>();
                for (Future<SimResult> f : futures.get(i)) {
                    results.add(f.get());
                }
                Trace t = inputs.get(i).trace();
                out.add(new TraceRun(t, inputs.get(i).source(), t.distinctBlocks(), blocks.get(i), results));
            }
            return out;
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException re) {
                throw re;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        } finally {
            pool.shutdownNow();
        }
    }
}
