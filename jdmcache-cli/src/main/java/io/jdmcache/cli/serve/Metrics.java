package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.nbd.NbdServer;

import java.util.List;

/**
 * The running cache's counters and gauges in the Prometheus text exposition format ({@code jdmcache metrics}),
 * for a node exporter's textfile collector or anything else that reads that format: {@link ServeMetrics}'s
 * definitions for one cache.
 */
public final class Metrics {
    /** The {@code volume} label of the one volume of a server started without a configuration file. */
    public static final String SINGLE_VOLUME = "default";

    private Metrics() {
    }

    /**
     * @param dev the cache
     * @param nbd the NBD server that serves it, or null (then the NBD metrics are left out)
     */
    public static String prometheus(CacheDevice dev, NbdServer nbd) {
        ServeMetrics.Source s = new ServeMetrics.Source(SINGLE_VOLUME, dev, nbd == null ? null : nbd.stats(),
                nbd == null ? () -> 0 : nbd::connectionCount, RemoteOrigin.source(dev));
        return new ServeMetrics(() -> List.of(s), false).text(null);
    }
}
