package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.control.StatusLine;
import io.jdmcache.nbd.NbdStats;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Every metric of {@code jdmcache serve}, defined once and labelled by volume: the one registry that both the
 * HTTP {@code /metrics} endpoint ({@code --metrics-listen}) and {@code jdmcache metrics} (over the control
 * socket) print. The cache's counters and gauges are read when scraped (callbacks on the engine's own
 * counters, nothing is counted twice); the request latency histograms are filled by {@link CacheBackend}.
 */
public final class ServeMetrics {
    /** Everything of jdmcache's own begins with this. */
    public static final String PREFIX = "jdmcache_";

    /**
     * What the metrics read of one served volume.
     *
     * @param volume         the {@code volume} label
     * @param cache          its cache engine
     * @param nbd            the request counters of its NBD export, or null (no NBD metrics)
     * @param nbdConnections the connections open on its export now
     * @param origin         its origin's state
     */
    public record Source(String volume, CacheDevice cache, NbdStats nbd, IntSupplier nbdConnections,
            OriginState.Source origin) {
    }

    /** A counter or gauge with only the {@code volume} label; a null value leaves the volume's sample out. */
    private record Def(String name, String help, boolean counter, Function<Source, Long> value) {
    }

    /** The seconds bounds of the latency buckets: 10 us to 10 s, about three a decade. */
    static final double[] LATENCY_BUCKETS = {10e-6, 25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3,
        10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 500e-3, 1, 2.5, 5, 10};

    private static final List<Def> DEFS = List.of(
            counter("read_hits", "Reads served from the cache device (per block).",
                    s -> s.cache().stats().readHits()),
            counter("read_misses", "Reads served from the origin device (per block).",
                    s -> s.cache().stats().readMisses()),
            counter("write_hits", "Writes to blocks held in the cache (per block).",
                    s -> s.cache().stats().writeHits()),
            counter("write_misses", "Writes to blocks not held in the cache (per block).",
                    s -> s.cache().stats().writeMisses()),
            counter("promotions", "Blocks copied into the cache.", s -> s.cache().promotions()),
            counter("demotions", "Clean blocks dropped from the cache.", s -> s.cache().demotions()),
            counter("writebacks", "Dirty blocks copied back to the origin.", s -> s.cache().writebacks()),
            counter("writeback_writes", "Origin writes that carried write-backs (adjacent ones merged).",
                    s -> s.cache().writebackWrites()),
            counter("promoted_bytes", "Bytes copied into the cache by promotions (migration throughput).",
                    s -> s.cache().promotions() * s.cache().blockBytes()),
            counter("written_back_bytes", "Bytes copied back to the origin by write-backs (write-back throughput).",
                    s -> s.cache().writebacks() * s.cache().blockBytes()),
            counter("metadata_commits", "Metadata transactions committed.", s -> s.cache().commits()),
            counter("migration_errors", "Migrations that failed (promotions, demotions, write-backs, whole-block "
                    + "writes that were to be promoted); each is also logged.",
                    s -> s.cache().counters().migrationErrors()),
            counter("background_commit_errors", "Periodic metadata commits that failed; each is also logged.",
                    s -> s.cache().counters().backgroundCommitErrors()),
            gauge("cache_blocks", "Blocks in the cache device.", s -> (long) s.cache().cacheBlocks()),
            gauge("cache_blocks_used", "Cache blocks holding an origin block.", s -> (long) s.cache().residency()),
            gauge("dirty_blocks", "Cache blocks newer than the origin.", s -> (long) s.cache().dirtyBlocks()),
            gauge("block_size_bytes", "The cache block size.", s -> s.cache().blockBytes()),
            gauge("origin_size_bytes", "The size of the cached volume.", s -> s.cache().size()),
            gauge("migration_threshold_sectors", "Sectors of background copying allowed in flight.",
                    s -> s.cache().migrationThreshold()),
            gauge("metadata_blocks_used", "Metadata blocks in use.", s -> {
                StatusLine.MetadataFields u = s.cache().metadataUsage();
                return u == null ? null : u.usedBlocks();
            }),
            gauge("metadata_blocks", "Metadata blocks on the metadata device.", s -> {
                StatusLine.MetadataFields u = s.cache().metadataUsage();
                return u == null ? null : u.totalBlocks();
            }),
            gauge("needs_check", "1 when the metadata asks for cache_check before the next use.", s -> {
                StatusLine.MetadataFields u = s.cache().metadataUsage();
                return u != null && u.needsCheck() ? 1L : 0L;
            }),
            gauge("nbd_connections", "NBD client connections open now.",
                    s -> s.nbd() == null ? null : (long) s.nbdConnections().getAsInt()),
            counter("nbd_connections_accepted", "NBD client connections accepted.",
                    s -> s.nbd() == null ? null : s.nbd().connectionsAccepted()),
            counter("nbd_errors", "NBD requests answered with an error.",
                    s -> s.nbd() == null ? null : s.nbd().errors()),
            counter("nbd_read_bytes", "Bytes of the NBD READ requests that passed validation.",
                    s -> s.nbd() == null ? null : s.nbd().readBytes()),
            counter("nbd_written_bytes", "Bytes of the NBD WRITE requests that passed validation.",
                    s -> s.nbd() == null ? null : s.nbd().writtenBytes()));

    private static Def counter(String name, String help, Function<Source, Long> value) {
        return new Def(name, help, true, value);
    }

    private static Def gauge(String name, String help, Function<Source, Long> value) {
        return new Def(name, help, false, value);
    }

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Supplier<? extends Collection<Source>> volumes;
    private final Histogram latency;
    private final Map<String, RequestTimer> timers = new ConcurrentHashMap<>();

    /**
     * @param volumes the volumes served now (asked at each scrape)
     * @param jvm     whether to include the JVM's own metrics (memory, GC, threads, ...)
     */
    public ServeMetrics(Supplier<? extends Collection<Source>> volumes, boolean jvm) {
        this.volumes = volumes;
        for (Def d : DEFS) {
            if (d.counter()) {
                CounterWithCallback.builder().name(PREFIX + d.name()).help(d.help()).labelNames("volume")
                        .callback(cb -> samples(d, (v, volume) -> cb.call(v, volume))).register(registry);
            } else {
                GaugeWithCallback.builder().name(PREFIX + d.name()).help(d.help()).labelNames("volume")
                        .callback(cb -> samples(d, (v, volume) -> cb.call(v, volume))).register(registry);
            }
        }
        GaugeWithCallback.builder().name(PREFIX + "metadata_mode").help("The metadata's mode: 1 for the mode "
                + "it is in.").labelNames("volume", "mode").callback(cb -> each(s -> {
                    String mode = s.cache().metadataMode().status();
                    for (String m : new String[] {"rw", "ro", "fail"}) {
                        cb.call(m.equals(mode) ? 1 : 0, s.volume(), m);
                    }
                })).register(registry);
        GaugeWithCallback.builder().name(PREFIX + "origin_state").help("The origin's state: 1 for the state it "
                + "is in (a local file or device is always connected).").labelNames("volume", "state")
                .callback(cb -> each(s -> {
                    OriginState now = s.origin().state();
                    for (OriginState o : OriginState.values()) {
                        cb.call(o == now ? 1 : 0, s.volume(), o.label());
                    }
                })).register(registry);
        GaugeWithCallback.builder().name(PREFIX + "origin_state_since_seconds").help("When a remote origin "
                + "entered its state, in seconds since the epoch (no sample for a local origin).")
                .labelNames("volume").callback(cb -> each(s -> {
                    long since = s.origin().sinceMillis();
                    if (since >= 0) {
                        cb.call(since / 1000.0, s.volume());
                    }
                })).register(registry);
        CounterWithCallback.builder().name(PREFIX + "nbd_requests").help("NBD requests received, by command.")
                .labelNames("volume", "command").callback(cb -> each(s -> {
                    if (s.nbd() != null) {
                        for (Map.Entry<String, Long> e : s.nbd().requests().entrySet()) {
                            cb.call(e.getValue(), s.volume(), e.getKey());
                        }
                    }
                })).register(registry);
        latency = Histogram.builder().name(PREFIX + "request_duration_seconds").help("Time to serve a request "
                        + "in the cache engine, by operation (read, write, flush, trim, write_zeroes) and outcome "
                        + "(hit: every block was cached, miss, done: neither applies, error).")
                .labelNames("volume", "op", "outcome").classicOnly().classicUpperBounds(LATENCY_BUCKETS)
                .withoutExemplars().register(registry);
        if (jvm) {
            JvmMetrics.builder().register(registry);
        }
    }

    /** Where a callback's samples go: a value and its volume label. */
    private interface Sink {
        void sample(double value, String volume);
    }

    private void samples(Def d, Sink sink) {
        for (Source s : volumes.get()) {
            Long v = d.value().apply(s);
            if (v != null) {
                sink.sample(v, s.volume());
            }
        }
    }

    private void each(java.util.function.Consumer<Source> c) {
        for (Source s : volumes.get()) {
            c.accept(s);
        }
    }

    /** The registry, for an exporter. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** The latency histograms of {@code volume} (made at the first call; the same object after). */
    public RequestTimer timer(String volume) {
        return timers.computeIfAbsent(volume, v -> new RequestTimer(latency, v));
    }

    /** Drops {@code volume}'s latency series (it stopped serving). */
    public void forget(String volume) {
        RequestTimer t = timers.remove(volume);
        if (t != null) {
            t.remove();
        }
    }

    /** The names of the metric families defined here (without the JVM's), for documentation checks. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        registry.scrape(n -> n.startsWith(PREFIX)).forEach(s -> names.add(s.getMetadata().getPrometheusName()));
        return names;
    }

    /**
     * jdmcache's own metrics (not the JVM's) in the Prometheus text format, of every volume or of one.
     *
     * @param volume a volume's name, or null for all
     */
    public String text(String volume) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, registry.scrape(n -> n.startsWith(PREFIX)),
                    io.prometheus.metrics.config.EscapingScheme.UNDERSCORE_ESCAPING);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        String all = out.toString(StandardCharsets.UTF_8);
        return volume == null ? all : onlyVolume(all, volume);
    }

    /** The exposition with only {@code volume}'s samples, and only the families that still have one. */
    static String onlyVolume(String text, String volume) {
        String label = "volume=\"" + volume + "\"";
        StringBuilder kept = new StringBuilder();
        StringBuilder header = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                if (line.startsWith("# HELP ")) {
                    header.setLength(0);
                }
                header.append(line).append('\n');
                continue;
            }
            int brace = line.indexOf('{');
            if (brace > 0 && (line.startsWith(label, brace + 1) || line.contains("," + label))) {
                kept.append(header).append(line).append('\n');
                header.setLength(0);
            }
        }
        return kept.toString();
    }

    /**
     * Serves {@code /metrics} (and {@code /-/healthy}) over HTTP on {@code address}, all of the registry,
     * the JVM's metrics included.
     */
    public HTTPServer serveHttp(InetSocketAddress address) throws IOException {
        return HTTPServer.builder().inetAddress(address.getAddress()).port(address.getPort()).registry(registry)
                .buildAndStart();
    }
}
