package io.jdmcache.bench.pdata;

import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.array.PersistentArray;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The persistent array (dm_array, 8-byte values) at 1M entries: random get, random set (within one
 * transaction: each array block is shadowed once, then changed in place) and a sequential cursor over all
 * 1M values. In-memory device, block cache large enough for the array.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class ArrayBench {
    static final int N = 1_000_000;
    private static final long[] INDEX = Store.shuffled(N, 7);

    Store store;
    PersistentArray array;
    long root;
    int next;

    @Setup(Level.Trial)
    public void build() throws IOException {
        store = Store.create(64L << 20, 8192);
        array = new PersistentArray(store.tm, 8);
        root = array.create(N, i -> i * 5);
        store.flush();
    }

    @Benchmark
    public long get() throws IOException {
        return array.get(root, INDEX[next++ % N]);
    }

    @Benchmark
    public long set() throws IOException {
        long i = INDEX[next++ % N];
        root = array.set(root, i, i + next);
        return root;
    }

    @Benchmark
    @OperationsPerInvocation(N)
    public long cursor1M() throws IOException {
        ArrayCursor c = ArrayCursor.open(store.tm, root, 8, N);
        long sum = 0;
        while (c.next()) {
            sum += c.value();
        }
        return sum;
    }
}
