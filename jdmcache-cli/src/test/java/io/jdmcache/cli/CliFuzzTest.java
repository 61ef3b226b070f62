package io.jdmcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.cli.compat.CacheTools;
import io.jdmcache.pdata.testing.Vectors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command and reference-named tool (all but {@code serve}, which would go on serving), run in-process with
 * random command lines: its own options in any order and number, with values that are right, wrong, missing or
 * absurd, and paths to good, damaged, truncated, garbage, empty, missing and unusable files. Whatever the line,
 * the command must end with an exit code and, unless told to be quiet, say why it failed; no internal exception
 * may reach the user, neither as a stack trace nor as a message that is just an exception's name.
 */
class CliFuzzTest {
    @TempDir
    Path dir;

    static final Map<String, String[]> OPTIONS = new TreeMap<>(Map.of(
            "check", new String[] {"-q", "--quiet", "--super-block-only", "--skip-mappings", "--skip-hints",
                "--skip-discards", "--clear-needs-check-flag", "-h", "-V"},
            "dump", new String[] {"-o", "--output", "-r", "--repair", "--output="},
            "restore", new String[] {"-i", "-o", "--input", "--output", "--metadata-version", "--metadata-version=2",
                "--omit-clean-shutdown", "-q"},
            "repair", new String[] {"-i", "-o", "--input", "--output", "-q"},
            "metadata-size", new String[] {"--block-size", "--device-size", "--nr-blocks", "--max-hint-width"},
            "writeback", new String[] {"--metadata-device", "--origin-device", "--fast-device",
                "--fast-device-offset", "--origin-device-offset", "--buffer-size-meg", "--list-failed-blocks",
                "--no-metadata-update"},
            "status", new String[] {"--control", "--human", "--map", "--columns", "--rows"},
            "metrics", new String[] {"--control"},
            "message", new String[] {"--control"},
            "sim", new String[] {"--trace", "--format", "--format=msr", "--format=blocks", "--block-size",
                "--cache-blocks", "--cache-size", "--policies", "--tsv", "--list-policies"}));

    static final Map<String, String[]> TOOLS = new TreeMap<>(Map.of(
            "cache_check", new String[] {"-q", "--quiet", "--super-block-only", "--skip-mappings", "--skip-hints",
                "--skip-discards", "--clear-needs-check-flag", "-h", "-V", "--ignore-non-fatal-errors"},
            "cache_dump", new String[] {"-o", "--output", "-r", "--repair", "-h"},
            "cache_restore", new String[] {"-i", "-o", "--input", "--output", "--metadata-version", "-q",
                "--omit-clean-shutdown", "--debug-override-metadata-version"},
            "cache_repair", new String[] {"-i", "-o", "--input", "--output"},
            "cache_metadata_size", new String[] {"--block-size", "--device-size", "--nr-blocks",
                "--max-hint-width", "-h"},
            "cache_writeback", new String[] {"--metadata-device", "--origin-device", "--fast-device",
                "--fast-device-offset", "--origin-device-offset", "--buffer-size-meg", "--list-failed-blocks",
                "--update-metadata", "--no-metadata-update"}));

    static final String[] VALUES = {"0", "1", "2", "-1", "64", "128", "1024", "12k", "0x10", "1e3", "",
        "99999999999999999999", "9223372036854775807", "nope", "message", "migration_threshold"};

    /** Files the commands may read; outputs go to the output files, so these stay as made. */
    List<Path> inputs = new ArrayList<>();
    List<Path> outputs = new ArrayList<>();
    byte[] good;
    byte[] goodV2;

    void makeFiles() throws IOException {
        good = Vectors.image("small-v1");
        Path g = Files.write(dir.resolve("good.img"), good);
        goodV2 = Vectors.image("small-v2");
        Path v2 = Files.write(dir.resolve("good-v2.img"), goodV2);
        Path bad = Files.write(dir.resolve("bad.img"), Vectors.image("bad-mapping-node"));
        Path sb = Files.write(dir.resolve("bad-sb.img"), Vectors.image("bad-sb-csum"));
        byte[] noise = new byte[256 << 10];
        new Random(1).nextBytes(noise);
        Path garbage = Files.write(dir.resolve("garbage.bin"), noise);
        Path small = Files.write(dir.resolve("small.bin"), new byte[4095]);
        Path empty = Files.write(dir.resolve("empty.bin"), new byte[0]);
        ByteArrayOutputStream xml = new ByteArrayOutputStream();
        assertThat(Jdmcache.run(new String[] {"dump", g.toString()}, new PrintStream(xml, true),
                new PrintStream(new ByteArrayOutputStream(), true))).isZero();
        Path goodXml = Files.write(dir.resolve("dumped.xml"), xml.toByteArray());
        byte[] x = xml.toByteArray();
        Path cutXml = Files.write(dir.resolve("cut.xml"), Arrays.copyOf(x, x.length / 2));
        Path badXml = Files.writeString(dir.resolve("bad.xml"),
                "<superblock uuid=\"\" block_size=\"-5\" nr_cache_blocks=\"x\" policy=\"smq\" hint_width=\"4\">"
                        + "<mappings><mapping cache_block=\"99999\" origin_block=\"1\" dirty=\"maybe\"/>");
        Path fast = Files.write(dir.resolve("fast.bin"), new byte[1 << 20]);
        Path origin = Files.write(dir.resolve("origin.bin"), new byte[4 << 20]);
        inputs.addAll(List.of(g, v2, bad, sb, garbage, small, empty, goodXml, cutXml, badXml, fast, origin,
                dir.resolve("missing"), dir, Path.of("/dev/null")));
        Path out = dir.resolve("out.img");
        Files.write(out, new byte[4 << 20]);
        outputs.addAll(List.of(out, dir.resolve("out-new.img"), dir.resolve("no-such-dir").resolve("x.img")));
    }

    /**
     * Write-back updates the metadata it is given, and outputs may be aimed at inputs: after a line that named
     * a good image, both are made afresh.
     */
    void restoreImages(String[] argv) throws IOException {
        if (String.join(" ", argv).contains("good")) {
            Files.write(dir.resolve("good.img"), good);
            Files.write(dir.resolve("good-v2.img"), goodV2);
        }
    }

    /** An operand or option value: a file of the test's (to read) or a word. */
    String value(Random r) {
        return r.nextBoolean() ? inputs.get(r.nextInt(inputs.size())).toString() : VALUES[r.nextInt(VALUES.length)];
    }

    /** A random command line from the command's options, values and paths. */
    String[] line(Random r, String[] options, boolean writesOutput) {
        List<String> a = new ArrayList<>();
        int n = r.nextInt(7);
        for (int i = 0; i < n; i++) {
            int k = r.nextInt(10);
            if (k < 6) {
                String o = options[r.nextInt(options.length)];
                if (o.equals("-o") || o.startsWith("--output")) {
                    // what follows an output option is always a file in the test's folder: a bare word there
                    // (or the next option, taken as its value) would be a file made in the working directory
                    String path = (writesOutput && r.nextBoolean() ? outputs.get(r.nextInt(outputs.size()))
                            : inputs.get(r.nextInt(inputs.size()))).toString();
                    a.addAll(o.endsWith("=") ? List.of(o + path) : List.of(o, path));
                    continue;
                }
                a.add(o);
                if (r.nextInt(5) != 0) {
                    a.add(value(r));
                }
            } else if (k < 9) {
                a.add(value(r));
            } else {
                a.add(r.nextBoolean() ? "--bogus" : "-Z");
            }
        }
        return a.toArray(String[]::new);
    }

    record Outcome(int rc, String out, String err) {
    }

    static void checkOutcome(String what, String[] argv, Outcome o) {
        String all = o.out() + o.err();
        String line = what + " " + String.join(" ", argv);
        assertThat(all).as("no internal error from: %s", line).doesNotContain("\tat ").doesNotContain("Exception")
                .doesNotContain("Error:").doesNotContain("internal error").doesNotContain("For input string");
        boolean quiet = Arrays.asList(argv).contains("-q") || Arrays.asList(argv).contains("--quiet");
        if (o.rc() != 0 && !quiet) {
            assertThat(o.err()).as("the failure of %s says why", line).isNotBlank();
        }
    }

    /** The working directory's entries (where a stray relative output path would land). */
    static Set<String> workingDirectory() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("").toAbsolutePath())) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void everyCommandEndsWithAReasonWhateverTheLine() throws IOException {
        makeFiles();
        Set<String> before = workingDirectory();
        // -Djdmcache.fuzz.seed and -Djdmcache.fuzz.tries (lines per command) for longer hunts
        Random r = new Random(Long.getLong("jdmcache.fuzz.seed", 2026L));
        int tries = Integer.getInteger("jdmcache.fuzz.tries", 150);
        int failed = 0;
        int ran = 0;
        for (int i = 0; i < tries; i++) {
            for (Map.Entry<String, String[]> e : OPTIONS.entrySet()) {
                String[] args = line(r, e.getValue(), true);
                String[] argv = new String[args.length + 1];
                argv[0] = e.getKey();
                System.arraycopy(args, 0, argv, 1, args.length);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                int rc = Jdmcache.run(argv, new PrintStream(out, true), new PrintStream(err, true));
                Outcome o = new Outcome(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
                checkOutcome("jdmcache", argv, o);
                restoreImages(argv);
                failed += rc != 0 ? 1 : 0;
                ran++;
            }
        }
        for (int i = 0; i < tries; i++) {
            for (Map.Entry<String, String[]> e : TOOLS.entrySet()) {
                String[] args = line(r, e.getValue(), true);
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ByteArrayOutputStream err = new ByteArrayOutputStream();
                PrintStream po = new PrintStream(out, true);
                int rc;
                try {
                    rc = CacheTools.run(e.getKey(), args, po, new PrintStream(err, true), po);
                } catch (RuntimeException x) {
                    throw new AssertionError(e.getKey() + " " + String.join(" ", args) + " threw " + x, x);
                }
                checkOutcome(e.getKey(), args, new Outcome(rc, out.toString(StandardCharsets.UTF_8),
                        err.toString(StandardCharsets.UTF_8)));
                restoreImages(args);
                failed += rc != 0 ? 1 : 0;
                ran++;
            }
        }
        Set<String> after = workingDirectory();
        after.removeAll(before);
        after.remove(".jqwik-database");
        assertThat(after).as("files made outside the test's folder").isEmpty();
        assertThat(failed).as("most random lines are refused").isGreaterThan(ran / 2).isLessThan(ran);
    }
}
