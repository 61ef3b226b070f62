package io.jdmcache.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics as a real Prometheus sees them: {@code jdmcache serve --config} with two volumes and
 * {@code --metrics-listen}, I/O from qemu-io on one of them, serve's own {@code /metrics} endpoint scraped each
 * second by Debian's Prometheus, whose query API must then give the numbers the engine (its status line) and
 * the NBD server (its counters, over the control socket) give for each volume, the latency histograms, the
 * JVM's metrics, and an answer to every query of the Grafana dashboard in the repository.
 */
class PrometheusScrapeTest {
    static final Path DASHBOARD = Path.of(System.getProperty("jdmcache.root", ".."), "dist", "grafana",
            "jdmcache.json");
    static final String VOLUME = "vol-1";
    static final Pattern METRICS_URL = Pattern.compile("curl http://127\\.0\\.0\\.1:(\\d+)/metrics");

    static Path sparse(Path dir, String name, long bytes) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    /** The engine's counters from its status line (read hits, read misses, write hits, write misses, ...). */
    static long[] statusCounters(Path ctl, String volume) {
        ServeTest.Run r = ServeTest.jdmcache("status", "--volume", volume, "--control", ctl.toString());
        assertThat(r.rc()).as(r.out()).isZero();
        String[] f = r.out().trim().split(" ");
        long[] c = new long[7];
        for (int i = 0; i < 7; i++) {
            c[i] = Long.parseLong(f[7 + i]);
        }
        return c;
    }

    /** One sample of {@code jdmcache metrics --volume} (the control socket), e.g. nbd_requests_total{command="read". */
    static long controlSample(Path ctl, String volume, String series) {
        ServeTest.Run r = ServeTest.jdmcache("metrics", "--volume", volume, "--control", ctl.toString());
        assertThat(r.rc()).as(r.out()).isZero();
        Matcher m = Pattern.compile("^jdmcache_" + Pattern.quote(series) + "[,}].*\\} (\\d+)(\\.0)?$",
                Pattern.MULTILINE).matcher(r.out());
        assertThat(m.find()).as("%s in %s", series, r.out()).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void aRealPrometheusScrapesServesEndpoint(@TempDir Path dir) throws Exception {
        PrometheusServer.assumeInstalled();
        ServeTest.need("qemu-io");
        for (String v : List.of(VOLUME, "vol-2")) {
            Files.createDirectories(dir.resolve(v));
            sparse(dir, v + "/md", 8 << 20);
        }
        sparse(dir, VOLUME + "/cache", 4 << 20);
        sparse(dir, VOLUME + "/origin", 32 << 20);
        sparse(dir, "vol-2/cache", 2 << 20);
        sparse(dir, "vol-2/origin", 16 << 20);
        Path config = dir.resolve("jdmcache.yaml");
        Files.writeString(config, """
                control: ctl.sock
                volumes:
                  vol-1: {metadata: vol-1/md, cache: vol-1/cache, origin: vol-1/origin}
                  vol-2: {metadata: vol-2/md, cache: vol-2/cache, origin: vol-2/origin, mode: writethrough}
                """);
        Path ctl = dir.resolve("ctl.sock");
        try (ServerProcess serve = ServerProcess.start(dir, "--config", config.toString(), "--metrics-listen",
                "127.0.0.1:0")) {
            int metricsPort = Integer.parseInt(serve.awaitOutput(METRICS_URL));
            // 2 MiB written in whole 64 KiB blocks (promoted as they are written), read back twice, flushed,
            // partly trimmed, and a read of blocks never written (misses)
            List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            cmd.add(serve.uri + VOLUME);
            for (String c : List.of("write -P 0xab 0 1M", "write -P 0xcd 1M 1M", "read -P 0xab 0 256k",
                    "read -P 0xcd 1M 256k", "read -P 0xab 0 256k", "read -P 0 16M 256k", "flush",
                    "discard 0 128k", "flush")) {
                cmd.add("-c");
                cmd.add(c);
            }
            ServeTest.Run io = ServeTest.run(dir, cmd.toArray(String[]::new));
            assertThat(io.rc()).as(io.out()).isZero();
            assertThat(io.out()).doesNotContain("Pattern verification failed");

            try (PrometheusServer prom = PrometheusServer.start(dir, "127.0.0.1:" + metricsPort)) {
                prom.await("up{job=\"jdmcache\"}", r -> PrometheusServer.value(r) == 1);
                String v = "volume=\"" + VOLUME + "\"";
                String v2 = "volume=\"vol-2\"";
                // values that only I/O changes: what the engine's status line and the NBD server say now,
                // Prometheus must say
                long[] st = statusCounters(ctl, VOLUME);
                expect(prom, "jdmcache_read_hits_total{" + v + "}", st[0]);
                expect(prom, "jdmcache_read_misses_total{" + v + "}", st[1]);
                expect(prom, "jdmcache_write_hits_total{" + v + "}", st[2]);
                expect(prom, "jdmcache_write_misses_total{" + v + "}", st[3]);
                assertThat(st[0]).as("reads of written blocks hit").isPositive();
                assertThat(st[1]).as("the read of blocks never written missed").isPositive();
                long reads = controlSample(ctl, VOLUME, "nbd_requests_total{command=\"read\"");
                long writes = controlSample(ctl, VOLUME, "nbd_requests_total{command=\"write\"");
                assertThat(reads).isGreaterThanOrEqualTo(4);
                expect(prom, "jdmcache_nbd_requests_total{" + v + ",command=\"write\"}", writes);
                expect(prom, "jdmcache_nbd_requests_total{" + v + ",command=\"read\"}", reads);
                expect(prom, "jdmcache_nbd_requests_total{" + v + ",command=\"trim\"}", 1);
                expect(prom, "jdmcache_nbd_written_bytes_total{" + v + "}", 2 << 20);
                expect(prom, "jdmcache_nbd_read_bytes_total{" + v + "}", 4 * (256 << 10));
                expect(prom, "jdmcache_nbd_connections_accepted_total{" + v + "}", 1);
                expect(prom, "jdmcache_cache_blocks{" + v + "}", 64);
                expect(prom, "jdmcache_block_size_bytes{" + v + "}", 64 << 10);
                expect(prom, "jdmcache_origin_size_bytes{" + v + "}", 32 << 20);
                expect(prom, "jdmcache_origin_state{" + v + ",state=\"connected\"}", 1);
                expect(prom, "jdmcache_origin_state{" + v + ",state=\"failed\"}", 0);
                expect(prom, "jdmcache_metadata_mode{" + v + ",mode=\"rw\"}", 1);
                expect(prom, "jdmcache_needs_check{" + v + "}", 0);
                prom.await("jdmcache_promotions_total{" + v + "}", r -> PrometheusServer.value(r) > 0);
                expect(prom, "jdmcache_promoted_bytes_total{" + v + "} - 65536 * jdmcache_promotions_total{" + v + "}",
                        0);
                // the other volume: its own series, untouched by the I/O
                expect(prom, "jdmcache_cache_blocks{" + v2 + "}", 32);
                expect(prom, "jdmcache_origin_size_bytes{" + v2 + "}", 16 << 20);
                expect(prom, "jdmcache_nbd_written_bytes_total{" + v2 + "}", 0);
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v2 + "})", 0);
                expect(prom, "count(count by (volume) (jdmcache_cache_blocks))", 2);
                // every request the engine served was timed once, by operation and outcome
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v + ",op=\"read\"})", reads);
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v + ",op=\"write\"})", writes);
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v + ",op=\"trim\"})", 1);
                prom.await("jdmcache_request_duration_seconds_count{" + v + ",op=\"flush\",outcome=\"done\"}",
                        r -> PrometheusServer.value(r) >= 2);
                prom.await("jdmcache_request_duration_seconds_bucket{" + v + ",op=\"read\",outcome=\"hit\","
                        + "le=\"+Inf\"}", r -> PrometheusServer.value(r) >= 2);
                prom.await("jdmcache_request_duration_seconds_bucket{" + v + ",op=\"read\",outcome=\"miss\","
                        + "le=\"+Inf\"}", r -> PrometheusServer.value(r) >= 1);
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v + ",outcome=\"error\"})", 0);
                // the JVM's own
                prom.await("jvm_memory_used_bytes{job=\"jdmcache\",area=\"heap\"}",
                        r -> PrometheusServer.value(r) > 0);
                prom.await("jvm_threads_current{job=\"jdmcache\"}", r -> PrometheusServer.value(r) > 0);
                // every panel of the dashboard gets an answer (rates need two scrapes in the window: wait for 3)
                prom.await("count_over_time(up{job=\"jdmcache\"}[30s])", r -> PrometheusServer.value(r) >= 3);
                for (String expr : dashboardQueries()) {
                    String q = expr.replace("$job", ".*").replace("$volume", ".*")
                            .replace("$__rate_interval", "30s");
                    assertThat(prom.query(q)).as("the dashboard's %s", expr).isNotEmpty();
                }
            }
            assertThat(serve.terminate()).isZero();
        }
    }

    private static void expect(PrometheusServer prom, String promql, long expected) throws Exception {
        prom.await(promql, r -> PrometheusServer.value(r) == expected);
    }

    /** Every PromQL expression of the dashboard's panels and variables. */
    static List<String> dashboardQueries() throws Exception {
        JsonNode d = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> out = new ArrayList<>();
        for (JsonNode p : d.path("panels")) {
            for (JsonNode t : p.path("targets")) {
                out.add(t.path("expr").asText());
            }
        }
        assertThat(out).hasSizeGreaterThan(20);
        return out;
    }
}
