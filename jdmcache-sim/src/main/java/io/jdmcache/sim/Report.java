package io.jdmcache.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.jdmcache.sim.Simulation.TraceRun;
import io.jdmcache.sim.policy.SimResult;

/** The simulator's output: the tab-separated rows of {@code --tsv}, or readable tables. */
public final class Report {
    public static final String TSV_HEADER = "trace\tpolicy\tcache_blocks\taccesses\thits\thit_ratio";

    private Report() {
    }

    /** The header and one row per trace, policy (of those asked for) and size. */
    public static String tsv(List<TraceRun> runs, List<String> policies) {
        StringBuilder sb = new StringBuilder(TSV_HEADER).append('\n');
        for (TraceRun tr : runs) {
            for (int blocks : tr.cacheBlocks()) {
                for (String p : policies) {
                    SimResult r = tr.get(p, blocks);
                    sb.append(tr.trace().name()).append('\t').append(p).append('\t').append(blocks).append('\t')
                            .append(r.accesses()).append('\t').append(r.hits()).append('\t')
                            .append(String.format(Locale.ROOT, "%.4f", r.hitRatio())).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** A table per trace: each policy's hit ratio, its ratio to LRU's and OPT's, and its fills. */
    public static String text(List<TraceRun> runs, List<String> policies, long blockBytes) {
        StringBuilder sb = new StringBuilder();
        for (TraceRun tr : runs) {
            if (!sb.isEmpty()) {
                sb.append('\n');
            }
            sb.append(String.format(Locale.ROOT, "%s (%s): %,d accesses, %,d distinct blocks%n", tr.trace().name(),
                    tr.source(), tr.trace().accesses(), tr.distinctBlocks()));
            TextTable t = new TextTable(List.of("cache blocks", "% of distinct", "policy", "hit ratio", "vs lru",
                    "vs opt", "fills/1000"));
            for (int blocks : tr.cacheBlocks()) {
                SimResult lru = tr.get("lru", blocks);
                SimResult opt = tr.get("opt", blocks);
                for (String p : policies) {
                    SimResult r = tr.get(p, blocks);
                    List<String> row = new ArrayList<>();
                    row.add(String.format(Locale.ROOT, "%,d", blocks));
                    row.add(tr.distinctBlocks() == 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f%%", 100.0 * blocks / tr.distinctBlocks()));
                    row.add(p);
                    row.add(String.format(Locale.ROOT, "%.2f%%", 100 * r.hitRatio()));
                    row.add(times(r.hitRatio(), lru.hitRatio()));
                    row.add(times(r.hitRatio(), opt.hitRatio()));
                    row.add(String.format(Locale.ROOT, "%.1f", r.fillsPerThousand()));
                    t.add(row);
                }
            }
            sb.append(t.render());
        }
        sb.append(String.format(Locale.ROOT, "%nblock size %d bytes; vs lru, vs opt: hit ratio divided by theirs;"
                + " fills/1000: blocks written into the cache per 1,000 accesses%n", blockBytes));
        return sb.toString();
    }

    static String times(double a, double b) {
        return b == 0 ? (a == 0 ? "-" : "inf") : String.format(Locale.ROOT, "%.2fx", a / b);
    }
}
