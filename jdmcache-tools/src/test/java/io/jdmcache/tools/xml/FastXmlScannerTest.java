package io.jdmcache.tools.xml;

import io.jdmcache.metadata.RestoreTarget;
import io.jdmcache.metadata.StreamingMetadataBuilder;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Restore's fast scanner must fill the target exactly as the StAX path does for every document it accepts
 * (compared as the images both write, byte for byte), and must decline every form outside its subset, so
 * that the general path, with its messages, decides those.
 */
class FastXmlScannerTest {
    private static final long DEVICE = 4L << 20;

    /** The image the fast path writes, or null when it declines. */
    private static byte[] fast(String xml, int version, int buffer) throws IOException {
        MemoryBlockDevice dev = new MemoryBlockDevice(DEVICE);
        StreamingMetadataBuilder t = XmlRestoreReader.readStreamingFast(in(xml), version,
                (v, bs, n, p) -> new StreamingMetadataBuilder(dev, v, bs, n, p), buffer);
        if (t == null) {
            return null;
        }
        t.finish(true);
        return bytes(dev);
    }

    /** The image the general (StAX) path writes; its exception when it refuses the input. */
    private static byte[] general(String xml, int version) throws IOException {
        MemoryBlockDevice dev = new MemoryBlockDevice(DEVICE);
        XmlRestoreReader.readStreaming(in(xml), version,
                (v, bs, n, p) -> new StreamingMetadataBuilder(dev, v, bs, n, p)).finish(true);
        return bytes(dev);
    }

    private static ByteArrayInputStream in(String xml) {
        return new ByteArrayInputStream(xml.getBytes(StandardCharsets.ISO_8859_1));
    }

    private static byte[] bytes(MemoryBlockDevice dev) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) dev.size());
        dev.read(0, b);
        return b.array();
    }

    /** A random document in ascending order, in the plain form but with blanks, layout and order varied. */
    private static String doc(long seed, int n) {
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder();
        b.append(blanks(r));
        Map<String, String> sb = new LinkedHashMap<>();
        sb.put("uuid", r.nextBoolean() ? "" : "some-uuid 1");
        sb.put("block_size", String.valueOf(64 * (1 + r.nextInt(8))));
        sb.put("nr_cache_blocks", String.valueOf(n));
        sb.put("policy", r.nextBoolean() ? "smq" : "cleaner");
        sb.put("hint_width", "4");
        long discardBlocks = r.nextInt(4) == 0 ? -1 : 1 + r.nextInt(3 * n + 1);
        if (discardBlocks > 0) {
            sb.put("discard_block_size", "256");
            sb.put("discard_nr_blocks", String.valueOf(discardBlocks));
        }
        b.append("<superblock").append(attributes(r, sb)).append(">").append(blanks(r));
        boolean containers = r.nextInt(5) != 0;
        if (containers) {
            b.append("<mappings>").append(blanks(r));
        }
        long origin = r.nextInt(5);
        for (int c = 0; c < n; c++) {
            if (r.nextInt(4) == 0) {
                continue;
            }
            origin += 1 + (r.nextBoolean() ? 0 : r.nextInt(1_000_000));
            Map<String, String> a = new LinkedHashMap<>();
            a.put("cache_block", (r.nextInt(20) == 0 ? "00" : "") + c);
            a.put("origin_block", String.valueOf(origin));
            a.put("dirty", String.valueOf(r.nextBoolean()));
            b.append("<mapping").append(attributes(r, a)).append(blanks(r).isEmpty() ? "/>" : " />")
                    .append(blanks(r));
        }
        if (containers) {
            b.append("</mappings>").append(blanks(r)).append("<hints>").append(blanks(r));
        }
        for (int c = 0; c < n; c++) {
            if (r.nextInt(3) != 0) {
                byte[] h = new byte[4];
                r.nextBytes(h);
                Map<String, String> a = new LinkedHashMap<>();
                a.put("cache_block", String.valueOf(c));
                a.put("data", Base64.getEncoder().encodeToString(h));
                b.append("<hint").append(attributes(r, a)).append("/>").append(blanks(r));
            }
        }
        if (containers) {
            b.append("</hints>").append(blanks(r)).append("<discards>").append(blanks(r));
        }
        long d = 0;
        while (discardBlocks > 0 && d < discardBlocks) {
            long begin = d + r.nextInt(200);
            long end = Math.min(discardBlocks, begin + r.nextInt(150));
            if (begin >= discardBlocks) {
                break;
            }
            b.append("<discard dbegin=\"").append(begin).append("\" dend=\"").append(end).append("\"/>")
                    .append(blanks(r));
            d = end + 1;
        }
        if (containers) {
            b.append("</discards>").append(blanks(r));
        }
        b.append("</superblock>").append(blanks(r));
        return b.toString();
    }

    /** The attributes in a random order, each after a short random run of blanks (at least one). */
    private static String attributes(Random r, Map<String, String> a) {
        List<Map.Entry<String, String>> l = new ArrayList<>(a.entrySet());
        java.util.Collections.shuffle(l, r);
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : l) {
            String s = r.nextInt(10) == 0 ? "\n\t " : " ";
            b.append(s.isEmpty() ? " " : s).append(e.getKey()).append("=\"").append(e.getValue()).append('"');
        }
        return b.toString();
    }

    /** Mostly a dump's newline and indent; sometimes nothing, tabs, CRLF, or a run longer than a buffer. */
    private static String blanks(Random r) {
        return switch (r.nextInt(12)) {
            case 0 -> "";
            case 1 -> "\t";
            case 2 -> "\r\n  ";
            case 3 -> r.nextInt(50) == 0 ? " ".repeat(20_000) : "  \n\t ";
            default -> "\n    ";
        };
    }

    @Property(tries = 60)
    void whatTheFastPathAcceptsItWritesAsTheGeneralPathDoes(@ForAll @LongRange(min = 0, max = 1 << 20) long seed,
                                                          @ForAll @IntRange(min = 0, max = 3000) int n,
                                                          @ForAll @IntRange(min = 1, max = 2) int version,
                                                          @ForAll boolean smallBuffer) throws IOException {
        String xml = doc(seed, n);
        byte[] fast = fast(xml, version, smallBuffer ? 2 * FastXmlScanner.MAX_TAG : 1 << 20);
        assertThat(fast).as("the fast path takes the plain form").isNotNull();
        assertThat(fast).isEqualTo(general(xml, version));
    }

    private static final String BASE = "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"8\" policy=\"smq\""
            + " hint_width=\"4\">\n"
            + "  <mappings>\n"
            + "    <mapping cache_block=\"0\" origin_block=\"17\" dirty=\"true\"/>\n"
            + "    <mapping cache_block=\"3\" origin_block=\"40520\" dirty=\"false\"/>\n"
            + "  </mappings>\n"
            + "  <hints>\n"
            + "    <hint cache_block=\"0\" data=\"AQIDBA==\"/>\n"
            + "    <hint cache_block=\"3\" data=\"AAAAAA==\"/>\n"
            + "  </hints>\n"
            + "</superblock>\n";

    @Test
    void theBaseDocumentIsTaken() throws IOException {
        assertThat(fast(BASE, 2, 1 << 20)).isNotNull().isEqualTo(general(BASE, 2));
    }

    /** Forms XML allows (the general path takes them, with the same meaning) that the scanner leaves to it. */
    @Test
    void formsOutsideTheSubsetAreDeclinedAndTheGeneralPathTakesThem() throws IOException {
        byte[] base = general(BASE, 2);
        List<String> same = List.of(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + BASE,
                BASE.replace("  <mappings>\n", "  <mappings>\n<!-- a comment -->\n"),
                BASE.replace("cache_block=\"3\" origin_block", "cache_block='3' origin_block"),
                BASE.replace("origin_block=\"17\"", "origin_block = \"17\""),
                BASE.replace("dirty=\"true\"/>", "dirty=\"true\" note=\"x\"/>"),
                BASE.replace("hint_width=\"4\">", "hint_width=\"4\" version=\"2\">"),
                BASE.replace("cache_block=\"3\" origin", "cache_block=\" 3\" origin"),
                BASE.replace("origin_block=\"17\"", "origin_block=\"+17\""),
                BASE.replace("dirty=\"false\"/>", "dirty=\"false\"></mapping>"),
                BASE.replace("</mappings>", "</mappings >"),
                BASE.replace("  <hints>\n", "  text between\n  <hints>\n"),
                BASE.replace("\"AQIDBA==\"", "\"AQID&#66;A==\""),
                BASE.replace("\"AQIDBA==\"", "\"AQIDBB==\""), // the decoder ignores the padding's stray bits
                "\uFEFF" + BASE);
        for (String xml : same) {
            assertThat(fast(xml.replace("\uFEFF", "\u00EF\u00BB\u00BF"), 2, 1 << 20)).as(xml).isNull();
            assertThat(general(xml.replace("\uFEFF", "\u00EF\u00BB\u00BF"), 2)).as(xml).isEqualTo(base);
        }
    }

    /** Faulty input is always declined: the general path then names the fault as it always did. */
    @Test
    void faultyInputIsDeclined() throws IOException {
        List<String> bad = List.of(
                BASE.replace("origin_block=\"17\"", "origin_block=\"1234567890123456789\""),
                BASE.replace("origin_block=\"17\"", "origin_block=\"-1\""),
                BASE.replace("origin_block=\"17\"", "origin_block=\"281474976710656\""),
                BASE.replace("cache_block=\"3\" origin", "cache_block=\"8\" origin"),
                BASE.replace("cache_block=\"3\" origin", "cache_block=\"3\" cache_block=\"4\" origin"),
                BASE.replace(" dirty=\"false\"", ""),
                BASE.replace("dirty=\"false\"", "dirty=\"FALSE\""),
                BASE.replace("\"AQIDBA==\"", "\"AQIDBA\""),
                BASE.replace("\"AQIDBA==\"", "\"AQIDBAU=\""),
                BASE.replace("uuid=\"\"", "uuid=\"\u00e9\""),
                BASE.replace("block_size=\"128\"", "block_size=\"100\""),
                BASE.replace("hint_width=\"4\">", "hint_width=\"4\"/>"),
                BASE.replace("  <hints>\n", "  <hints>\n  <mappings>\n  </mappings>\n"),
                BASE.replace("  <hints>\n", "  <foo/>\n  <hints>\n"),
                BASE + "<superblock/>\n",
                BASE.substring(0, BASE.indexOf("origin_block=\"40520\"")),
                BASE.substring(0, BASE.length() - 2),
                "");
        for (String xml : bad) {
            assertThat(fast(xml, 2, 1 << 20)).as(xml).isNull();
            boolean accepted;
            try {
                general(xml, 2);
                accepted = true;
            } catch (XmlInputException e) {
                accepted = false;
            }
            assertThat(accepted).as("the general path refuses " + xml).isFalse();
        }
    }

    /** A fault found only at the end (an origin block mapped twice) has no line: both paths report it alike. */
    @Test
    void anOriginBlockMappedTwiceIsReportedAlike() {
        String xml = BASE.replace("origin_block=\"40520\"", "origin_block=\"17\"");
        assertThatThrownBy(() -> fast(xml, 2, 1 << 20)).isInstanceOf(XmlInputException.class)
                .hasMessage("origin block 17 is mapped by two cache blocks");
        assertThatThrownBy(() -> general(xml, 2)).isInstanceOf(XmlInputException.class)
                .hasMessage("origin block 17 is mapped by two cache blocks");
    }

    /** Input out of order is no reason to decline: it ends the fast path as it ends the general one. */
    @Test
    void inputOutOfOrderEndsTheFastPathAsTheGeneralOne() {
        String xml = BASE.replace("cache_block=\"3\" origin", "cache_block=\"5\" origin")
                .replace("cache_block=\"0\" origin", "cache_block=\"6\" origin");
        assertThatThrownBy(() -> fast(xml, 2, 1 << 20)).isInstanceOf(RestoreTarget.OutOfOrderException.class);
        assertThatThrownBy(() -> general(xml, 2)).isInstanceOf(RestoreTarget.OutOfOrderException.class);
    }
}
