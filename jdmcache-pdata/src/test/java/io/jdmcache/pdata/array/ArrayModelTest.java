package io.jdmcache.pdata.array;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.TestStore;
import io.jdmcache.pdata.testing.TreeChecker;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** dm_array against a long[]: set, get, resize (grow and shrink), create, commits and reopen. */
class ArrayModelTest {

    enum Kind { SET, GET, RESIZE, COMMIT }

    record Op(Kind kind, long a, long b) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequency(Tuple.of(60, Kind.SET), Tuple.of(25, Kind.GET),
                Tuple.of(6, Kind.RESIZE), Tuple.of(3, Kind.COMMIT));
        return Combinators.combine(kind, Arbitraries.longs().between(0, 1 << 20), Arbitraries.longs())
                .as(Op::new).list().ofMaxSize(800);
    }

    @Property(tries = 40)
    void behavesLikeALongArray(@ForAll("ops") List<Op> ops, @ForAll("widthsOf") int width,
                               @ForAll("initialLengths") int initial) throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(32 << 20);
        long mask = width == 8 ? -1L : (1L << (8 * width)) - 1;
        long[] model = new long[initial];
        for (int i = 0; i < initial; i++) {
            model[i] = (i * 0x9E3779B97F4A7C15L) & mask;
        }
        try (TestStore s = TestStore.format(dev, 64)) {
            PersistentArray a = new PersistentArray(s.tm, width);
            final long[] init = model.clone();
            s.roots[1] = a.create(initial, i -> init[(int) i]);
            s.kinds[1] = TestStore.Kind.ARRAY;
            s.widths[1] = width;
            for (Op op : ops) {
                int len = model.length;
                switch (op.kind()) {
                    case SET:
                        if (len > 0) {
                            int i = (int) (op.a() % len);
                            s.roots[1] = a.set(s.roots[1], i, op.b());
                            model[i] = op.b() & mask;
                        }
                        break;
                    case GET:
                        if (len > 0) {
                            int i = (int) (op.a() % len);
                            assertThat(a.get(s.roots[1], i)).isEqualTo(model[i]);
                        }
                        break;
                    case RESIZE:
                        int newLen = (int) (op.a() % 6000);
                        long fill = op.b() & mask;
                        s.roots[1] = a.resize(s.roots[1], len, newLen, fill);
                        long[] m = Arrays.copyOf(model, newLen);
                        for (int i = len; i < newLen; i++) {
                            m[i] = fill;
                        }
                        model = m;
                        break;
                    case COMMIT:
                        s.lengths[1] = model.length;
                        s.commit();
                        assertRefs(s);
                        break;
                    default:
                        throw new IllegalStateException();
                }
            }
            s.lengths[1] = model.length;
            s.commit();
            assertRefs(s);
            assertContents(s, model, width);
            TreeChecker.check(s.tm, s.roots[1], 8);
        }
        try (TestStore s = TestStore.open(dev, 64)) {
            assertContents(s, model, width);
        }
    }

    @Provide
    Arbitrary<Integer> widthsOf() {
        return Arbitraries.of(1, 2, 4, 8);
    }

    @Provide
    Arbitrary<Integer> initialLengths() {
        return Arbitraries.oneOf(Arbitraries.of(0, 1, 508, 509, 510, 1018, 4072),
                Arbitraries.integers().between(0, 20000));
    }

    static void assertContents(TestStore s, long[] model, int width) throws Exception {
        ArrayCursor c = ArrayCursor.open(s.tm, s.roots[1], width, model.length);
        for (int i = 0; i < model.length; i++) {
            assertThat(c.next()).isTrue();
            assertThat(c.index()).isEqualTo(i);
            assertThat(c.value()).as("value %d", i).isEqualTo(model[i]);
        }
        assertThat(c.next()).isFalse();
        // the array holds exactly ceil(n / perBlock) blocks: nothing stale past the end
        int per = ArrayBlock.maxEntriesFor(width);
        assertThat(new io.jdmcache.pdata.btree.Btree(s.tm, io.jdmcache.pdata.btree.ValueType.plain(8))
                .count(s.roots[1])).isEqualTo((model.length + per - 1) / per);
    }

    static void assertRefs(TestStore s) throws Exception {
        int[] found = s.referencesFound();
        int[] counts = s.sm.countsSnapshot();
        assertThat(counts).isEqualTo(found);
    }

    @Test
    void millionEntryArrayCreateAndCursor() throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(64 << 20);
        try (TestStore s = TestStore.format(dev, 512)) {
            PersistentArray a = new PersistentArray(s.tm, 8);
            s.roots[1] = a.create(1_000_000, i -> i * 31 + 7);
            s.lengths[1] = 1_000_000;
            s.kinds[1] = TestStore.Kind.ARRAY;
            s.widths[1] = 8;
            s.commit();
            assertRefs(s);
            assertThat(TreeChecker.check(s.tm, s.roots[1], 8)).isEqualTo(2);
            ArrayCursor c = ArrayCursor.open(s.tm, s.roots[1], 8, 1_000_000);
            long n = 0;
            while (c.next()) {
                assertThat(c.value()).isEqualTo(c.index() * 31 + 7);
                n++;
            }
            assertThat(n).isEqualTo(1_000_000);
            s.roots[1] = a.set(s.roots[1], 999_999, 5);
            s.roots[1] = a.resize(s.roots[1], 1_000_000, 10, 0);
            s.lengths[1] = 10;
            s.commit();
            assertRefs(s);
            assertThat(a.get(s.roots[1], 9)).isEqualTo(9 * 31 + 7);
        }
    }
}
