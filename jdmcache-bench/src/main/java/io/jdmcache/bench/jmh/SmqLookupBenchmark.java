package io.jdmcache.bench.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;
import io.jdmcache.policy.Policies;

/**
 * The cost smq adds to every I/O: a lookup that hits (hash lookup, hit bit, level swap) and one that misses
 * (hotspot update; nothing is promoted since the clock never ticks), on a full cache, under the policy lock;
 * beside them, the reference: a {@code java.util.HashMap<Long, Integer>} holding the same mappings (a bare
 * mapping table with no policy at all). Run: {@code java -jar jdmcache-bench/target/benchmarks.jar SmqLookupBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SmqLookupBenchmark {
    @Param({"65536", "1048576"})
    public int cacheBlocks;

    private CachePolicy policy;
    private java.util.HashMap<Long, Integer> table;
    private long[] hits;
    private long[] misses;
    private int i;

    @Setup
    public void setup() {
        long origin = 16L * cacheBlocks;
        policy = Policies.create("smq", cacheBlocks, origin, 128, () -> 0L);
        SplittableRandom r = new SplittableRandom(1);
        for (int c = 0; c < cacheBlocks; c++) {
            policy.loadMapping(2L * c, c, c % 4 == 0, r.nextInt(64), true);
        }
        table = new java.util.HashMap<>(cacheBlocks * 2);
        for (int c = 0; c < cacheBlocks; c++) {
            table.put(2L * c, c);
        }
        hits = new long[1 << 16];
        misses = new long[1 << 16];
        for (int k = 0; k < hits.length; k++) {
            hits[k] = 2L * r.nextInt(cacheBlocks);
            misses[k] = 2L * r.nextInt(cacheBlocks) + 1;
        }
    }

    @Benchmark
    public int lookupHit() {
        i = (i + 1) & (hits.length - 1);
        return policy.lookup(hits[i], IoDirection.READ, false);
    }

    @Benchmark
    public Integer referenceHashMapHit() {
        i = (i + 1) & (hits.length - 1);
        return table.get(hits[i]);
    }

    @Benchmark
    public int lookupMiss() {
        i = (i + 1) & (misses.length - 1);
        return policy.lookup(misses[i], IoDirection.READ, false);
    }
}
