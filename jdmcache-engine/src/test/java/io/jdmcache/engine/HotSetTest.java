package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.metadata.CacheStats;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/**
 * smq promotes a hot set through the whole engine (writeback mode): 4 KiB I/Os, 30% of them writes, follow a
 * zipf (0.8) over a hot region of half the cache (60% of the I/O) among uniform cold I/O over 100 times the cache
 * (40%). The engine runs without threads on a virtual clock (0.5 ms per I/O; the policy ticks at each I/O's
 * completion, the engine's timer tick runs every 2000 I/Os, background work every 16), so the outcome is
 * deterministic. The hit ratio must rise from the first window to the last and, over the second half, beat a
 * plain demand LRU of the same size replaying the same trace (the cold stream washes LRU's hot blocks out).
 */
class HotSetTest {
    static final int BLOCK = 32 * 1024;
    static final int CACHE = 2048;
    static final int IOS = 600_000;
    static final int WINDOWS = 10;

    @Test
    void hitRatioRisesAndBeatsLru() throws IOException {
        SplittableRandom r = new SplittableRandom(42);
        int hot = CACHE / 2;
        int origin = hot + CACHE * 100;
        double[] cdf = zipfCdf(hot, 0.8);
        int[] trace = new int[IOS];
        boolean[] writes = new boolean[IOS];
        for (int i = 0; i < IOS; i++) {
            trace[i] = r.nextDouble() < 0.6 ? zipf(cdf, r) : hot + r.nextInt(origin - hot);
            writes[i] = r.nextDouble() < 0.3;
        }

        AtomicLong now = new AtomicLong();
        MemoryBlockDevice md = new MemoryBlockDevice("md", 8 << 20);
        MemoryBlockDevice cache = new MemoryBlockDevice("cache", (long) CACHE * BLOCK);
        MemoryBlockDevice orig = new MemoryBlockDevice("origin", (long) origin * BLOCK);
        CacheConfig cfg = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 0 smq 0");
        double[] smq = new double[WINDOWS];
        double smqLate;
        try (CacheDevice d = CacheDevice.open(cfg, md, cache, orig, EngineOptions.manual(now::get))) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            int window = IOS / WINDOWS;
            long lateHits = 0;
            long hitsBefore = 0;
            for (int i = 0; i < IOS; i++) {
                now.addAndGet(500_000);
                buf.clear();
                if (writes[i]) {
                    d.write((long) trace[i] * BLOCK + 4096L * (i & 7), buf);
                } else {
                    d.read((long) trace[i] * BLOCK + 4096L * (i & 7), buf);
                }
                if (i % 16 == 15) {
                    d.runBackgroundWork(64);
                }
                if (i % 2000 == 1999) {
                    d.tick();
                }
                if (i % window == window - 1) {
                    long hits = d.stats().readHits() + d.stats().writeHits();
                    smq[i / window] = (double) (hits - hitsBefore) / window;
                    if (i >= IOS / 2) {
                        lateHits += hits - hitsBefore;
                    }
                    hitsBefore = hits;
                }
            }
            smqLate = (double) lateHits / (IOS / 2);
            CacheStats st = d.stats();
            assertThat(st.readHits() + st.readMisses() + st.writeHits() + st.writeMisses()).isEqualTo(IOS);
            assertThat(d.residency()).isLessThanOrEqualTo(CACHE);
        }
        double lruLate = lru(trace);
        System.out.printf(Locale.ROOT, "engine smq hit ratio per window %s, second half %.1f%%; LRU %.1f%%%n",
                Arrays.toString(Arrays.stream(smq).map(x -> Math.round(x * 1000) / 10.0).toArray()),
                100 * smqLate, 100 * lruLate);
        assertThat(smq[WINDOWS - 1]).isGreaterThan(smq[0]);
        assertThat(smqLate).isGreaterThan(lruLate);
    }

    private static double lru(int[] trace) {
        Map<Integer, Boolean> lru = new LinkedHashMap<>(CACHE * 2, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
                return size() > CACHE;
            }
        };
        long late = 0;
        for (int i = 0; i < trace.length; i++) {
            if (lru.get(trace[i]) != null) {
                if (i >= trace.length / 2) {
                    late++;
                }
            } else {
                lru.put(trace[i], Boolean.TRUE);
            }
        }
        return (double) late / (trace.length / 2);
    }

    private static double[] zipfCdf(int n, double theta) {
        double[] cdf = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.pow(i + 1, -theta);
            cdf[i] = s;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= s;
        }
        return cdf;
    }

    private static int zipf(double[] cdf, SplittableRandom r) {
        int i = Arrays.binarySearch(cdf, r.nextDouble());
        return i >= 0 ? i : Math.min(-i - 1, cdf.length - 1);
    }
}
