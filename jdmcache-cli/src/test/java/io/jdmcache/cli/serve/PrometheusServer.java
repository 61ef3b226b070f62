package io.jdmcache.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) scraping one target every second, with its
 * HTTP query API for the test to ask. Started in its own folder, stopped (SIGTERM) at close.
 */
final class PrometheusServer implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/prometheus");
    static final String JOB = "jdmcache";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final URI api;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Process process, URI api, Path log) {
        this.process = process;
        this.api = api;
        this.log = log;
    }

    static void assumeInstalled() {
        assumeTrue(Files.isExecutable(BINARY), "prometheus is not installed (.ci/run installs it)");
    }

    /** Starts Prometheus in {@code dir}, scraping {@code /metrics} of {@code target} (HOST:PORT) each second. */
    static PrometheusServer start(Path dir, String target) throws IOException, InterruptedException {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: %s
                    static_configs:
                      - targets: ['%s']
                """.formatted(JOB, target));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(List.of(BINARY.toString(), "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        PrometheusServer server = new PrometheusServer(p, URI.create("http://127.0.0.1:" + port), log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            if (!p.isAlive()) {
                throw new IOException("prometheus exited (rc " + p.exitValue() + "): " + Files.readString(log));
            }
            try {
                if (server.get("/-/ready").statusCode() == 200) {
                    return server;
                }
            } catch (IOException e) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                server.close();
                throw new IOException("prometheus not ready within 60 s: " + Files.readString(log));
            }
            Thread.sleep(100);
        }
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(api.resolve(pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** An instant query: the {@code data.result} array, after checking that the query succeeded. */
    JsonNode query(String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        JsonNode body = JSON.readTree(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new AssertionError("query " + promql + " failed (HTTP " + r.statusCode() + "): " + r.body());
        }
        return body.path("data").path("result");
    }

    /** Asks {@code promql} until its result passes {@code ok} (the last result is returned) or 60 s pass. */
    JsonNode await(String promql, Predicate<JsonNode> ok) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode last;
        do {
            last = query(promql);
            if (ok.test(last)) {
                return last;
            }
            Thread.sleep(250);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("within 60 s, " + promql + " never gave what was expected; last: " + last
                + "\nprometheus log: " + Files.readString(log));
    }

    /** The value of a one-sample result (NaN when there is no sample). */
    static double value(JsonNode result) {
        return result.size() == 1 ? Double.parseDouble(result.get(0).path("value").get(1).asText()) : Double.NaN;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
