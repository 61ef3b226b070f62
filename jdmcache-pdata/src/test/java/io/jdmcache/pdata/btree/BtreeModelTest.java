package io.jdmcache.pdata.btree;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.TestStore;
import io.jdmcache.pdata.testing.TreeChecker;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The btree against a TreeMap: random operations, commits in between, reopen, structure and ref counts. */
class BtreeModelTest {

    enum Kind { INSERT, REMOVE, LOOKUP, COMMIT }

    record Op(Kind kind, long key, long value) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(55, Kind.INSERT), net.jqwik.api.Tuple.of(30, Kind.REMOVE),
                net.jqwik.api.Tuple.of(10, Kind.LOOKUP), net.jqwik.api.Tuple.of(2, Kind.COMMIT));
        Arbitrary<Long> key = Arbitraries.longs().between(0, 3000);
        Arbitrary<Long> value = Arbitraries.longs();
        return Combinators.combine(kind, key, value).as(Op::new).list().ofMinSize(1).ofMaxSize(2500);
    }

    @Provide
    Arbitrary<Integer> widths() {
        // 1300-byte values give 3 entries per leaf, so a few hundred keys need three levels
        return Arbitraries.of(4, 8, 16, 600, 1300);
    }

    @Property(tries = 40)
    void behavesLikeATreeMap(@ForAll("widths") int width, @ForAll("ops") List<Op> ops) throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(16 << 20);
        TreeMap<Long, byte[]> model = new TreeMap<>();
        try (TestStore s = TestStore.format(dev, 64)) {
            Btree tree = new Btree(s.tm, ValueType.plain(width));
            s.kinds[0] = TestStore.Kind.BTREE;
            s.widths[0] = width;
            s.roots[0] = tree.create();
            byte[] buf = new byte[width];
            for (Op op : ops) {
                switch (op.kind()) {
                    case INSERT:
                        byte[] v = valueOf(op.value(), width);
                        s.roots[0] = tree.insert(s.roots[0], op.key(), v, 0);
                        model.put(op.key(), v);
                        break;
                    case REMOVE:
                        s.roots[0] = tree.remove(s.roots[0], op.key());
                        model.remove(op.key());
                        break;
                    case LOOKUP:
                        boolean found = tree.lookup(s.roots[0], op.key(), buf);
                        assertThat(found).isEqualTo(model.containsKey(op.key()));
                        if (found) {
                            assertThat(buf).isEqualTo(model.get(op.key()));
                        }
                        break;
                    case COMMIT:
                        s.commit();
                        assertRefCountsExact(s);
                        break;
                    default:
                        throw new IllegalStateException();
                }
            }
            s.commit();
            assertRefCountsExact(s);
            assertSame(tree, s.roots[0], model, width);
            int depth = TreeChecker.check(s.tm, s.roots[0], width);
            Statistics.collect(depth >= 3 ? "3+ levels" : depth + " levels");
        }
        try (TestStore s = TestStore.open(dev, 64)) {
            assertSame(new Btree(s.tm, ValueType.plain(width)), s.roots[0], model, width);
        }
    }

    static byte[] valueOf(long seed, int width) {
        byte[] v = new byte[width];
        Random r = new Random(seed);
        r.nextBytes(v);
        return v;
    }

    static void assertSame(Btree tree, long root, TreeMap<Long, byte[]> model, int width) throws Exception {
        BtreeCursor c = tree.cursor(root);
        byte[] got = new byte[width];
        for (Map.Entry<Long, byte[]> e : model.entrySet()) {
            assertThat(c.next()).as("cursor ended before key %d", e.getKey()).isTrue();
            assertThat(c.key()).isEqualTo(e.getKey());
            c.value(got, 0);
            assertThat(got).as("value of key %d", e.getKey()).isEqualTo(e.getValue());
        }
        assertThat(c.next()).isFalse();
        assertThat(tree.count(root)).isEqualTo(model.size());
    }

    static void assertRefCountsExact(TestStore s) throws Exception {
        int[] found = s.referencesFound();
        int[] counts = s.sm.countsSnapshot();
        for (int b = 0; b < counts.length; b++) {
            if (found[b] != counts[b]) {
                throw new AssertionError("block " + b + ": space map count " + counts[b] + " but "
                        + found[b] + " references found");
            }
        }
        assertThat(s.sm.nrAllocated()).isEqualTo(Arrays.stream(counts).filter(c -> c != 0).count());
    }

    @Test
    void seventyThousandEightByteValuesMakeAThreeLevelTreeAndShrinkBack() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(64 << 20);
        TreeMap<Long, byte[]> model = new TreeMap<>();
        Random rnd = new Random(7);
        try (TestStore s = TestStore.format(dev, 256)) {
            Btree tree = new Btree(s.tm, ValueType.plain(8));
            s.kinds[0] = TestStore.Kind.BTREE;
            s.widths[0] = 8;
            long root = tree.create();
            for (int i = 0; i < 70_000; i++) {
                long k = rnd.nextInt(1 << 30);
                root = tree.insert(root, k, k * 3);
                byte[] v = new byte[8];
                Bytes.put64(v, 0, k * 3);
                model.put(k, v);
                if (i % 20_000 == 0) {
                    s.roots[0] = root;
                    s.commit();
                }
            }
            s.roots[0] = root;
            s.commit();
            assertThat(TreeChecker.check(s.tm, root, 8)).isEqualTo(3);
            assertRefCountsExact(s);
            assertSame(tree, root, model, 8);
            Long[] keys = model.keySet().toArray(new Long[0]);
            for (int i = 0; i < keys.length; i++) {
                if (i % 10 != 0) {
                    root = tree.remove(root, keys[i]);
                    model.remove(keys[i]);
                }
            }
            s.roots[0] = root;
            s.commit();
            assertThat(TreeChecker.check(s.tm, root, 8)).isLessThanOrEqualTo(2);
            assertRefCountsExact(s);
            assertSame(tree, root, model, 8);
            for (Long k : model.keySet().toArray(new Long[0])) {
                root = tree.remove(root, k);
            }
            model.clear();
            s.roots[0] = root;
            s.commit();
            assertThat(TreeChecker.check(s.tm, root, 8)).isEqualTo(1);
            assertRefCountsExact(s);
            assertThat(s.sm.nrAllocated()).isEqualTo(1 + 1 + 1 + (s.sm.nrBlocks() + 16319) / 16320 + 1);
        }
    }

    @Property(tries = 15)
    void wideValuesReachThreeLevelsAndStayCorrect(@ForAll long seed) throws Exception {
        // 1300-byte values: 3 entries per leaf, so ~600 live keys need three levels
        Random rnd = new Random(seed);
        MemoryBlockDevice dev = new MemoryBlockDevice(32 << 20);
        TreeMap<Long, byte[]> model = new TreeMap<>();
        int maxDepth = 0;
        try (TestStore s = TestStore.format(dev, 64)) {
            Btree tree = new Btree(s.tm, ValueType.plain(1300));
            s.kinds[0] = TestStore.Kind.BTREE;
            s.widths[0] = 1300;
            s.roots[0] = tree.create();
            for (int i = 0; i < 3000; i++) {
                long k = rnd.nextInt(2000);
                if (rnd.nextInt(100) < (i < 1500 ? 85 : 35)) {
                    byte[] v = valueOf(rnd.nextLong(), 1300);
                    s.roots[0] = tree.insert(s.roots[0], k, v, 0);
                    model.put(k, v);
                } else {
                    s.roots[0] = tree.remove(s.roots[0], k);
                    model.remove(k);
                }
                if (i % 250 == 0) {
                    s.commit();
                    maxDepth = Math.max(maxDepth, TreeChecker.check(s.tm, s.roots[0], 1300));
                    assertRefCountsExact(s);
                }
            }
            s.commit();
            assertRefCountsExact(s);
            assertSame(tree, s.roots[0], model, 1300);
        }
        assertThat(maxDepth).isEqualTo(3);
    }

    @Test
    void deleteFreesEveryBlockOfTheTree() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(16 << 20);
        try (TestStore s = TestStore.format(dev, 64)) {
            long before = s.sm.nrAllocated();
            Btree tree = new Btree(s.tm, ValueType.plain(16));
            long root = tree.create();
            for (int i = 0; i < 5000; i++) {
                root = tree.insert(root, i * 7L, new byte[16], 0);
            }
            s.roots[0] = root;
            s.kinds[0] = TestStore.Kind.BTREE;
            s.widths[0] = 16;
            s.commit();
            assertThat(s.sm.nrAllocated()).isGreaterThan(before + 30);
            tree.delete(root);
            s.kinds[0] = TestStore.Kind.NONE;
            s.commit();
            assertThat(s.sm.nrAllocated()).isEqualTo(before);
            assertRefCountsExact(s);
        }
    }
}
