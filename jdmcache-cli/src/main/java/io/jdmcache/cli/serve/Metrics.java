package io.jdmcache.cli.serve;

/** Names the metrics share ({@link ServeMetrics} defines them). */
public final class Metrics {
    /** The {@code volume} label of the one volume of a server started without a configuration file. */
    public static final String SINGLE_VOLUME = "default";

    private Metrics() {
    }
}
