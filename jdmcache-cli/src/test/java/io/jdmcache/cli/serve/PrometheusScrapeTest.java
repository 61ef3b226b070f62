package io.jdmcache.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.nbd.NbdServer;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The metrics as a real Prometheus sees them: a cache served over NBD, I/O from qemu-io, {@code /metrics} over
 * HTTP scraped each second by Debian's Prometheus, whose query API must then give the engine's and the NBD
 * server's own numbers, the latency histograms, the JVM's metrics, and an answer to every query of the
 * Grafana dashboard in the repository.
 */
class PrometheusScrapeTest {
    static final Path DASHBOARD = Path.of(System.getProperty("jdmcache.root", ".."), "dist", "grafana",
            "jdmcache.json");
    static final String VOLUME = "vol-1";

    static Path sparse(Path dir, String name, long bytes) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    @Test
    void aRealPrometheusScrapesTheCountersHistogramsAndJvmMetrics(@TempDir Path dir) throws Exception {
        PrometheusServer.assumeInstalled();
        ServeTest.need("qemu-io");
        CacheConfig config = CacheConfig.of(sparse(dir, "md", 8 << 20).toString(),
                sparse(dir, "cache", 4 << 20).toString(), sparse(dir, "origin", 32 << 20).toString(), 128,
                CacheMode.WRITEBACK).withMetadataVersion(2);
        List<ServeMetrics.Source> sources = new ArrayList<>();
        ServeMetrics metrics = new ServeMetrics(() -> sources, true);
        CacheDevice dev = CacheDevice.open(config);
        NbdServer nbd = new NbdServer(new CacheBackend(dev, false, metrics.timer(VOLUME)),
                NbdServer.Options.defaults());
        InetSocketAddress nbdAt = (InetSocketAddress) nbd.start(new InetSocketAddress("127.0.0.1", 0));
        sources.add(new ServeMetrics.Source(VOLUME, dev, nbd.stats(), nbd::connectionCount,
                OriginState.Source.LOCAL));
        try (HTTPServer http = metrics.serveHttp(new InetSocketAddress("127.0.0.1", 0))) {
            // 2 MiB written in whole 64 KiB blocks (promoted as they are written), read back twice, flushed,
            // partly trimmed, and a read of blocks never written (misses)
            List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw"));
            cmd.add("nbd://127.0.0.1:" + nbdAt.getPort() + "/");
            for (String c : List.of("write -P 0xab 0 1M", "write -P 0xcd 1M 1M", "read -P 0xab 0 256k",
                    "read -P 0xcd 1M 256k", "read -P 0xab 0 256k", "read -P 0 16M 256k", "flush",
                    "discard 0 128k", "flush")) {
                cmd.add("-c");
                cmd.add(c);
            }
            ServeTest.Run io = ServeTest.run(dir, cmd.toArray(String[]::new));
            assertThat(io.rc()).as(io.out()).isZero();
            assertThat(io.out()).doesNotContain("Pattern verification failed");

            try (PrometheusServer prom = PrometheusServer.start(dir, "127.0.0.1:" + http.getPort())) {
                prom.await("up{job=\"jdmcache\"}", r -> PrometheusServer.value(r) == 1);
                String v = "volume=\"" + VOLUME + "\"";
                // values that only I/O changes: what the engine and the NBD server say now, Prometheus must say
                var s = dev.stats();
                expect(prom, "jdmcache_read_hits_total{" + v + "}", s.readHits());
                expect(prom, "jdmcache_read_misses_total{" + v + "}", s.readMisses());
                expect(prom, "jdmcache_write_hits_total{" + v + "}", s.writeHits());
                expect(prom, "jdmcache_write_misses_total{" + v + "}", s.writeMisses());
                assertThat(s.readHits()).as("reads of written blocks hit").isPositive();
                assertThat(s.readMisses()).as("the read of blocks never written missed").isPositive();
                var n = nbd.stats().requests();
                expect(prom, "jdmcache_nbd_requests_total{" + v + ",command=\"write\"}", n.get("write"));
                expect(prom, "jdmcache_nbd_requests_total{" + v + ",command=\"read\"}", n.get("read"));
                expect(prom, "jdmcache_nbd_requests_total{" + v + ",command=\"trim\"}", 1);
                expect(prom, "jdmcache_nbd_written_bytes_total{" + v + "}", 2 << 20);
                expect(prom, "jdmcache_nbd_read_bytes_total{" + v + "}", nbd.stats().readBytes());
                expect(prom, "jdmcache_nbd_connections_accepted_total{" + v + "}", 1);
                expect(prom, "jdmcache_cache_blocks{" + v + "}", dev.cacheBlocks());
                expect(prom, "jdmcache_block_size_bytes{" + v + "}", 64 << 10);
                expect(prom, "jdmcache_origin_size_bytes{" + v + "}", 32 << 20);
                expect(prom, "jdmcache_origin_state{" + v + ",state=\"connected\"}", 1);
                expect(prom, "jdmcache_origin_state{" + v + ",state=\"failed\"}", 0);
                expect(prom, "jdmcache_metadata_mode{" + v + ",mode=\"rw\"}", 1);
                expect(prom, "jdmcache_needs_check{" + v + "}", 0);
                expect(prom, "jdmcache_promoted_bytes_total{" + v + "}", dev.promotions() * (64 << 10));
                assertThat(dev.promotions()).as("whole-block writes are promoted").isPositive();
                // every request the engine served was timed once, by operation and outcome
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v + ",op=\"read\"})", n.get("read"));
                expect(prom, "sum(jdmcache_request_duration_seconds_count{" + v + ",op=\"write\"})",
                        n.get("write"));
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
        } finally {
            nbd.stop();
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
