package io.jdmcache.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.metadata.testing.BlockKinds;
import io.jdmcache.pdata.testing.Vectors;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Damaged metadata through the tools, in-process: each try takes a good image (format 1 or 2) and damages it
 * one way (bytes flipped; bytes changed under a checksum made valid again, so only the structure checks can
 * notice; a block zeroed; a block copied over another; the file cut short), then runs check, dump, dump
 * --repair and repair on it. Whatever the damage:
 * <ul>
 *   <li>no command reports an internal error or an exception;</li>
 *   <li>an image that check passes dumps, and its dump restores to an image that dumps the same (but for the
 *       uuid, which restore leaves empty as cache_restore does);</li>
 *   <li>what repair writes passes check, and what dump --repair salvages restores to an image that passes
 *       check.</li>
 * </ul>
 */
class CorruptImageFuzzTest {
    static final int BLOCK = 4096;

    @TempDir
    Path dir;

    record Run(int rc, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Jdmcache.run(args, new PrintStream(out, true), new PrintStream(err, true));
        Run r = new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        assertThat(r.out() + r.err()).as("%s", String.join(" ", args)).doesNotContain("internal error")
                .doesNotContain("Exception").doesNotContain("\tat ");
        return r;
    }

    /** Damages a copy of {@code image}; returns the damaged bytes and says what was done in {@code what}. */
    static byte[] damage(byte[] image, List<Integer> used, Random r, StringBuilder what) {
        byte[] d = image.clone();
        int blk = r.nextInt(3) == 0 ? r.nextInt(image.length / BLOCK) : used.get(r.nextInt(used.size()));
        int at = blk * BLOCK;
        switch (r.nextInt(5)) {
            case 0 -> {
                int n = 1 + r.nextInt(8);
                for (int i = 0; i < n; i++) {
                    d[at + r.nextInt(BLOCK)] ^= (byte) (1 << r.nextInt(8));
                }
                what.append(n).append(" bits flipped in block ").append(blk);
            }
            case 1 -> {
                int salt = BlockKinds.saltOf(image, blk);
                int n = 1 + r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    int off = 4 + (r.nextBoolean() ? r.nextInt(64) : r.nextInt(BLOCK - 4));
                    d[at + off] = (byte) (r.nextBoolean() ? r.nextInt(256) : r.nextBoolean() ? 0 : 0xff);
                }
                if (salt != 0) {
                    BlockKinds.restamp(d, blk, salt);
                }
                what.append(n).append(" bytes changed in block ").append(blk).append(salt != 0 ? ", checksum redone" : "");
            }
            case 2 -> {
                Arrays.fill(d, at, at + BLOCK, (byte) 0);
                what.append("block ").append(blk).append(" zeroed");
            }
            case 3 -> {
                int from = used.get(r.nextInt(used.size()));
                System.arraycopy(image, from * BLOCK, d, at, BLOCK);
                what.append("block ").append(from).append(" copied over block ").append(blk);
            }
            default -> {
                int len = r.nextBoolean() ? r.nextInt(used.get(used.size() - 1) + 1) * BLOCK
                        : r.nextInt(image.length);
                what.append("cut to ").append(len).append(" bytes");
                return Arrays.copyOf(d, len);
            }
        }
        return d;
    }

    /** Restores {@code text} (written to {@code xml}) into a fresh {@code out}; the restore must succeed. */
    static void restoreInto(Path out, Path xml, String text, String version, String what) throws IOException {
        Files.writeString(xml, text);
        Files.write(out, new byte[5 << 20]);
        Run restore = run("restore", "-q", "--metadata-version", version, "-i", xml.toString(), "-o",
                out.toString());
        assertThat(restore.rc()).as("restore of %s: %s", what, restore.err()).isZero();
    }

    @Test
    void damagedImagesNeverBreakTheToolsAndRepairsAlwaysCheck() throws IOException {
        Map<String, byte[]> images = new HashMap<>();
        Map<String, List<Integer>> usedBlocks = new HashMap<>();
        for (String name : new String[] {"small-v1", "small-v2", "nomap-v2"}) {
            byte[] img = Vectors.image(name);
            List<Integer> used = BlockKinds.used(img);
            assertThat(used).as(name + " has blocks in use").contains(0);
            images.put(name, img);
            usedBlocks.put(name, used);
        }
        String[] names = images.keySet().stream().sorted().toArray(String[]::new);
        // -Djdmcache.fuzz.seed and -Djdmcache.fuzz.tries for longer hunts
        long seed = Long.getLong("jdmcache.fuzz.seed", 20261202L);
        int tries = Integer.getInteger("jdmcache.fuzz.tries", 120);
        Random r = new Random(seed);
        Path img = dir.resolve("img");
        Path out = dir.resolve("out");
        Path xml = dir.resolve("x.xml");
        int[] outcomes = new int[4];
        for (int i = 0; i < tries; i++) {
            String name = names[r.nextInt(names.length)];
            StringBuilder what = new StringBuilder(name).append(": ");
            Files.write(img, damage(images.get(name), usedBlocks.get(name), r, what));
            String ctx = what.toString();
            String version = name.endsWith("v2") ? "2" : "1";

            Run check = run("check", img.toString());
            Run dump = run("dump", img.toString());
            if (check.rc() == 0) {
                outcomes[0]++;
                assertThat(dump.rc()).as("dump of an image check passes (%s): %s", ctx, dump.err()).isZero();
            }
            if (dump.rc() == 0) {
                outcomes[1]++;
                restoreInto(out, xml, dump.out(), version, "the dump (" + ctx + ")");
                // restore leaves the uuid empty, as cache_restore does (the kernel never sets one)
                assertThat(run("dump", out.toString()).out()).as("dump, restore, dump (%s)", ctx)
                        .isEqualTo(dump.out().replaceFirst("uuid=\"[^\"]*\"", "uuid=\"\""));
            }
            Run salvage = run("dump", "--repair", img.toString());
            if (salvage.rc() == 0) {
                outcomes[2]++;
                restoreInto(out, xml, salvage.out(), version, "dump --repair (" + ctx + ")");
                Run again = run("check", out.toString());
                assertThat(again.rc()).as("check of restored salvage (%s): %s", ctx, again.err()).isZero();
            }
            Files.write(out, new byte[5 << 20]);
            Run repair = run("repair", "-q", "-i", img.toString(), "-o", out.toString());
            if (repair.rc() == 0) {
                outcomes[3]++;
                Run again = run("check", out.toString());
                assertThat(again.rc()).as("check of the repair (%s): %s", ctx, again.err()).isZero();
            }
        }
        System.out.printf("damaged images: %d, check passed %d, dump %d, dump --repair %d, repair %d (seed %d)%n",
                tries, outcomes[0], outcomes[1], outcomes[2], outcomes[3], seed);
        // the damage must hit both ways: some images stay usable, some do not
        assertThat(outcomes[0]).as("images check passed").isPositive().isLessThan(tries);
        assertThat(outcomes[3]).as("images repaired").isPositive();
    }

    static final String[] TOKENS = {"0", "1", "-1", "7", "64", "127", "1023", "1024", "4294967296",
        "99999999999999999999", "0x10", "1e3", "", " 5", "true", "false", "maybe", "smq", "AAAAAA==", "!!!!", "&amp;",
        "\u00e9"};
    static final String[] GARBAGE = {"<foo/>", "<mapping/>", "&", "<superblock>", "</mappings>", "<!-- c -->",
        "<?pi x?>", "<hint cache_block=\"0\" data=\"!!!!\"/>", "x", "<mapping cache_block=\"1\"/>",
        "<discard dbegin=\"5\" dend=\"2\"/>", "<![CDATA[x]]>"};

    /** Damages an XML dump line by line: a value, an attribute, a line duplicated, dropped, moved, cut, added. */
    static String damageXml(String xml, Random r, StringBuilder what) {
        List<String> lines = new ArrayList<>(List.of(xml.split("\n", -1)));
        int i = r.nextInt(lines.size() - 1);
        String line = lines.get(i);
        switch (r.nextInt(7)) {
            case 0 -> {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("=\"[^\"]*\"").matcher(line);
                List<int[]> spans = new ArrayList<>();
                while (m.find()) {
                    spans.add(new int[] {m.start(), m.end()});
                }
                if (spans.isEmpty()) {
                    return damageXml(xml, r, what);
                }
                int[] sp = spans.get(r.nextInt(spans.size()));
                String t = TOKENS[r.nextInt(TOKENS.length)];
                lines.set(i, line.substring(0, sp[0]) + "=\"" + t + "\"" + line.substring(sp[1]));
                what.append("value set to '").append(t).append("' on line ").append(i + 1);
            }
            case 1 -> {
                String cut = line.replaceFirst(" [a-z_]+=\"[^\"]*\"", "");
                if (cut.equals(line)) {
                    return damageXml(xml, r, what);
                }
                lines.set(i, cut);
                what.append("an attribute dropped on line ").append(i + 1);
            }
            case 2 -> {
                lines.add(i, line);
                what.append("line ").append(i + 1).append(" twice");
            }
            case 3 -> {
                lines.remove(i);
                what.append("line ").append(i + 1).append(" dropped");
            }
            case 4 -> {
                int j = r.nextInt(lines.size() - 1);
                lines.set(i, lines.get(j));
                lines.set(j, line);
                what.append("lines ").append(i + 1).append(" and ").append(j + 1).append(" swapped");
            }
            case 5 -> {
                String all = String.join("\n", lines);
                int at = r.nextInt(all.length());
                what.append("cut after ").append(at).append(" characters");
                return all.substring(0, at);
            }
            default -> {
                String g = GARBAGE[r.nextInt(GARBAGE.length)];
                lines.add(i, g);
                what.append("'").append(g).append("' added at line ").append(i + 1);
            }
        }
        return String.join("\n", lines);
    }

    @Test
    void damagedXmlIsRestoredHealthyOrRefusedInOneLine() throws IOException {
        Map<String, String> dumps = new HashMap<>();
        for (String name : new String[] {"small-v1", "small-v2"}) {
            Path img = Files.write(dir.resolve(name + ".img"), Vectors.image(name));
            Run d = run("dump", img.toString());
            assertThat(d.rc()).isZero();
            dumps.put(name, d.out());
        }
        long seed = Long.getLong("jdmcache.fuzz.seed", 20261202L);
        int tries = Integer.getInteger("jdmcache.fuzz.tries", 120);
        Random r = new Random(seed);
        Path xml = dir.resolve("in.xml");
        Path out = dir.resolve("out.img");
        int restored = 0;
        for (int i = 0; i < tries; i++) {
            String name = r.nextBoolean() ? "small-v1" : "small-v2";
            StringBuilder what = new StringBuilder(name).append(": ");
            Files.writeString(xml, damageXml(dumps.get(name), r, what));
            byte[] before = new byte[5 << 20];
            Arrays.fill(before, 0, BLOCK, (byte) 0x5a); // a stale superblock that a failed restore must wipe
            Files.write(out, before);
            Run restore = run("restore", "-q", "--metadata-version", name.endsWith("v2") ? "2" : "1", "-i",
                    xml.toString(), "-o", out.toString());
            String ctx = what.toString();
            if (restore.rc() == 0) {
                restored++;
                Run check = run("check", out.toString());
                assertThat(check.rc()).as("check of what restore wrote (%s): %s", ctx, check.err()).isZero();
                assertThat(run("dump", out.toString()).rc()).as("dump of what restore wrote (%s)", ctx).isZero();
            } else {
                assertThat(restore.err().strip()).as("restore's error (%s)", ctx).isNotEmpty()
                        .doesNotContain("\n").startsWith(xml.toString());
                byte[] sb = Arrays.copyOf(Files.readAllBytes(out), BLOCK);
                assertThat(sb).as("the output's superblock after a failed restore (%s)", ctx)
                        .isEqualTo(new byte[BLOCK]);
            }
        }
        System.out.printf("damaged XML: %d, restored %d (seed %d)%n", tries, restored, seed);
        assertThat(restored).as("some damage is harmless").isPositive().isLessThan(tries);
    }
}
