package io.jdmcache.bench.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs every trace through every replay with one cache size and renders the comparison tables. Single-threaded.
 */
final class Simulation {
    /** One trace's results, in replay order. */
    record TraceResults(Trace trace, List<ReplayResult> results) {
        ReplayResult get(String column) {
            return results.stream().filter(r -> r.policy().equals(column)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no column " + column));
        }
    }

    static final String LRU = "LRU";
    static final String SMQ = "smq";
    static final String OPT = "OPT";
    static final String CLEANER = "cleaner";

    private final SimulatorOptions options;
    private final List<Replay> replays;
    private final String lagged;

    Simulation(SimulatorOptions options) {
        this.options = options;
        this.lagged = "smq lag " + options.lagIos();
        this.replays = List.of(
                new LruReplay(),
                new PolicyReplay(SMQ, "smq", 0, options.iops(), options.tickEvery(), 2000, false),
                new PolicyReplay(lagged, "smq", options.lagIos(), options.iops(), options.tickEvery(), 2000, false),
                new BeladyReplay(),
                new PolicyReplay(CLEANER, "cleaner", 0, options.iops(), options.tickEvery(), 2000, true));
    }

    List<TraceResults> run() {
        List<TraceResults> all = new ArrayList<>();
        for (Trace t : Workloads.standard(options.cacheBlocks(), options.ios(), options.seed())) {
            if (!options.traces().isEmpty() && !options.traces().contains(t.name())) {
                continue;
            }
            List<ReplayResult> results = new ArrayList<>();
            for (Replay r : replays) {
                results.add(r.replay(t, options.cacheBlocks()));
            }
            all.add(new TraceResults(t, results));
        }
        return all;
    }

    String render(List<TraceResults> all) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT,
                "policy simulator: cache %d blocks, %d I/Os per trace at a virtual %d IOPS (%.0f s), tick every %d I/Os, seed %d%n",
                options.cacheBlocks(), options.ios(), options.iops(), (double) options.ios() / options.iops(),
                options.tickEvery(), options.seed()));
        sb.append("hit ratio over the whole trace (second half in parentheses); OPT = Belady's MIN with bypass\n\n");
        TextTable hits = new TextTable(List.of("trace", "distinct", LRU, SMQ, lagged, OPT, "smq/LRU", "smq/OPT"));
        for (TraceResults tr : all) {
            ReplayResult lru = tr.get(LRU);
            ReplayResult smq = tr.get(SMQ);
            ReplayResult opt = tr.get(OPT);
            hits.add(List.of(tr.trace().name(), Integer.toString(tr.trace().distinctBlocks()), ratio(lru), ratio(smq),
                    ratio(tr.get(lagged)), ratio(opt), times(smq.hitRatio(), lru.hitRatio()),
                    times(smq.hitRatio(), opt.hitRatio())));
        }
        sb.append(hits.render()).append('\n');
        sb.append("smq background work; cleaner started on a full cache of dirty blocks (the trace's first distinct blocks)\n\n");
        TextTable work = new TextTable(List.of("trace", "smq promotions", "smq demotions", "smq write-backs",
                "smq dirty at end", "cleaner hits", "cleaner write-backs", "cleaner promotions", "cleaner dirty start -> end"));
        for (TraceResults tr : all) {
            ReplayResult smq = tr.get(SMQ);
            ReplayResult cleaner = tr.get(CLEANER);
            work.add(List.of(tr.trace().name(), Long.toString(smq.promotions()), Long.toString(smq.demotions()),
                    Long.toString(smq.writebacks()), Long.toString(smq.dirtyAtEnd()), ratio(cleaner),
                    Long.toString(cleaner.writebacks()), Long.toString(cleaner.promotions()),
                    cleaner.dirtyAtStart() + " -> " + cleaner.dirtyAtEnd()));
        }
        sb.append(work.render());
        return sb.toString();
    }

    private static String ratio(ReplayResult r) {
        return String.format(Locale.ROOT, "%.2f%% (%.2f%%)", 100 * r.hitRatio(), 100 * r.lateHitRatio());
    }

    private static String times(double a, double b) {
        return b == 0 ? (a == 0 ? "-" : "inf") : String.format(Locale.ROOT, "%.2fx", a / b);
    }
}
