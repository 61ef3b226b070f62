package io.jdmcache.cli;

import io.jdmcache.sim.CacheSize;
import io.jdmcache.sim.Report;
import io.jdmcache.sim.Simulation;
import io.jdmcache.sim.SvgPlot;
import io.jdmcache.sim.policy.SimPolicies;
import io.jdmcache.sim.policy.SimPolicy;
import io.jdmcache.sim.trace.Trace;
import io.jdmcache.sim.trace.TraceFormat;
import io.jdmcache.sim.trace.TraceFormatException;
import io.jdmcache.sim.trace.TraceReader;
import io.jdmcache.sim.trace.Workloads;
import io.jdmcache.tools.run.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code jdmcache sim}: replays block traces through cache policies and compares their hit ratios. */
@Command(name = "sim", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Replay block traces through cache replacement policies and compare their hit ratios "
                + "(and fills: blocks written into the cache per 1,000 accesses) at the cache sizes given.",
                "A request (offset, length) touches blocks offset/B to (offset+length-1)/B, B the block size, one "
                + "access each; a discard drops the blocks it covers whole and is no access.",
                "--trace synthetic:NAME[:ACCESSES[:SCALE[:SEED]]] replays a synthetic trace instead of a file."})
final class SimCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = "--trace", paramLabel = "FILE", description = "a trace file, plain or gzip, xz or bzip2 "
            + "compressed (repeatable)")
    List<String> traces = new ArrayList<>();

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "auto", description = "auto|blocks|msr|systor"
            + "|blkparse|nbdkit-log|fio-iolog|jdmcache (default ${DEFAULT-VALUE}: guessed from the content)")
    String format;

    @Option(names = "--block-size", paramLabel = "SECTORS", defaultValue = "128",
            description = "cache block size in 512-byte sectors (default ${DEFAULT-VALUE})")
    long blockSize;

    @Option(names = "--cache-blocks", paramLabel = "N[,N...]",
            description = "cache sizes in blocks, or percentages of each trace's distinct blocks (1%,5%,10%)")
    String cacheBlocks;

    @Option(names = "--cache-size", paramLabel = "SIZE[,SIZE...]",
            description = "cache sizes in bytes (k, M, G, T suffixes: 512M) or percentages")
    String cacheSize;

    @Option(names = "--policies", paramLabel = "NAME,...|all", defaultValue = "all",
            description = "the policies to compare (default ${DEFAULT-VALUE}; --list-policies lists them)")
    String policies;

    @Option(names = "--tsv", description = "tab-separated rows on stdout: " + "trace, policy, cache_blocks, "
            + "accesses, hits, hit_ratio")
    boolean tsv;

    @Option(names = "--plot", paramLabel = "FILE.svg", description = "also draw the hit-ratio curves as SVG")
    Path plot;

    @Option(names = "--list-policies", description = "print NAME<TAB>KIND for each policy and exit")
    boolean listPolicies;

    private static final long MAX_BLOCK_SECTORS = 1L << 31;

    @Override
    public Integer call() throws IOException, InterruptedException {
        if (listPolicies) {
            for (SimPolicy p : SimPolicies.all()) {
                root.out.println(p.name() + "\t" + p.kind().label());
            }
            return 0;
        }
        try {
            return simulate();
        } catch (TraceFormatException e) {
            root.err.println(e.getMessage());
            return 1;
        } catch (IllegalArgumentException e) {
            root.err.println("sim: " + e.getMessage());
            return 1;
        }
    }

    private int simulate() throws TraceFormatException, IOException, InterruptedException {
        TraceFormat fmt = TraceFormat.byName(format).orElseThrow(() -> new IllegalArgumentException(
                "unknown format '" + format + "' (known: " + String.join(", ", TraceFormat.names()) + ")"));
        if (blockSize < 1 || blockSize > MAX_BLOCK_SECTORS) {
            throw new IllegalArgumentException("--block-size must be in [1, " + MAX_BLOCK_SECTORS + "] sectors: "
                    + blockSize);
        }
        if (traces.isEmpty()) {
            throw new IllegalArgumentException("no --trace given (a file, or synthetic:NAME)");
        }
        if ((cacheBlocks == null) == (cacheSize == null)) {
            throw new IllegalArgumentException("give the cache sizes with either --cache-blocks or --cache-size");
        }
        List<CacheSize> sizes = cacheBlocks != null ? CacheSize.parseBlocks("--cache-blocks", cacheBlocks)
                : CacheSize.parseBytes("--cache-size", cacheSize);
        List<SimPolicy> chosen = SimPolicies.parse(policies);
        long blockBytes = blockSize * 512;
        if (plot != null && (plot.getParent() != null && !Files.isDirectory(plot.getParent()))) {
            throw new IllegalArgumentException("--plot " + plot + ": no such directory " + plot.getParent());
        }
        List<Simulation.Input> inputs = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        for (String spec : traces) {
            Simulation.Input in = load(spec, fmt, blockBytes);
            int seen = names.merge(in.trace().name(), 1, Integer::sum);
            inputs.add(seen == 1 ? in : new Simulation.Input(in.trace().named(in.trace().name() + "#" + seen),
                    in.source()));
        }
        long started = System.nanoTime();
        Simulation sim = new Simulation(chosen, sizes, blockBytes, Runtime.getRuntime().availableProcessors());
        Progress bar = Progress.start(root.err, "Simulating").total(sim.totalEvents(inputs));
        List<Simulation.TraceRun> runs = sim.run(inputs, bar::update);
        bar.finish();
        if ("1".equals(System.getenv("JDMCACHE_SIM_TIMING"))) {
            long ms = (System.nanoTime() - started) / 1_000_000;
            StringBuilder sb = new StringBuilder("sim: ran in " + ms + " ms; accesses a second per run:");
            sim.eventsPerSecond().forEach((p, v) -> sb.append(String.format(java.util.Locale.ROOT, " %s %.1fM", p, v / 1e6)));
            root.err.println(sb);
        }
        List<String> shown = chosen.stream().map(SimPolicy::name).toList();
        root.out.print(tsv ? Report.tsv(runs, shown) : Report.text(runs, shown, blockBytes));
        root.out.flush();
        if (plot != null) {
            Path tmp = plot.resolveSibling(plot.getFileName() + ".tmp");
            Files.writeString(tmp, SvgPlot.render(runs, shown), StandardCharsets.UTF_8);
            Files.move(tmp, plot, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return 0;
    }

    private Simulation.Input load(String spec, TraceFormat fmt, long blockBytes) throws TraceFormatException {
        if (Workloads.isSynthetic(spec)) {
            Trace t = Workloads.fromSpec(spec);
            return new Simulation.Input(t, "synthetic");
        }
        TraceReader.Loaded loaded = TraceReader.read(Path.of(spec), fmt, blockBytes);
        if (loaded.guessed()) {
            root.err.println("sim: " + spec + ": read as " + loaded.format().cliName() + " ("
                    + loaded.format().description() + "), guessed from its content");
        }
        if (loaded.trace().accesses() == 0) {
            throw new TraceFormatException(spec + ": no accesses in it");
        }
        return new Simulation.Input(loaded.trace(), loaded.format().cliName());
    }
}
