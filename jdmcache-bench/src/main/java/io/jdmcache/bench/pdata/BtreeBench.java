package io.jdmcache.bench.pdata;

import io.jdmcache.pdata.btree.Btree;
import io.jdmcache.pdata.btree.ValueType;
import io.jdmcache.pdata.node.BtreeBuilder;
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
 * The persistent btree (u64 keys, 8-byte values) at 1M entries: inserting 1M keys in random order into an
 * empty tree, looking up random keys in a 1M-entry tree, removing all 1M keys in random order. All within
 * one transaction over an in-memory device with a block cache large enough for the tree, so the figures
 * are the CPU cost of the tree code (nodes are shadowed once, then changed in place).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class BtreeBench {
    static final int N = 1_000_000;
    private static final long[] KEYS = Store.shuffled(N, 42);

    Store store;
    Btree tree;
    long root;
    int next;

    /** A 1M-entry tree built bottom-up, for lookups. */
    @State(Scope.Thread)
    public static class Full {
        Store store;
        Btree tree;
        long root;

        @Setup(Level.Trial)
        public void build() throws IOException {
            store = Store.create(256L << 20, 16384);
            tree = new Btree(store.tm, ValueType.plain(8));
            BtreeBuilder b = tree.builder(N);
            for (long k = 0; k < N; k++) {
                b.add(k, k * 3);
            }
            root = b.finish();
            store.flush();
        }
    }

    @Setup(Level.Iteration)
    public void emptyTree() throws IOException {
        store = Store.create(256L << 20, 16384);
        tree = new Btree(store.tm, ValueType.plain(8));
        root = tree.create();
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OperationsPerInvocation(N)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public long insert1M() throws IOException {
        long r = root;
        for (long k : KEYS) {
            r = tree.insert(r, k, k);
        }
        return r;
    }

    @Benchmark
    public long lookup(Full full) throws IOException {
        long k = KEYS[next++ % N];
        return full.tree.lookupLong(full.root, k, -1);
    }

    /** Removes every key of a freshly built 1M tree in random order. */
    @State(Scope.Thread)
    public static class ToEmpty {
        Store store;
        Btree tree;
        long root;

        @Setup(Level.Iteration)
        public void build() throws IOException {
            store = Store.create(256L << 20, 16384);
            tree = new Btree(store.tm, ValueType.plain(8));
            BtreeBuilder b = tree.builder(N);
            for (long k = 0; k < N; k++) {
                b.add(k, k);
            }
            root = b.finish();
            store.flush();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OperationsPerInvocation(N)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public long remove1M(ToEmpty t) throws IOException {
        long r = t.root;
        for (long k : KEYS) {
            r = t.tree.remove(r, k);
        }
        if (t.tree.count(r) != 0) {
            throw new IllegalStateException("tree not empty after removing every key");
        }
        return r;
    }
}
