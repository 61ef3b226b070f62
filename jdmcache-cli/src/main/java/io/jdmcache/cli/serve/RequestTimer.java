package io.jdmcache.cli.serve;

import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;

import java.util.Locale;

/**
 * One volume's request latency histograms ({@code jdmcache_request_duration_seconds}), one data point per
 * operation and outcome, looked up once here so that a request costs one {@code observe}.
 */
public final class RequestTimer {
    /** The operations timed. */
    public enum Op {
        READ, WRITE, FLUSH, TRIM, WRITE_ZEROES;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Whether a request of this kind is a cache hit or miss (reads and writes), or neither. */
        boolean hitsOrMisses() {
            return this == READ || this == WRITE;
        }
    }

    /** How a request ended. */
    public enum Outcome {
        /** Every block of the request was in the cache. */
        HIT,
        /** At least one block was not (it went to or came from the origin). */
        MISS,
        /** Flushes, trims and write-zeroes: no hit or miss. */
        DONE,
        /** The request failed. */
        ERROR;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Histogram histogram;
    private final String volume;
    private final DistributionDataPoint[][] points = new DistributionDataPoint[Op.values().length][];

    RequestTimer(Histogram histogram, String volume) {
        this.histogram = histogram;
        this.volume = volume;
        for (Op op : Op.values()) {
            DistributionDataPoint[] p = new DistributionDataPoint[Outcome.values().length];
            for (Outcome o : Outcome.values()) {
                if (o == Outcome.ERROR || op.hitsOrMisses() == (o != Outcome.DONE)) {
                    p[o.ordinal()] = histogram.labelValues(volume, op.label(), o.label());
                }
            }
            points[op.ordinal()] = p;
        }
    }

    /** Records a request of {@code op} that took {@code nanos} and ended in {@code outcome}. */
    public void observe(Op op, Outcome outcome, long nanos) {
        DistributionDataPoint p = points[op.ordinal()][outcome.ordinal()];
        if (p == null) {
            throw new IllegalArgumentException(op + " has no outcome " + outcome);
        }
        p.observe(nanos / 1e9);
    }

    /** Forgets this volume's series (it stopped serving). */
    void remove() {
        for (Op op : Op.values()) {
            for (Outcome o : Outcome.values()) {
                if (points[op.ordinal()][o.ordinal()] != null) {
                    histogram.remove(volume, op.label(), o.label());
                }
            }
        }
    }
}
