package io.jdmcache.cli.compat;

import io.jdmcache.pdata.testing.Vectors;
import io.jdmcache.tools.run.DumpTool;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The acceptance cases of spec/tools.md (numbered as there) for the reference-named tools, run in-process,
 * with Debian's thin-provisioning-tools run on the same inputs where a case compares the two.
 */
class CacheToolsAcceptanceTest {
    static final List<String> TOOLS = CacheTools.NAMES;

    static Path vector(Path dir, String name) throws IOException {
        Path p = dir.resolve(name + ".img");
        Files.write(p, Vectors.image(name));
        return p;
    }

    static Path xmlIn(String name) {
        return Vectors.dir().resolve("xml-in").resolve(name);
    }

    static String text(Path p) throws IOException {
        return Vectors.text(p);
    }

    static Path zeroFile(Path dir, String name, long bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, new byte[0]);
        try (var f = new java.io.RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static byte[] firstBlock(Path p) throws IOException {
        return Arrays.copyOf(Files.readAllBytes(p), 4096);
    }

    // ------------------------------------------------------------------ 1

    @Test
    void case1HelpVersionAndUnknownOptionsMatchTheReference() throws Exception {
        for (String t : TOOLS) {
            ToolRun ref = ToolRun.reference(t, "-h");
            for (String h : List.of("-h", "--help")) {
                ToolRun ours = ToolRun.ours(t, h);
                assertThat(ours.rc()).as(t + " " + h).isZero();
                assertThat(ours.out()).as(t + " " + h).isEqualTo(ref.out());
            }
            for (String v : List.of("-V", "--version")) {
                ToolRun ours = ToolRun.ours(t, v);
                assertThat(ours.rc()).isZero();
                assertThat(ours.out()).isEqualTo(ToolRun.reference(t, v).out()).isEqualTo("0.9.0\n");
            }
            ToolRun bad = ToolRun.ours(t, "--hedgehogs-only");
            assertThat(bad.rc()).isEqualTo(1);
            assertThat(bad.err()).isEqualTo(ToolRun.reference(t, "--hedgehogs-only").err().replace("/usr/sbin/", ""))
                    .contains("'--hedgehogs-only'");
        }
        // options act left to right, as getopt does
        assertThat(ToolRun.ours("cache_check", "-V", "--bogus").rc()).isZero();
        assertThat(ToolRun.ours("cache_check", "--bogus", "-V").rc()).isEqualTo(1);
        String[][] usageErrors = {{"cache_check", "--sk", "x"}, {"cache_dump", "-o"}, {"cache_dump", "-x"},
                {"cache_metadata_size", "--nr-blocks"}, {"cache_check", "--quiet=1", "x"}};
        for (String[] u : usageErrors) {
            String[] args = Arrays.copyOfRange(u, 1, u.length);
            assertThat(ToolRun.ours(u[0], args).err()).as(String.join(" ", u))
                    .isEqualTo(ToolRun.reference(u[0], args).err().replace("/usr/sbin/", ""));
        }
    }

    // ------------------------------------------------------------------ 2, 4

    @Test
    void case2And4CheckPathErrorsAndQuiet(@TempDir Path dir) throws Exception {
        ToolRun none = ToolRun.ours("cache_check");
        assertThat(none.rc()).isEqualTo(1);
        assertThat(none.err()).isEqualTo(ToolRun.reference("cache_check").err())
                .startsWith("No input file provided.\n");
        Path missing = dir.resolve("nope");
        assertThat(ToolRun.ours("cache_check", missing.toString()).err()).contains(missing.toString())
                .contains("No such file or directory");
        assertThat(ToolRun.ours("cache_check", dir.toString()).err()).contains("Not a block device or regular file");
        assertThat(ToolRun.ours("cache_check", "/dev/null").err()).contains("Not a block device or regular file");
        Path tiny = dir.resolve("tiny");
        Files.write(tiny, new byte[1024]);
        assertThat(ToolRun.ours("cache_check", tiny.toString()).err())
                .isEqualTo("Metadata device/file too small.  Is this binary metadata?\n");
        Path xml = dir.resolve("meta.xml");
        Files.writeString(xml, text(xmlIn("small.xml")));
        ToolRun x = ToolRun.ours("cache_check", xml.toString());
        assertThat(x.rc()).isEqualTo(1);
        assertThat(x.err()).contains("bad checksum in superblock").contains("This looks like XML.");
        for (String q : List.of("-q", "--quiet")) {
            ToolRun quiet = ToolRun.ours("cache_check", q, vector(dir, "bad-sb-csum").toString());
            assertThat(quiet.rc()).isEqualTo(1);
            assertThat(quiet.out() + quiet.err()).isEmpty();
            ToolRun quietZero = ToolRun.ours("cache_check", zeroFile(dir, "zero", 16 << 20).toString(), q);
            assertThat(quietZero.rc()).isEqualTo(1);
            assertThat(quietZero.out() + quietZero.err()).isEmpty();
        }
    }

    // ------------------------------------------------------------------ 3, 20, 24

    @Test
    void case3And20CheckVerdictsOnEveryVector(@TempDir Path dir) throws Exception {
        for (Vectors.Row row : Vectors.manifest()) {
            Path img = vector(dir, row.name());
            ToolRun r = ToolRun.ours("cache_check", img.toString());
            // the reference fails empty caches (its bug); jdmcache passes them
            int expected = row.name().startsWith("zero-blocks") ? 0 : row.checkRc();
            assertThat(r.rc()).as(row.name() + ": " + r.err()).isEqualTo(expected);
            Files.delete(img);
        }
    }

    @Test
    void case3CheckNamesTheKindOfProblem(@TempDir Path dir) throws Exception {
        assertThat(ToolRun.ours("cache_check", vector(dir, "bad-sb-magic").toString()).err())
                .contains("magic is incorrect");
        assertThat(ToolRun.ours("cache_check", vector(dir, "bad-sb-version").toString()).err())
                .contains("version incorrect: 7");
        assertThat(ToolRun.ours("cache_check", vector(dir, "dup-oblock-v1").toString()).err())
                .contains("origin block already mapped");
        assertThat(ToolRun.ours("cache_check", vector(dir, "dirty-flag-in-mapping-v2").toString()).err())
                .contains("unknown flags in mapping");
        assertThat(ToolRun.ours("cache_check", vector(dir, "bad-mapping-ablock").toString()).err())
                .contains("missing mappings").contains("checksum");
        assertThat(ToolRun.ours("cache_check", vector(dir, "truncated-9blocks").toString()).err())
                .contains("out of bounds");
        // dirty bits on unmapped format 2 blocks (every Debian-made v2 image): a warning, not a failure
        ToolRun v2 = ToolRun.ours("cache_check", vector(dir, "small-v2").toString());
        assertThat(v2.rc()).isZero();
        assertThat(v2.err()).contains("dirty bits set on unmapped cache blocks");
    }

    // ------------------------------------------------------------------ 5, 6

    @Test
    void case5And6CheckOptions(@TempDir Path dir) throws Exception {
        Path img = vector(dir, "small-v1");
        for (String o : List.of("--super-block-only", "--skip-mappings", "--skip-hints", "--skip-discards")) {
            ToolRun r = ToolRun.ours("cache_check", o, img.toString());
            assertThat(r.rc()).as(o).isZero();
        }
        assertThat(ToolRun.ours("cache_check", "--skip-mappings", img.toString()).err())
                .doesNotContain("examining mapping array");
        assertThat(ToolRun.ours("cache_check", "--skip-hints", img.toString()).err())
                .doesNotContain("examining hint array");
        assertThat(ToolRun.ours("cache_check", "--super-block-only", img.toString()).err())
                .doesNotContain("examining mapping array").doesNotContain("examining hint array");
        byte[] before = Files.readAllBytes(img);
        assertThat(ToolRun.ours("cache_check", "--clear-needs-check-flag", img.toString()).rc()).isZero();
        assertThat(Files.readAllBytes(img)).isEqualTo(before);
        Path nc = vector(dir, "needs-check");
        assertThat(ToolRun.ours("cache_check", "--clear-needs-check-flag", nc.toString()).rc()).isZero();
        assertThat(Files.readAllBytes(nc)[4]).isEqualTo((byte) 1);
    }

    // ------------------------------------------------------------------ 7, 8, 9, 24

    @ParameterizedTest
    @ValueSource(strings = {"small-v1", "small-v1-unclean", "nomap-v1", "needs-check", "bad-sb-csum"})
    void case7DumpOfV1VectorsIsTheReferencesBytes(String name, @TempDir Path dir) throws Exception {
        Path img = vector(dir, name);
        Path expected = Vectors.dir().resolve(name + ".dump.xml");
        ToolRun r = ToolRun.ours("cache_dump", img.toString());
        if (name.startsWith("bad")) {
            assertThat(r.rc()).isEqualTo(1);
            assertThat(r.err()).contains("bad checksum in superblock");
            ToolRun rep = ToolRun.ours("cache_dump", "--repair", img.toString());
            assertThat(rep.rc()).isEqualTo(1);
            assertThat(rep.err()).contains("bad checksum in superblock");
            return;
        }
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(text(expected));
        for (String o : List.of("-o", "--output")) {
            Path out = dir.resolve("out" + o + ".xml");
            assertThat(ToolRun.ours("cache_dump", o, out.toString(), img.toString()).rc()).isZero();
            assertThat(Files.readString(out)).isEqualTo(r.out());
        }
    }

    @Test
    void case7And19DumpOfV1MidAndV2VectorsGivesTheSourceXml(@TempDir Path dir) throws Exception {
        assertThat(ToolRun.ours("cache_dump", vector(dir, "mid-v1").toString()).out())
                .isEqualTo(text(Vectors.dir().resolve("mid-v1.dump.xml.gz")));
        assertThat(ToolRun.ours("cache_dump", vector(dir, "small-v2").toString()).out())
                .isEqualTo(text(xmlIn("small.xml")));
        assertThat(ToolRun.ours("cache_dump", vector(dir, "mid-v2").toString()).out())
                .isEqualTo(text(xmlIn("mid.xml.gz")));
        assertThat(ToolRun.ours("cache_dump", vector(dir, "nomap-v2").toString()).out())
                .isEqualTo(text(Vectors.dir().resolve("nomap-v2.dump.xml")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"bad-mapping-node", "bad-mapping-ablock", "bad-hint-ablock", "bad-cache-blocks",
            "truncated-9blocks"})
    void case9DamagedArraysFailWithoutRepairAndKeepAtLeastTheReferencesPartWithIt(String name, @TempDir Path dir)
            throws Exception {
        Path img = vector(dir, name);
        ToolRun plain = ToolRun.ours("cache_dump", img.toString());
        assertThat(plain.rc()).isEqualTo(1);
        assertThat(plain.err()).contains("perhaps you wanted to run with --repair ?");
        ToolRun rep = ToolRun.ours("cache_dump", "--repair", img.toString());
        assertThat(rep.rc()).as(rep.err()).isZero();
        Set<String> ours = Set.copyOf(rep.out().lines().collect(Collectors.toList()));
        List<String> theirs = text(Vectors.dir().resolve(name + ".repair-dump.xml")).lines()
                .filter(l -> l.contains("<mapping ") || l.contains("<hint "))
                .collect(Collectors.toList());
        assertThat(ours).containsAll(theirs);
        // the salvaged XML restores into metadata that checks clean
        Path xml = dir.resolve("salvaged.xml");
        Files.writeString(xml, rep.out());
        Path out = zeroFile(dir, "out.img", 8 << 20);
        assertThat(ToolRun.ours("cache_restore", "-i", xml.toString(), "-o", out.toString()).rc()).isZero();
        assertThat(ToolRun.ours("cache_check", out.toString()).rc()).isZero();
    }

    @Test
    void case9SalvageKeepsIntactArrayBlocksAfterADamagedOne(@TempDir Path dir) throws Exception {
        // the reference drops every mapping after the bad array block; jdmcache loses only that block's
        ToolRun rep = ToolRun.ours("cache_dump", "--repair", vector(dir, "bad-mapping-ablock").toString());
        long ours = rep.out().lines().filter(l -> l.contains("<mapping ")).count();
        long theirs = text(Vectors.dir().resolve("bad-mapping-ablock.repair-dump.xml")).lines()
                .filter(l -> l.contains("<mapping ")).count();
        assertThat(ours).isGreaterThan(theirs);
        assertThat(rep.err()).contains("left out missing mappings");
    }

    @Test
    void case24DumpRefusesSuperblocksItCannotTrust(@TempDir Path dir) throws Exception {
        for (String name : List.of("bad-sb-magic", "bad-sb-version")) {
            ToolRun r = ToolRun.ours("cache_dump", vector(dir, name).toString());
            assertThat(r.rc()).as(name).isEqualTo(1);
            assertThat(r.err()).contains("superblock is invalid");
            assertThat(r.out()).isEmpty();
        }
    }

    // ------------------------------------------------------------------ 10, 12, 19, 21

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void case10And12RestoreDumpRoundTrips(int version, @TempDir Path dir) throws Exception {
        for (String src : List.of("small.xml", "mid.xml.gz", "nomap.xml", "zero-blocks.xml")) {
            Path img = zeroFile(dir, "r.img", 16 << 20);
            ToolRun r = ToolRun.ours("cache_restore", "-i", xmlIn(src).toString(), "-o", img.toString(),
                    "--metadata-version", String.valueOf(version));
            assertThat(r.rc()).as(src + ": " + r.err()).isZero();
            assertThat(r.out() + r.err()).isEmpty();
            assertThat(Files.readAllBytes(img)[40]).isEqualTo((byte) version);
            ToolRun check = ToolRun.ours("cache_check", img.toString());
            assertThat(check.rc()).as(src + ": " + check.err()).isZero();
            if (!src.startsWith("zero")) {
                // the reference's checker fails empty caches (its bug), so it judges only the others
                ToolRun ref = ToolRun.reference("cache_check", img.toString());
                assertThat(ref.rc()).as(src + ": " + ref.err()).isZero();
            }
            String dumped = ToolRun.ours("cache_dump", img.toString()).out();
            // nomap.xml and zero-blocks.xml have no <hints> wrapper, which a dump always writes
            String expected = text(xmlIn(src));
            if (!expected.contains("<hints>")) {
                expected = expected.replace("</superblock>", "  <hints>\n  </hints>\n</superblock>");
            }
            assertThat(dumped).as(src).isEqualTo(expected);
            // and the dump restores to the same dump again: a fixed point
            Path xml = dir.resolve("again.xml");
            Files.writeString(xml, dumped);
            Path img2 = zeroFile(dir, "r2.img", 16 << 20);
            assertThat(ToolRun.ours("cache_restore", "-i", xml.toString(), "-o", img2.toString(),
                    "--metadata-version", String.valueOf(version)).rc()).isZero();
            assertThat(ToolRun.ours("cache_dump", img2.toString()).out()).isEqualTo(dumped);
            if (version == 1 && !src.startsWith("zero")) {
                assertThat(ToolRun.reference("cache_dump", img.toString()).out()).isEqualTo(dumped);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void crossCheckDebianRestoredImagesPassAndDumpIdentically(int version, @TempDir Path dir) throws Exception {
        Path img = zeroFile(dir, "deb.img", 8 << 20);
        ToolRun deb = ToolRun.reference("cache_restore", "-i", xmlIn("small.xml").toString(), "-o", img.toString(),
                "--metadata-version", String.valueOf(version));
        assertThat(deb.rc()).as(deb.err()).isZero();
        assertThat(ToolRun.ours("cache_check", img.toString()).rc()).isZero();
        String ours = ToolRun.ours("cache_dump", img.toString()).out();
        if (version == 1) {
            assertThat(ours).isEqualTo(ToolRun.reference("cache_dump", img.toString()).out());
        } else {
            // Debian's v2 dump says every block is clean; jdmcache shows the dirty bitset, i.e. the input
            assertThat(ours).isEqualTo(text(xmlIn("small.xml")));
        }
    }

    @Test
    void case21DiscardsRoundTrip(@TempDir Path dir) throws Exception {
        Path img = zeroFile(dir, "d.img", 8 << 20);
        assertThat(ToolRun.ours("cache_restore", "-i", xmlIn("small-discards.xml").toString(), "-o",
                img.toString(), "--metadata-version", "2").rc()).isZero();
        assertThat(ToolRun.reference("cache_check", img.toString()).rc()).isZero();
        String dumped = ToolRun.ours("cache_dump", img.toString()).out();
        String input = text(xmlIn("small-discards.xml"));
        assertThat(dumped).contains("<discards>\n    <discard dbegin=\"3\" dend=\"6\"/>\n"
                + "    <discard dbegin=\"100\" dend=\"110\"/>\n    <discard dbegin=\"1000\" dend=\"1024\"/>\n"
                + "  </discards>\n</superblock>\n");
        // everything but the superblock line (which now states the discard geometry) is the input
        assertThat(dumped.substring(dumped.indexOf('\n'))).isEqualTo(input.substring(input.indexOf('\n')));
        assertThat(dumped.lines().findFirst().orElseThrow()).contains("discard_block_size=\"128\"")
                .contains("discard_nr_blocks=\"1024\"");
        Path xml = dir.resolve("d.xml");
        Files.writeString(xml, dumped);
        Path img2 = zeroFile(dir, "d2.img", 8 << 20);
        assertThat(ToolRun.ours("cache_restore", "-i", xml.toString(), "-o", img2.toString()).rc()).isZero();
        assertThat(ToolRun.ours("cache_dump", img2.toString()).out()).isEqualTo(dumped);
    }

    // ------------------------------------------------------------------ 11, 14

    @Test
    void case11RestoreOptionAndOutputErrors(@TempDir Path dir) throws Exception {
        Path good = vector(dir, "small-v1");
        byte[] before = Files.readAllBytes(good);
        String in = xmlIn("small.xml").toString();
        ToolRun noIn = ToolRun.ours("cache_restore", "-o", good.toString());
        assertThat(noIn.rc()).isEqualTo(1);
        assertThat(noIn.err()).startsWith("No input file provided.\n\nUsage: cache_restore");
        ToolRun noOut = ToolRun.ours("cache_restore", "-i", in);
        assertThat(noOut.rc()).isEqualTo(1);
        assertThat(noOut.err()).startsWith("No output file provided.\n\nUsage: cache_restore");
        assertThat(ToolRun.ours("cache_restore", "-i", dir.resolve("missing.xml").toString(), "-o",
                good.toString()).rc()).isEqualTo(1);
        for (String v : List.of("0", "3", "5")) {
            ToolRun bad = ToolRun.ours("cache_restore", "--metadata-version", v, "-i", in, "-o", good.toString());
            assertThat(bad.rc()).isEqualTo(1);
            assertThat(bad.err()).isEqualTo("Bad metadata version\n\n");
        }
        assertThat(ToolRun.ours("cache_restore", "--metadata-version", "abc", "-i", in, "-o", good.toString()).rc())
                .isEqualTo(1);
        assertThat(ToolRun.ours("cache_restore", "-i", in, "-o", good.toString(), "stray").rc()).isEqualTo(1);
        assertThat(Files.readAllBytes(good)).as("no failure above touches the output").isEqualTo(before);

        String explain = "\nThe output file should either be a block device,\n";
        ToolRun missing = ToolRun.ours("cache_restore", "-i", in, "-o", dir.resolve("none.img").toString());
        assertThat(missing.err()).startsWith("Output file does not exist.\n" + explain);
        ToolRun empty = ToolRun.ours("cache_restore", "-i", in, "-o", zeroFile(dir, "e.img", 0).toString());
        assertThat(empty.err()).startsWith("Zero size output file.\n" + explain);
        ToolRun small = ToolRun.ours("cache_restore", "-i", in, "-o", zeroFile(dir, "s.img", 4096).toString());
        assertThat(small.err()).startsWith("Output file too small.\n" + explain);
        assertThat(missing.rc() + empty.rc() + small.rc()).isEqualTo(3);
    }

    @Test
    void case14QuietAndOmitCleanShutdown(@TempDir Path dir) throws Exception {
        Path img = zeroFile(dir, "q.img", 8 << 20);
        for (String q : List.of("-q", "--quiet")) {
            ToolRun r = ToolRun.ours("cache_restore", q, "-i", xmlIn("small.xml").toString(), "-o", img.toString());
            assertThat(r.rc()).isZero();
            assertThat(r.out() + r.err()).isEmpty();
            assertThat(Files.readAllBytes(img)[4] & 1).isEqualTo(1);
        }
        assertThat(ToolRun.ours("cache_restore", "--omit-clean-shutdown", "-i", xmlIn("small.xml").toString(), "-o",
                img.toString()).rc()).isZero();
        assertThat(Files.readAllBytes(img)[4] & 1).isZero();
        assertThat(ToolRun.ours("cache_check", img.toString()).rc()).isZero();
        assertThat(ToolRun.ours("cache_restore", "--debug-override-metadata-version", "12345", "-i",
                xmlIn("small.xml").toString(), "-o", img.toString()).rc()).isZero();
        assertThat(ToolRun.ours("cache_check", img.toString()).err()).contains("version incorrect: 12345");
    }

    // ------------------------------------------------------------------ 13, 22, 23

    @Test
    void case13And23BadXmlIsRefusedAndTheOutputSuperblockZeroed(@TempDir Path dir) throws Exception {
        Path bad = Vectors.dir().resolve("bad-xml");
        // accepted by both: harmless variations; accepted by jdmcache only: discards (the reference cannot)
        Set<String> accepted = Set.of("discard-empty-range.xml", "unknown-attribute.xml", "discard-range.xml");
        List<String> lines = Files.readAllLines(bad.resolve("EXPECTED.tsv"));
        int refused = 0;
        for (String line : lines.subList(1, lines.size())) {
            String file = line.split("\t")[0];
            Path img = vector(dir, "small-v1");
            ToolRun r = ToolRun.ours("cache_restore", "-i", bad.resolve(file).toString(), "-o", img.toString());
            if (accepted.contains(file)) {
                assertThat(r.rc()).as(file + ": " + r.err()).isZero();
                assertThat(ToolRun.ours("cache_check", img.toString()).rc()).as(file).isZero();
                continue;
            }
            refused++;
            assertThat(r.rc()).as(file).isEqualTo(1);
            assertThat(r.err()).as(file).startsWith(bad.resolve(file).toString()).doesNotContain("Exception")
                    .doesNotContain("\tat ");
            assertThat(r.err().lines().count()).as(file + ": one line").isEqualTo(1);
            assertThat(firstBlock(img)).as(file).isEqualTo(new byte[4096]);
        }
        // everything the reference refuses, plus what it silently changes (case 23) and its crash (case 22)
        assertThat(refused).isEqualTo(lines.size() - 1 - accepted.size());
    }

    @Test
    void case13MessagesNameTheProblem(@TempDir Path dir) throws Exception {
        Path bad = Vectors.dir().resolve("bad-xml");
        Path img = zeroFile(dir, "m.img", 1 << 20);
        String[][] cases = {
                {"mapping-dup-cblock.xml", "mapped twice"},
                {"mapping-dup-oblock.xml", "is mapped by two cache blocks"},
                {"mapping-negative-number.xml", "is not a decimal number"},
                {"mapping-origin-2pow48.xml", "origin_block"},
                {"mapping-hex-number.xml", "is not a decimal number"},
                {"mapping-missing-origin.xml", "missing attribute origin_block"},
                {"mapping-bad-bool.xml", "is not true or false"},
                {"hint-width-0.xml", "invalid hint width 0"},
                {"hint-width-8.xml", "invalid hint width 8"},
                {"hint-too-short.xml", "the hint width is 4"},
                {"hint-bad-base64.xml", "invalid base64"},
                {"mapping-cblock-eq-nr.xml", "outside the cache"},
                {"unknown-element.xml", "unknown element"},
                {"nested-superblock.xml", "<superblock> inside <superblock>"},
                {"no-superblock.xml", "must start with <superblock>"},
                {"two-superblocks.xml", "XML syntax error"},
                {"empty-file.xml", "XML syntax error"},
                {"long-policy-name.xml", "policy name"},
        };
        for (String[] c : cases) {
            ToolRun r = ToolRun.ours("cache_restore", "-i", bad.resolve(c[0]).toString(), "-o", img.toString());
            assertThat(r.rc()).as(c[0]).isEqualTo(1);
            assertThat(r.err()).as(c[0]).contains(c[1]);
        }
    }

    @Test
    void case22NoCrashOnTheReferencesCrashInputs(@TempDir Path dir) throws Exception {
        ToolRun size0 = ToolRun.ours("cache_metadata_size", "--device-size", "100", "--block-size", "0");
        assertThat(size0.rc()).isEqualTo(1);
        assertThat(size0.err()).contains("Invalid block size");
        ToolRun unwritable = ToolRun.ours("cache_dump", "-o", dir.resolve("no/such/dir/x.xml").toString(),
                vector(dir, "small-v1").toString());
        assertThat(unwritable.rc()).isEqualTo(1);
        assertThat(unwritable.err()).contains("x.xml").contains("cannot create the output file");
        // a failed dump to a file leaves no half document, and an old file there stays as it was
        Path out = dir.resolve("keep.xml");
        Files.writeString(out, "old");
        assertThat(ToolRun.ours("cache_dump", "-o", out.toString(), vector(dir, "bad-mapping-ablock").toString()).rc())
                .isEqualTo(1);
        assertThat(Files.readString(out)).isEqualTo("old");
        try (var s = Files.list(dir)) {
            assertThat(s.filter(p -> p.getFileName().toString().endsWith(".tmp")).count()).isZero();
        }
    }

    @Test
    void case23AttributeValuesAreEscapedAndRoundTrip(@TempDir Path dir) throws Exception {
        Path xml = dir.resolve("amp.xml");
        Files.writeString(xml, "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"4\" policy=\"a&amp;&lt;b\""
                + " hint_width=\"4\">\n  <mapping cache_block=\"1\" origin_block=\"5\" dirty=\"true\"/>\n"
                + "</superblock>\n");
        Path img = zeroFile(dir, "a.img", 1 << 20);
        assertThat(ToolRun.ours("cache_restore", "-i", xml.toString(), "-o", img.toString()).rc()).isZero();
        String dumped = ToolRun.ours("cache_dump", img.toString()).out();
        assertThat(dumped).startsWith("<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"4\" "
                + "policy=\"a&amp;&lt;b\" hint_width=\"4\">\n");
        Path again = dir.resolve("again.xml");
        Files.writeString(again, dumped);
        assertThat(ToolRun.ours("cache_restore", "-i", again.toString(), "-o", img.toString()).rc()).isZero();
        assertThat(ToolRun.ours("cache_dump", img.toString()).out()).isEqualTo(dumped);
    }

    // ------------------------------------------------------------------ 15, 19

    @Test
    void case15RepairErrorsAndDamagedInputs(@TempDir Path dir) throws Exception {
        Path out = zeroFile(dir, "out.img", 8 << 20);
        ToolRun noIn = ToolRun.ours("cache_repair", "-o", out.toString());
        assertThat(noIn.rc()).isEqualTo(1);
        assertThat(noIn.err()).startsWith("no input file provided\nUsage: cache_repair");
        ToolRun noOut = ToolRun.ours("cache_repair", "-i", out.toString());
        assertThat(noOut.rc()).isEqualTo(1);
        assertThat(noOut.err()).startsWith("No output file provided.\nUsage: cache_repair");

        Path good = vector(dir, "small-v1");
        Path target = vector(dir, "nomap-v1");
        byte[] before = Files.readAllBytes(target);
        assertThat(ToolRun.ours("cache_repair", "-i", dir.resolve("missing").toString(), "-o", target.toString())
                .rc()).isEqualTo(1);
        assertThat(Files.readAllBytes(target)).as("missing input: output untouched").isEqualTo(before);

        Path zeroed = zeroFile(dir, "zeroed.img", 8 << 20);
        ToolRun z = ToolRun.ours("cache_repair", "-i", zeroed.toString(), "-o", target.toString());
        assertThat(z.rc()).isEqualTo(1);
        assertThat(z.err()).contains("bad checksum in superblock");
        assertThat(firstBlock(target)).isEqualTo(new byte[4096]);

        good.toFile().setReadOnly();
        ToolRun ok = ToolRun.ours("cache_repair", "-i", good.toString(), "-o", out.toString(), "");
        assertThat(ok.rc()).as(ok.err()).isZero();
        assertThat(ToolRun.ours("cache_check", out.toString()).rc()).isZero();
        assertThat(ToolRun.reference("cache_check", out.toString()).rc()).isZero();
        assertThat(ToolRun.ours("cache_dump", out.toString()).out())
                .isEqualTo(text(Vectors.dir().resolve("small-v1.dump.xml")));

        for (String name : List.of("bad-mapping-node", "bad-mapping-ablock", "bad-hint-ablock", "bad-cache-blocks",
                "truncated-9blocks")) {
            Path o = zeroFile(dir, name + ".out", 8 << 20);
            ToolRun r = ToolRun.ours("cache_repair", "-i", vector(dir, name).toString(), "-o", o.toString());
            assertThat(r.rc()).as(name + ": " + r.err()).isZero();
            assertThat(ToolRun.ours("cache_check", o.toString()).rc()).as(name).isZero();
            assertThat(ToolRun.reference("cache_check", o.toString()).rc()).as(name).isZero();
            Set<String> ours = Set.copyOf(ToolRun.ours("cache_dump", o.toString()).out().lines()
                    .collect(Collectors.toList()));
            List<String> theirs = text(Vectors.dir().resolve(name + ".repair-dump.xml")).lines()
                    .filter(l -> l.contains("<mapping ")).collect(Collectors.toList());
            assertThat(ours).as(name).containsAll(theirs);
        }
    }

    @Test
    void case19RepairKeepsFormat2AndItsDirtyBits(@TempDir Path dir) throws Exception {
        Path out = zeroFile(dir, "out.img", 8 << 20);
        ToolRun r = ToolRun.ours("cache_repair", "-i", vector(dir, "small-v2").toString(), "-o", out.toString());
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(Files.readAllBytes(out)[40]).as("format 2 kept").isEqualTo((byte) 2);
        assertThat(ToolRun.ours("cache_dump", out.toString()).out()).isEqualTo(text(xmlIn("small.xml")));
        // an unclean input stays unclean (so every block is still written back)
        Path out2 = zeroFile(dir, "out2.img", 8 << 20);
        assertThat(ToolRun.ours("cache_repair", "-i", vector(dir, "small-v1-unclean").toString(), "-o",
                out2.toString()).rc()).isZero();
        assertThat(Files.readAllBytes(out2)[4] & 1).isZero();
    }

    // ------------------------------------------------------------------ 16

    @Test
    void case16MetadataSizeAsTheReference() throws Exception {
        String[][] ok = {{"--nr-blocks", "1024"}, {"--device-size", "65536", "--block-size", "64"},
                {"--nr-blocks", "67108864"}, {"--device-size", "102400", "--block-size", "100", "--nr-blocks", "1024"},
                {"--nr-blocks=1024", "--max-hint-width", "8"}};
        for (String[] a : ok) {
            ToolRun ours = ToolRun.ours("cache_metadata_size", a);
            assertThat(ours.rc()).isZero();
            assertThat(ours.out()).as(String.join(" ", a)).isEqualTo(ToolRun.reference("cache_metadata_size", a).out());
        }
        String[][] bad = {{}, {"--device-size", "102400"}, {"--block-size", "100"},
                {"--device-size", "102400", "--block-size", "1000", "--nr-blocks", "6"}};
        for (String[] a : bad) {
            ToolRun ours = ToolRun.ours("cache_metadata_size", a);
            assertThat(ours.rc()).isEqualTo(1);
            assertThat(ours.err()).as(String.join(" ", a)).isEqualTo(ToolRun.reference("cache_metadata_size", a).err());
        }
        ToolRun nan = ToolRun.ours("cache_metadata_size", "--nr-blocks", "12k");
        assertThat(nan.rc()).isEqualTo(1);
        assertThat(nan.err()).contains("12k");
    }

    // ------------------------------------------------------------------ 17

    @Test
    void case17ABrokenPipeEndsTheDumpQuietlyWithAFailure(@TempDir Path dir) throws Exception {
        Path img = vector(dir, "mid-v1");
        OutputStream closedPipe = new OutputStream() {
            long written;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                written += len;
                if (written > 100_000) {
                    throw new IOException("Broken pipe");
                }
            }
        };
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = DumpTool.run(img, null, false, closedPipe, new PrintStream(err, true));
        assertThat(rc).isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();
    }
}
