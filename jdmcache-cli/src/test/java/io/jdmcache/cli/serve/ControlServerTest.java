package io.jdmcache.cli.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.cli.config.ServeConfig;
import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.EngineOptions;
import io.jdmcache.nbd.NbdServer;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control socket's answers, on an in-memory cache: status, the map, the metrics, errors. */
class ControlServerTest {
    static final int BLOCK = 64 << 10;

    final MemoryBlockDevice md = new MemoryBlockDevice("md", 4 << 20);
    final MemoryBlockDevice cache = new MemoryBlockDevice("cache", 1 << 20); // 16 blocks
    final MemoryBlockDevice origin = new MemoryBlockDevice("origin", 4 << 20); // 64 blocks

    CacheDevice open(String mode) throws IOException {
        return open(mode, "smq");
    }

    CacheDevice open(String mode, String policy) throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin 128 1 " + mode + " " + policy + " 0");
        return CacheDevice.open(c, md, cache, origin, EngineOptions.manual(() -> 0L));
    }

    static void writeBlocks(CacheDevice d, int... blocks) throws IOException {
        for (int b : blocks) {
            d.write((long) b * BLOCK, ByteBuffer.wrap(new byte[BLOCK]));
        }
        d.runBackgroundWork(100); // promotions queued by the writes (no worker threads here)
    }

    /** Blocks 8-11 and 20 cached clean (written, then cleaned), blocks 0-3 cached dirty. */
    CacheDevice populated() throws IOException {
        try (CacheDevice d = open("writeback")) {
            writeBlocks(d, 8, 9, 10, 11, 20);
        }
        try (CacheDevice d = open("writeback", "cleaner")) {
            d.runBackgroundWork(100);
            assertThat(d.residency()).isEqualTo(5);
            assertThat(d.dirtyBlocks()).isZero();
        }
        CacheDevice d = open("writeback");
        writeBlocks(d, 0, 1, 2, 3);
        assertThat(d.residency()).isEqualTo(9);
        assertThat(d.dirtyBlocks()).isEqualTo(4);
        return d;
    }

    /** The grid lines of a map, without their offsets and frame. */
    static List<String> grid(String map) {
        return map.lines().filter(l -> l.contains("|")).map(l -> l.substring(l.indexOf('|') + 1, l.lastIndexOf('|')))
                .toList();
    }

    @Test
    void theMapShowsWhereBlocksAreCachedAndDirty() throws IOException {
        try (CacheDevice d = populated()) {
            String perBlock = answer(d, "status --map 16 4");
            assertThat(perBlock).startsWith("origin 4 MiB in 64 cells of 64 KiB (1 blocks of 64 KiB); "
                    + "cache 9 of 16 blocks used, 4 dirty\n");
            assertThat(grid(perBlock)).containsExactly(
                    "DDDD    ####    ",
                    "    #           ",
                    "                ",
                    "                ");
            assertThat(perBlock.lines().filter(l -> l.contains("|")).map(l -> l.substring(0, l.indexOf('|'))))
                    .containsExactly("  0 B ", "1 MiB ", "2 MiB ", "3 MiB ");
            String coarse = answer(d, "status --map 8 2");
            assertThat(grid(coarse)).containsExactly("D #  .  ", "        ");
            assertThat(coarse).contains("16 cells of 256 KiB (4 blocks of 64 KiB)");
            assertThat(coarse).contains("'d' some dirty");
        }
    }

    @Test
    void glyphsByShareCachedAndDirty() {
        assertThat(CacheMap.glyph(0, 0, 4)).isEqualTo(' ');
        assertThat(CacheMap.glyph(1, 0, 4)).isEqualTo('.');
        assertThat(CacheMap.glyph(2, 0, 4)).isEqualTo(':');
        assertThat(CacheMap.glyph(3, 0, 4)).isEqualTo('o');
        assertThat(CacheMap.glyph(4, 0, 4)).isEqualTo('#');
        assertThat(CacheMap.glyph(3, 0, 5)).isEqualTo('o');
        assertThat(CacheMap.glyph(4, 0, 5)).isEqualTo('O');
        assertThat(CacheMap.glyph(1, 0, 1000)).isEqualTo('.');
        assertThat(CacheMap.glyph(999, 0, 1000)).isEqualTo('O');
        assertThat(CacheMap.glyph(4, 1, 4)).isEqualTo('d');
        assertThat(CacheMap.glyph(4, 2, 4)).isEqualTo('D');
        assertThat(CacheMap.glyph(1, 1, 4)).isEqualTo('D');
    }

    static final Pattern SAMPLE =
            Pattern.compile("jdmcache_([a-z_]+)\\{(?:(?:mode|command|state)=\"([a-z_]+)\",)?volume=\"default\"\\} "
                    + "(-?\\d+)(?:\\.0)?");

    /**
     * Parses the exposition: every sample must follow its HELP and TYPE lines and be a whole number. The
     * latency histogram's samples are left out (ServeMetricsTest and PrometheusScrapeTest read them).
     */
    static Map<String, Long> parse(String text) {
        Map<String, Long> samples = new LinkedHashMap<>();
        Set<String> typed = new HashSet<>();
        for (String line : text.lines().toList()) {
            if (line.startsWith("jdmcache_request_duration_seconds")
                    || line.startsWith("# TYPE jdmcache_request_duration_seconds histogram")) {
                samples.merge("request_duration_seconds", 1L, Long::sum);
                continue;
            }
            if (line.startsWith("# TYPE jdmcache_")) {
                String[] w = line.split(" ");
                assertThat(w).hasSize(4);
                assertThat(w[3]).isIn("counter", "gauge");
                if (w[3].equals("counter")) {
                    assertThat(w[2]).endsWith("_total");
                }
                typed.add(w[2].substring("jdmcache_".length()));
                continue;
            }
            if (line.startsWith("# HELP jdmcache_")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            assertThat(m.matches()).as("a sample line: %s", line).isTrue();
            assertThat(typed).as("TYPE before %s", line).contains(m.group(1));
            samples.put(m.group(1) + (m.group(2) == null ? "" : "." + m.group(2)), Long.parseLong(m.group(3)));
        }
        return samples;
    }

    @Test
    void metricsAgreeWithTheCache() throws IOException {
        try (CacheDevice d = populated()) {
            ByteBuffer b = ByteBuffer.allocate(4096);
            d.read(0, b);
            b.clear();
            d.read(40L * BLOCK, b);
            Map<String, Long> m = parse(answer(d, "metrics"));
            assertThat(m).containsEntry("cache_blocks", 16L).containsEntry("cache_blocks_used", 9L)
                    .containsEntry("dirty_blocks", 4L).containsEntry("block_size_bytes", (long) BLOCK)
                    .containsEntry("origin_size_bytes", 4L << 20).containsEntry("read_hits_total", 1L)
                    .containsEntry("read_misses_total", 1L)
                    .containsEntry("write_misses_total", 9L) // the stats persist across the clean restarts
                    .containsEntry("promotions_total", 4L).containsEntry("metadata_mode.rw", 1L)
                    .containsEntry("metadata_mode.ro", 0L).containsEntry("metadata_mode.fail", 0L)
                    .containsEntry("needs_check", 0L).containsEntry("nbd_connections", 0L)
                    .containsEntry("nbd_requests_total.read", 0L).containsEntry("nbd_requests_total.other", 0L)
                    .containsEntry("nbd_errors_total", 0L)
                    .containsEntry("migration_threshold_sectors", 2048L);
            String[] status = d.status().split(" ");
            assertThat(m.get("metadata_blocks_used") + "/" + m.get("metadata_blocks")).isEqualTo(status[1]);
            assertThat(m.get("metadata_commits_total")).isEqualTo(d.commits());
            assertThat(m.get("request_duration_seconds")).as("the latency histogram is there too").isGreaterThan(1);
        }
    }

    @Test
    void aFailedMigrationShowsInTheHumanStatusAndTheMetrics() throws IOException {
        io.jdmcache.pdata.testing.FaultyDevice faultyCache = new io.jdmcache.pdata.testing.FaultyDevice(cache);
        CacheConfig c = CacheConfig.parse("md cache origin 128 1 writeback smq 0");
        try (CacheDevice d = CacheDevice.open(c, md, faultyCache, origin, EngineOptions.manual(() -> 0L))) {
            assertThat(answer(d, "status --human")).contains("errors         0 failed migrations, "
                    + "0 failed periodic commits\n");
            assertThat(parse(answer(d, "metrics"))).containsEntry("migration_errors_total", 0L)
                    .containsEntry("background_commit_errors_total", 0L);
            faultyCache.failAt(io.jdmcache.pdata.testing.FaultyDevice.Kind.WRITE, 1, false);
            d.write(2L * BLOCK, ByteBuffer.wrap(new byte[BLOCK])); // its promotion fails; the write goes to the origin
            assertThat(answer(d, "status --human")).contains("errors         1 failed migrations, "
                    + "0 failed periodic commits (the last: injected I/O error (write at byte 0))\n");
            assertThat(parse(answer(d, "metrics"))).containsEntry("migration_errors_total", 1L);
        }
    }

    @Test
    void badRequestsAreOneLineErrors() throws IOException {
        try (CacheDevice d = open("writeback")) {
            assertThat(answer(d, "status --map 0")).isEqualTo("error: map columns '0': a number from 1 to 1024\n");
            assertThat(answer(d, "status --map 8 x")).isEqualTo("error: map rows 'x': a number from 1 to 1024\n");
            assertThat(answer(d, "frob")).startsWith("error: unknown request 'frob' (").contains("metrics")
                    .endsWith(")\n");
            assertThat(answer(d, "")).startsWith("error: empty request");
            assertThat(answer(d, "status")).isEqualTo("0 8192 cache " + d.status() + "\n");
            assertThat(answer(d, "status --volume default")).isEqualTo("0 8192 cache " + d.status() + "\n");
            assertThat(answer(d, "status --volume other")).isEqualTo("error: no volume 'other' (served: default)\n");
            assertThat(answer(d, "status --frob")).startsWith("error: status takes --human or --map");
            assertThat(answer(d, "message --volume default migration_threshold 1024")).isEmpty();
            assertThat(d.migrationThreshold()).isEqualTo(1024);
        }
    }

    static final EventLog QUIET = new EventLog(new PrintStream(OutputStream.nullOutputStream()), false);

    /** The answer of a server of one volume (as without a configuration file), {@code d}. */
    static String answer(CacheDevice d, String request) throws IOException {
        ServedVolumes v = new ServedVolumes(new NbdServer(NbdServer.Options.defaults()), QUIET, false, false);
        v.serve(Metrics.SINGLE_VOLUME, "", "", d, false, null);
        return ControlServer.answer(v, request);
    }

    CacheDevice another() throws IOException {
        CacheConfig c = CacheConfig.parse("md2 cache2 origin2 128 1 writethrough smq 0");
        return CacheDevice.open(c, new MemoryBlockDevice("md2", 8 << 20), new MemoryBlockDevice("cache2", 2 << 20),
                new MemoryBlockDevice("origin2", 8 << 20), EngineOptions.manual(() -> 0L));
    }

    @Test
    void severalVolumesAreNamedAndChosenWithVolume(@TempDir Path dir) throws IOException {
        ServedVolumes v = new ServedVolumes(new NbdServer(NbdServer.Options.defaults()), QUIET, true, false);
        try (CacheDevice a = open("writeback"); CacheDevice b = another()) {
            v.serve("a", "a", "", a, false, null);
            v.serve("b", "b", "", b, false, null);
            String missing = dir.resolve("none").toString();
            assertThat(v.start(new ServeConfig.VolumeSpec("broken", "", CacheConfig.of(missing + "/md",
                    missing + "/c", missing + "/o", 128, CacheMode.WRITEBACK), false, 7))).isNull();
            String all = ControlServer.answer(v, "status");
            assertThat(all.lines().toList()).hasSize(3);
            assertThat(all.lines().toList().get(0)).isEqualTo("a: 0 8192 cache " + a.status());
            assertThat(all.lines().toList().get(1)).isEqualTo("b: 0 16384 cache " + b.status());
            assertThat(all.lines().toList().get(2)).startsWith("broken: not served: ").contains(missing);
            assertThat(ControlServer.answer(v, "status --volume b")).isEqualTo("0 16384 cache " + b.status() + "\n");
            assertThat(ControlServer.answer(v, "status --volume broken"))
                    .startsWith("error: volume 'broken' is not served: ");
            assertThat(ControlServer.answer(v, "status --volume zz")).isEqualTo("error: no volume 'zz' (served: a, b)\n");
            assertThat(ControlServer.answer(v, "status --volume")).isEqualTo("error: --volume needs a volume's name\n");
            assertThat(ControlServer.answer(v, "status --human")).startsWith("volume a:\n").contains("\nvolume b:\n")
                    .contains("\nvolume broken: not served");
            assertThat(grid(ControlServer.answer(v, "status --volume b --map 8 2"))).hasSize(2);
            assertThat(ControlServer.answer(v, "status --map 8 2")).contains("volume a:\n").contains("volume b:\n");
            String ma = ControlServer.answer(v, "metrics --volume a");
            assertThat(ma).contains("jdmcache_cache_blocks{volume=\"a\"} 16.0").doesNotContain("volume=\"b\"");
            assertThat(ControlServer.answer(v, "metrics")).contains("jdmcache_cache_blocks{volume=\"a\"} 16.0")
                    .contains("jdmcache_cache_blocks{volume=\"b\"} 32.0");
            assertThat(ControlServer.answer(v, "metrics --volume broken")).startsWith("error: volume 'broken' is not");
            assertThat(ControlServer.answer(v, "message migration_threshold 4096"))
                    .isEqualTo("error: this server serves 2 volumes (a, b); name one with --volume NAME\n");
            assertThat(ControlServer.answer(v, "message --volume a migration_threshold 4096")).isEmpty();
            assertThat(a.migrationThreshold()).isEqualTo(4096);
            assertThat(b.migrationThreshold()).isEqualTo(2048);
        }
    }
}
