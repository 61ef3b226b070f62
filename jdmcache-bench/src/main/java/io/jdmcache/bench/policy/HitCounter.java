package io.jdmcache.bench.policy;

/** Counts hits overall and in the second half of a trace. */
final class HitCounter {
    private final int half;
    private long hits;
    private long lateHits;

    HitCounter(int traceLength) {
        this.half = traceLength / 2;
    }

    void hit(int position) {
        hits++;
        if (position >= half) {
            lateHits++;
        }
    }

    long hits() {
        return hits;
    }

    long lateHits() {
        return lateHits;
    }

    long lateIos(int traceLength) {
        return traceLength - half;
    }
}
