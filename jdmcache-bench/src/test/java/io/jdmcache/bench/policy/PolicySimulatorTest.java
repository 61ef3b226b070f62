package io.jdmcache.bench.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The command line: a small end-to-end run, help, and one-line errors with exit code 2. */
class PolicySimulatorTest {

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PolicySimulator.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void printsBothTablesForEveryTrace() {
        Run r = run("--cache-blocks", "64", "--ios", "20000", "--lag", "32");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| trace "), r.out());
        assertTrue(r.out().contains("| LRU |") || r.out().contains("LRU"), r.out());
        assertTrue(r.out().contains("smq lag 32"), r.out());
        for (String t : SimulatorOptions.TRACE_NAMES) {
            assertEquals(2, r.out().lines().filter(l -> l.startsWith("| " + t + " ")).count(), t + " in both tables:\n" + r.out());
        }
        assertEquals("", r.err());
    }

    @Test
    void runsOnlyTheTracesAsked() {
        Run r = run("--cache-blocks", "64", "--ios", "5000", "--trace", "loop");
        assertEquals(0, r.code());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("| loop ")).count());
        assertEquals(0, r.out().lines().filter(l -> l.startsWith("| zipf")).count());
    }

    @Test
    void helpGoesToStdout() {
        Run r = run("--help");
        assertEquals(0, r.code());
        assertTrue(r.out().startsWith("usage: policy-sim"));
    }

    @Test
    void badCommandLinesGetOneLineAndExitCode2() {
        for (List<String> args : List.of(List.of("--ios"), List.of("--ios", "ten"), List.of("--ios", "0"),
                List.of("--trace", "nope"), List.of("--frobnicate", "1"), List.of("--cache-blocks", "99999999"))) {
            Run r = run(args.toArray(String[]::new));
            assertEquals(2, r.code(), args.toString());
            assertEquals("", r.out());
            List<String> lines = r.err().lines().toList();
            assertEquals(2, lines.size(), r.err());
            assertTrue(lines.get(0).startsWith("policy-sim: "), r.err());
            assertEquals("try --help", lines.get(1));
        }
        assertEquals("policy-sim: unknown trace 'nope' (known: zipf-0.9, zipf-1.2, zipf-0.9-local, zipf+scan, hot+scan, loop, phased)",
                run("--trace", "nope").err().lines().findFirst().orElseThrow());
    }

    @Test
    void tablesAlignTheirColumns() {
        TextTable t = new TextTable(List.of("a", "bb"));
        t.add(List.of("xyz", "1"));
        assertEquals("| a   | bb |\n|:----|---:|\n| xyz |  1 |\n", t.render());
    }
}
