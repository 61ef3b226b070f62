package io.jdmcache.sim.trace;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Draws ranks {@code 0..n-1} with probability proportional to {@code 1 / (rank + 1)^theta}, by inverting a
 * precomputed cumulative distribution (binary search, O(log n) per draw, 8 bytes per rank).
 */
final class ZipfSampler {
    private final double[] cdf;

    ZipfSampler(int n, double theta) {
        if (n < 1) {
            throw new IllegalArgumentException("zipf needs at least one rank: " + n);
        }
        if (!(theta >= 0)) {
            throw new IllegalArgumentException("zipf exponent must be >= 0: " + theta);
        }
        cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, theta);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        cdf[n - 1] = 1.0;
    }

    int size() {
        return cdf.length;
    }

    /** The probability of the {@code k} most popular ranks together. */
    double massOfTop(int k) {
        return k <= 0 ? 0 : cdf[Math.min(k, cdf.length) - 1];
    }

    int next(SplittableRandom random) {
        double u = random.nextDouble();
        int i = Arrays.binarySearch(cdf, u);
        return i >= 0 ? i : Math.min(-i - 1, cdf.length - 1);
    }
}
