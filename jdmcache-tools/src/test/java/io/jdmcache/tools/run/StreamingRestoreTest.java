package io.jdmcache.tools.run;

import io.jdmcache.tools.check.CheckOptions;
import io.jdmcache.tools.xml.XmlRestoreReader;
import io.jdmcache.pdata.io.FileBlockDevice;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Restore streams input in cache block order into the image as it comes; whatever the order, the image it
 * writes must hold exactly what the in-memory path writes (compared through dump, since the block layout
 * differs), and must check clean.
 */
class StreamingRestoreTest {
    private record Doc(String xml, int cacheBlocks) {
    }

    /** A random document: mappings, dirty bits, hints, discards; {@code shuffled} puts lines out of order. */
    private static Doc doc(long seed, int n, boolean shuffled, boolean duplicateOrigin) {
        Random r = new Random(seed);
        StringBuilder b = new StringBuilder();
        long discardBlocks = 1 + r.nextInt(3 * n + 1);
        b.append("<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"").append(n)
                .append("\" policy=\"smq\" hint_width=\"4\" discard_block_size=\"256\" discard_nr_blocks=\"")
                .append(discardBlocks).append("\">\n");
        List<String> maps = new ArrayList<>();
        List<Long> used = new ArrayList<>();
        long origin = r.nextInt(5);
        for (int c = 0; c < n; c++) {
            if (r.nextInt(4) == 0) {
                continue;
            }
            origin += 1 + (r.nextBoolean() ? 0 : r.nextInt(1_000_000));
            used.add(origin);
            maps.add("    <mapping cache_block=\"" + c + "\" origin_block=\"" + origin + "\" dirty=\""
                    + r.nextBoolean() + "\"/>\n");
        }
        if (duplicateOrigin && maps.size() >= 2) {
            String last = maps.get(maps.size() - 1);
            maps.set(maps.size() - 1, last.replaceFirst("origin_block=\"\\d+\"",
                    "origin_block=\"" + used.get(r.nextInt(used.size() - 1)) + "\""));
        }
        List<String> hints = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            if (r.nextInt(3) != 0) {
                byte[] h = new byte[4];
                r.nextBytes(h);
                hints.add("    <hint cache_block=\"" + c + "\" data=\"" + Base64.getEncoder().encodeToString(h)
                        + "\"/>\n");
            }
        }
        if (shuffled) {
            Collections.shuffle(maps, r);
            Collections.shuffle(hints, r);
        }
        b.append("  <mappings>\n");
        maps.forEach(b::append);
        b.append("  </mappings>\n  <hints>\n");
        hints.forEach(b::append);
        b.append("  </hints>\n  <discards>\n");
        long d = 0;
        while (d < discardBlocks) {
            long begin = d + r.nextInt(200);
            long end = Math.min(discardBlocks, begin + 1 + r.nextInt(150));
            if (begin >= discardBlocks) {
                break;
            }
            b.append("    <discard dbegin=\"").append(begin).append("\" dend=\"").append(end).append("\"/>\n");
            d = end + 1;
        }
        b.append("  </discards>\n</superblock>\n");
        return new Doc(b.toString(), n);
    }

    private static Path image(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(4L << 20);
        }
        return p;
    }

    private static String dump(Path img) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = DumpTool.run(img, null, false, out, new PrintStream(err));
        assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    @Property(tries = 40)
    void theStreamedImageHoldsWhatTheInMemoryOneDoes(@ForAll @LongRange(min = 0, max = 1 << 20) long seed,
                                                     @ForAll @IntRange(min = 0, max = 3000) int n,
                                                     @ForAll @IntRange(min = 1, max = 2) int version,
                                                     @ForAll boolean shuffled) throws IOException {
        Path dir = Files.createTempDirectory("streaming-restore");
        try {
            Doc doc = doc(seed, n, shuffled, false);
            Path xml = dir.resolve("in.xml");
            Files.writeString(xml, doc.xml());
            Path streamed = image(dir, "streamed.img");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = RestoreTool.run(xml, streamed, version, false, true, new PrintStream(err));
            assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
            Path memory = image(dir, "memory.img");
            try (FileBlockDevice dev = FileBlockDevice.open(memory, false)) {
                XmlRestoreReader.read(new ByteArrayInputStream(doc.xml().getBytes(StandardCharsets.UTF_8)), version)
                        .write(dev, true);
            }
            assertThat(dump(streamed)).isEqualTo(dump(memory));
            ByteArrayOutputStream report = new ByteArrayOutputStream();
            assertThat(CheckTool.run(streamed, new CheckOptions(false, false, false, false, false), false,
                    new PrintStream(report))).as(report.toString(StandardCharsets.UTF_8)).isZero();
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Property(tries = 20)
    void anOriginBlockMappedTwiceIsRefusedInEitherOrder(@ForAll @LongRange(min = 0, max = 1 << 20) long seed,
                                                        @ForAll boolean shuffled) throws IOException {
        Path dir = Files.createTempDirectory("streaming-restore");
        try {
            Doc doc = doc(seed, 400, shuffled, true);
            Path xml = dir.resolve("in.xml");
            Files.writeString(xml, doc.xml());
            Path out = image(dir, "out.img");
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int rc = RestoreTool.run(xml, out, 2, false, true, new PrintStream(err));
            assertThat(rc).isEqualTo(1);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("is mapped by two cache blocks");
            byte[] sb = new byte[4096];
            try (FileBlockDevice dev = FileBlockDevice.open(out, true)) {
                dev.read(0, java.nio.ByteBuffer.wrap(sb));
            }
            assertThat(sb).as("a failed restore leaves no superblock").containsOnly(0);
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
