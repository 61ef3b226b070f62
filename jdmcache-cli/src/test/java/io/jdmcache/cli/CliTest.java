package io.jdmcache.cli;

import io.jdmcache.pdata.testing.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The jdmcache command, run in-process: exit codes, where output goes, clear one-line errors. */
class CliTest {
    record Run(int rc, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Jdmcache.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void checkPassesAGoodImageAndFailsABadOneQuietly(@TempDir Path dir) throws Exception {
        Path good = dir.resolve("good.img");
        Files.write(good, Vectors.image("small-v1"));
        Run r = run("check", good.toString());
        assertThat(r.rc()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("examining superblock\n").contains("examining space map");

        Path bad = dir.resolve("bad.img");
        Files.write(bad, Vectors.image("bad-sb-csum"));
        Run b = run("check", bad.toString());
        assertThat(b.rc()).isEqualTo(1);
        assertThat(b.err()).contains("bad checksum in superblock");
        Run q = run("check", "-q", bad.toString());
        assertThat(q.rc()).isEqualTo(1);
        assertThat(q.out() + q.err()).isEmpty();
    }

    @Test
    void unusablePathsGetTheReferenceMessages(@TempDir Path dir) throws Exception {
        assertThat(run("check", dir.resolve("nope").toString()).err())
                .isEqualTo(dir.resolve("nope") + ": No such file or directory\n");
        assertThat(run("check", dir.toString()).err()).isEqualTo(dir + ": Not a block device or regular file\n");
        assertThat(run("check", "/dev/null").err()).isEqualTo("/dev/null: Not a block device or regular file\n");
        Path small = dir.resolve("small");
        Files.write(small, new byte[4095]);
        Run r = run("check", small.toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.err()).isEqualTo("Metadata device/file too small.  Is this binary metadata?\n");
    }

    @Test
    void clearNeedsCheckFlagClearsOnlyThatBit(@TempDir Path dir) throws Exception {
        Path img = dir.resolve("nc.img");
        Files.write(img, Vectors.image("needs-check"));
        assertThat(Files.readAllBytes(img)[4]).isEqualTo((byte) 3);
        assertThat(run("check", "--clear-needs-check-flag", img.toString()).rc()).isZero();
        assertThat(Files.readAllBytes(img)[4]).isEqualTo((byte) 1);
        assertThat(run("check", img.toString()).rc()).isZero();
        // healthy metadata without the flag stays byte-identical
        byte[] before = Files.readAllBytes(img);
        assertThat(run("check", "--clear-needs-check-flag", img.toString()).rc()).isZero();
        assertThat(Files.readAllBytes(img)).isEqualTo(before);
    }

    @Test
    void metadataSizeMatchesTheReferenceFormulaAndRefusesBadInput() {
        assertThat(run("metadata-size", "--nr-blocks", "1024").out()).isEqualTo("8248 sectors\n");
        assertThat(run("metadata-size", "--device-size", "65536", "--block-size", "64").out()).isEqualTo("8248 sectors\n");
        assertThat(run("metadata-size", "--nr-blocks", "67108864").out()).isEqualTo("3678208 sectors\n");
        assertThat(run("metadata-size", "--nr-blocks", "1000000").out()).isEqualTo("62879 sectors\n");
        Run zero = run("metadata-size", "--device-size", "100", "--block-size", "0");
        assertThat(zero.rc()).isEqualTo(1);
        assertThat(zero.err()).contains("Invalid block size");
        assertThat(run("metadata-size").err())
                .isEqualTo("Please specify either --device-size and --block-size, or --nr-blocks.\n");
        Run nan = run("metadata-size", "--nr-blocks", "12k");
        assertThat(nan.rc()).isEqualTo(1);
        assertThat(nan.err()).contains("12k");
    }

    /** Metadata that never recorded a policy (the kernel's, or ours, before a clean shutdown) has an empty name. */
    @Test
    void aDumpWithNoPolicyNameRestoresAndDumpsTheSame(@TempDir Path dir) throws Exception {
        Path img = dir.resolve("a.img");
        Files.write(img, Vectors.image("small-v1"));
        String xml = run("dump", img.toString()).out().replace("policy=\"smq\"", "policy=\"\"");
        assertThat(xml).contains("policy=\"\"");
        Path x = Files.writeString(dir.resolve("a.xml"), xml);
        Path out = Files.write(dir.resolve("b.img"), new byte[5 << 20]);
        Run r = run("restore", "-q", "-i", x.toString(), "-o", out.toString());
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(run("dump", out.toString()).out()).isEqualTo(xml);
        assertThat(run("check", out.toString()).rc()).isZero();
    }

    @Test
    void unknownCommandsAndOptionsFailWithOneLineAndRc1() {
        Run r = run("frobnicate");
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.err()).contains("frobnicate");
        Run o = run("check", "--bogus", "x");
        assertThat(o.rc()).isEqualTo(1);
        assertThat(o.err()).contains("--bogus").doesNotContain("Exception");
        assertThat(run("--version").out()).startsWith("jdmcache ");
    }
}
