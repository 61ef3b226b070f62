package io.jdmcache.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jdmcache sim} gives the same LRU and OPT figures as an independent simulator, {@code bench/refsim.py}
 * (Python's standard library, written from the definitions, sharing nothing with jdmcache), on the same
 * block-number traces: the real traces in {@code ../shared/traces} and five synthetic ones made here, at cache
 * sizes of 1%, 5% and 10% of each trace's distinct blocks (each tool resolving the percentages itself), to 0.1
 * point of hit ratio. (They agree exactly: Belady's MIN with bypass has one number of hits, whatever ties.)
 */
class SimCrossCheckTest {
    static final Path ROOT = Path.of(System.getProperty("jdmcache.root", ".."));
    static final Path SHARED = Path.of(System.getProperty("jdmcache.shared", "../shared"), "traces");
    static final List<String> REAL = List.of("multi1", "multi2", "multi3", "sprite", "2_pools", "ps", "loop");

    record Row(long accesses, long hits, double ratio) {
    }

    static Map<String, Row> rows(String tsv) {
        List<String> lines = tsv.lines().toList();
        assertThat(lines.get(0)).isEqualTo("trace\tpolicy\tcache_blocks\taccesses\thits\thit_ratio");
        Map<String, Row> m = new LinkedHashMap<>();
        for (String l : lines.subList(1, lines.size())) {
            String[] f = l.split("\t");
            assertThat(f).as(l).hasSize(6);
            m.put(f[0] + " " + f[1] + " " + f[2], new Row(Long.parseLong(f[3]), Long.parseLong(f[4]),
                    Double.parseDouble(f[5])));
        }
        return m;
    }

    /** A trace of {@code blocks} numbers, one a line. */
    static Path write(Path dir, String name, int[] blocks) throws IOException {
        StringBuilder b = new StringBuilder("# synthetic, made by SimCrossCheckTest\n");
        for (int x : blocks) {
            b.append(x).append('\n');
        }
        return Files.writeString(dir.resolve(name), b);
    }

    /** Zipf-distributed accesses over {@code n} blocks (inverse of the cumulative distribution), shuffled ids. */
    static int[] zipf(long seed, int length, int n, double alpha) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1 / Math.pow(i + 1, alpha);
            cdf[i] = sum;
        }
        SplittableRandom r = new SplittableRandom(seed);
        int[] id = new int[n];
        for (int i = 0; i < n; i++) {
            int j = r.nextInt(i + 1);
            id[i] = id[j];
            id[j] = i * 7 + 3;
        }
        int[] out = new int[length];
        for (int i = 0; i < length; i++) {
            int k = java.util.Arrays.binarySearch(cdf, r.nextDouble() * sum);
            out[i] = id[Math.min(n - 1, k < 0 ? -k - 1 : k)];
        }
        return out;
    }

    static List<Path> synthetic(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        out.add(write(dir, "zipf-0.9.blocks", zipf(1, 300_000, 30_000, 0.9)));
        out.add(write(dir, "zipf-1.2.blocks", zipf(2, 200_000, 50_000, 1.2)));
        SplittableRandom r = new SplittableRandom(3);
        int[] uniform = new int[100_000];
        for (int i = 0; i < uniform.length; i++) {
            uniform[i] = r.nextInt(5_000);
        }
        out.add(write(dir, "uniform.blocks", uniform));
        int[] loop = new int[150_000]; // a loop over 3,000 blocks with one random access in ten
        for (int i = 0; i < loop.length; i++) {
            loop[i] = r.nextInt(10) == 0 ? 100_000 + r.nextInt(20_000) : i % 3_000;
        }
        out.add(write(dir, "loop+noise.blocks", loop));
        int[] hotScan = new int[200_000]; // a hot set of 500, a scan of fresh blocks every 20,000 accesses
        int fresh = 1_000_000;
        for (int i = 0; i < hotScan.length; i++) {
            hotScan[i] = (i / 2_000) % 10 == 9 ? fresh++ : r.nextInt(500);
        }
        out.add(write(dir, "hot+scan.blocks", hotScan));
        return out;
    }

    /** The traces bench/record-traces.sh recorded through serve --trace, kept in the repository, still read. */
    @Test
    void theRecordedTracesInTheRepositoryRead() {
        List<String> args = new ArrayList<>(List.of("sim", "--cache-blocks", "1%", "--policies", "lru,opt", "--tsv"));
        for (String t : List.of("build", "find-grep", "pgbench")) {
            Path p = ROOT.resolve("bench/traces/" + t + ".jdmtrace.xz");
            assertThat(p).exists();
            args.add("--trace");
            args.add(p.toString());
        }
        CliTest.Run r = CliTest.run(args.toArray(String[]::new));
        assertThat(r.rc()).as(r.err()).isZero();
        Map<String, Row> rows = rows(r.out());
        assertThat(rows).hasSize(6);
        assertThat(rows.values()).allMatch(x -> x.accesses() > 10_000);
        assertThat(r.err()).contains("read as jdmcache");
    }

    @Test
    void lruAndOptAgreeWithAnIndependentSimulator(@TempDir Path dir) throws Exception {
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Files.isExecutable(python), "python3 is not installed (.ci/run installs it)");
        List<Path> traces = new ArrayList<>(synthetic(dir));
        for (String t : REAL) {
            Path p = SHARED.resolve(t + ".trace.gz");
            assertThat(p).as("the shared traces (../shared/traces)").exists();
            traces.add(p);
        }
        List<String> cmd = new ArrayList<>(List.of(python.toString(), ROOT.resolve("bench/refsim.py").toString(),
                "--cache-blocks", "1%,5%,10%"));
        traces.forEach(t -> cmd.add(t.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String ref;
        try (InputStream in = p.getInputStream()) {
            ref = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(ref).isZero();

        List<String> sim = new ArrayList<>(List.of("sim", "--format", "blocks", "--cache-blocks", "1%,5%,10%",
                "--policies", "lru,opt", "--tsv"));
        traces.forEach(t -> {
            sim.add("--trace");
            sim.add(t.toString());
        });
        CliTest.Run ours = CliTest.run(sim.toArray(String[]::new));
        assertThat(ours.rc()).as(ours.err()).isZero();

        Map<String, Row> theirs = rows(ref);
        Map<String, Row> mine = rows(ours.out());
        assertThat(theirs).hasSize(traces.size() * 3 * 2);
        assertThat(mine.keySet()).as("the same traces, policies and cache sizes").isEqualTo(theirs.keySet());
        int exact = 0;
        for (Map.Entry<String, Row> e : theirs.entrySet()) {
            Row a = e.getValue();
            Row b = mine.get(e.getKey());
            assertThat(b.accesses()).as(e.getKey() + " accesses").isEqualTo(a.accesses());
            assertThat((double) b.hits() / b.accesses()).as(e.getKey() + " hit ratio")
                    .isCloseTo((double) a.hits() / a.accesses(), org.assertj.core.data.Offset.offset(0.001));
            exact += a.hits() == b.hits() ? 1 : 0;
        }
        // the two must not have agreed by both being trivially empty or full
        assertThat(theirs.values()).anyMatch(r -> r.ratio() > 0.5).anyMatch(r -> r.ratio() > 0 && r.ratio() < 0.2);
        assertThat(exact).as("rows with the very same number of hits").isEqualTo(theirs.size());
    }
}
