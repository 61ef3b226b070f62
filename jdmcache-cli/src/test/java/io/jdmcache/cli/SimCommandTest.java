package io.jdmcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jdmcache sim} end to end, in-process: the TSV rows, the table, the plot, the policy list, bad input. */
class SimCommandTest {
    static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    @Test
    void tsvIsTheHeaderAndOneRowPerTracePolicyAndSize(@TempDir Path dir) throws Exception {
        Path t = Files.writeString(dir.resolve("t.blocks"), "1\n2\n1\n3\n1\n2\n");
        CliTest.Run r = run("sim", "--trace", t.toString(), "--cache-blocks", "2,1", "--policies", "lru,opt", "--tsv");
        assertThat(r.rc()).as(r.err()).isZero();
        // LRU of 1 block never hits; OPT of 1 keeps block 1 (used at 2 and 4); LRU of 2 hits 1 twice; OPT of 2
        // bypasses block 3 and hits 1, 1 and 2
        assertThat(r.out()).isEqualTo("""
                trace\tpolicy\tcache_blocks\taccesses\thits\thit_ratio
                t.blocks\tlru\t1\t6\t0\t0.0000
                t.blocks\topt\t1\t6\t2\t0.3333
                t.blocks\tlru\t2\t6\t2\t0.3333
                t.blocks\topt\t2\t6\t3\t0.5000
                """);
        assertThat(r.err()).isEqualTo("sim: " + t + ": read as blocks (one block number a line), guessed from its content\n");
    }

    @Test
    void theTableComparesWithLruAndOptAndShowsFills(@TempDir Path dir) throws Exception {
        Path t = dir.resolve("loop.blocks.gz");
        try (GZIPOutputStream gz = new GZIPOutputStream(Files.newOutputStream(t))) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 3000; i++) {
                sb.append(i % 10).append('\n');
            }
            gz.write(sb.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        }
        CliTest.Run r = run("sim", "--trace", t.toString(), "--format", "blocks", "--cache-blocks", "50%",
                "--policies", "lru");
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.err()).isEmpty();
        assertThat(r.out()).startsWith("loop.blocks (blocks): 3,000 accesses, 10 distinct blocks\n")
                .contains("| cache blocks | % of distinct | policy | hit ratio | vs lru | vs opt | fills/1000 |")
                // a loop over 10 blocks through 5 of LRU: every access misses and fills
                .contains("| 5            |         50.0% |    lru |     0.00% |      - |  0.00x |     1000.0 |");
    }

    @Test
    void syntheticTracesAndThePlot(@TempDir Path dir) throws Exception {
        Path svg = dir.resolve("curves.svg");
        CliTest.Run r = run("sim", "--trace", "synthetic:hot+scan:20000:64", "--cache-blocks", "16,32,64",
                "--policies", "smq,lru", "--plot", svg.toString());
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("hot+scan (synthetic): 20,000 accesses");
        String plot = Files.readString(svg);
        assertThat(plot).startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"").endsWith("</svg>\n")
                .contains("hot+scan: hit ratio against cache size");
        assertThat(plot.split("<polyline", -1)).as("a line per policy").hasSize(3);
        assertThat(plot.split("<circle", -1)).as("a point per policy and size").hasSize(7);
    }

    @Test
    void listPoliciesGivesNameAndKind() {
        CliTest.Run r = run("sim", "--list-policies");
        assertThat(r.rc()).isZero();
        assertThat(r.out()).contains("lru\treference\n").contains("smq\tengine\n").contains("wtlfu\tengine\n")
                .contains("opt\toracle\n");
        assertThat(r.out().lines()).allMatch(l -> l.matches("[a-z0-9-]+\t(engine|reference|library|oracle)"));
    }

    @Test
    void badInputGetsOneLineAndRc1(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.blocks"), "1\n2\nthree\n");
        CliTest.Run r = run("sim", "--trace", bad.toString(), "--format", "blocks", "--cache-blocks", "2");
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).isEqualTo(bad + ":3: expected a block number (or a line starting with # or *), got 'three'\n");

        CliTest.Run f = run("sim", "--trace", bad.toString(), "--format", "csv", "--cache-blocks", "2");
        assertThat(f.rc()).isEqualTo(1);
        assertThat(f.err()).isEqualTo("sim: unknown format 'csv' (known: auto, blocks, msr, systor, blkparse,"
                + " nbdkit-log, fio-iolog, jdmcache)\n");

        Path good = Files.writeString(dir.resolve("good.blocks"), "1\n");
        for (String[] args : new String[][] {
            {"--trace", good.toString()},
            {"--trace", good.toString(), "--cache-blocks", "1", "--cache-size", "1M"},
            {"--trace", good.toString(), "--cache-blocks", "x"},
            {"--trace", good.toString(), "--cache-size", "12Q"},
            {"--trace", good.toString(), "--cache-blocks", "0%"},
            {"--trace", good.toString(), "--cache-blocks", "1", "--policies", "lru,nope"},
            {"--trace", good.toString(), "--cache-blocks", "1", "--block-size", "0"},
            {"--trace", dir.resolve("missing").toString(), "--cache-blocks", "1"},
            {"--trace", dir.toString(), "--cache-blocks", "1"},
            {"--trace", "synthetic:nope", "--cache-blocks", "1"},
            {"--cache-blocks", "1"}}) {
            String[] argv = new String[args.length + 1];
            argv[0] = "sim";
            System.arraycopy(args, 0, argv, 1, args.length);
            CliTest.Run e = run(argv);
            assertThat(e.rc()).as(String.join(" ", argv)).isEqualTo(1);
            assertThat(e.out()).isEmpty();
            assertThat(e.err().lines().count()).as(e.err()).isEqualTo(1);
            assertThat(e.err()).doesNotContain("Exception").doesNotContain("internal error");
        }
        assertThat(run("sim", "--trace", good.toString(), "--cache-blocks", "1", "--policies", "lru,nope").err())
                .isEqualTo("sim: unknown policy 'nope' (known: " + String.join(", ",
                        io.jdmcache.sim.policy.SimPolicies.names()) + ", or all)\n");
    }
}
