package io.jdmcache.policy;

/**
 * How well the hotspot queue predicts: of the hotspot lookups in the current period, the fraction that
 * landed in the top quarter of the levels. Below 1/16 the queue is {@link Assessment#POOR}, below 1/8
 * {@link Assessment#FAIR}, otherwise {@link Assessment#WELL}. Not thread-safe.
 */
final class Confidence {
    enum Assessment { POOR, FAIR, WELL }

    private final int hitThreshold;
    private long hits;
    private long misses;

    Confidence(int nrLevels) {
        this.hitThreshold = nrLevels * 3 / 4;
    }

    void levelAccessed(int level) {
        if (level >= hitThreshold) {
            hits++;
        } else {
            misses++;
        }
    }

    void miss() {
        misses++;
    }

    void reset() {
        hits = 0;
        misses = 0;
    }

    Assessment assess() {
        long total = hits + misses;
        long confidence = total == 0 ? 0 : (hits << 8) / total;
        if (confidence < 16) {
            return Assessment.POOR;
        }
        if (confidence < 32) {
            return Assessment.FAIR;
        }
        return Assessment.WELL;
    }
}
