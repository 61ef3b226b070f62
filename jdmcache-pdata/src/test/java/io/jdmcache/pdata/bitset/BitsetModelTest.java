package io.jdmcache.pdata.bitset;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.TestStore;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;

import java.util.BitSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** dm_bitset (direct and through the cached-word handle) against java.util.BitSet. */
class BitsetModelTest {

    enum Kind { SET, CLEAR, TEST, RESIZE_FALSE, RESIZE_TRUE, FLUSH_COMMIT }

    record Op(Kind kind, int a) {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequency(Tuple.of(35, Kind.SET), Tuple.of(25, Kind.CLEAR),
                Tuple.of(25, Kind.TEST), Tuple.of(3, Kind.RESIZE_FALSE), Tuple.of(3, Kind.RESIZE_TRUE),
                Tuple.of(4, Kind.FLUSH_COMMIT));
        return Combinators.combine(kind, Arbitraries.integers().between(0, 1 << 20)).as(Op::new)
                .list().ofMaxSize(1500);
    }

    @Property(tries = 40)
    void behavesLikeABitSet(@ForAll("ops") List<Op> ops, @ForAll @IntRange(min = 0, max = 70000) int initial,
                            @ForAll boolean initialValue, @ForAll boolean useHandle) throws Exception {
        MemoryBlockDevice dev = new MemoryBlockDevice(16 << 20);
        BitSet model = new BitSet();
        if (initialValue) {
            model.set(0, initial);
        }
        long length = initial;
        try (TestStore s = TestStore.format(dev, 64)) {
            PersistentBitset bs = new PersistentBitset(s.tm);
            s.roots[2] = bs.create(initial, initialValue);
            s.kinds[2] = TestStore.Kind.ARRAY;
            s.widths[2] = 8;
            BitsetHandle h = new BitsetHandle(bs, s.roots[2], length);
            for (Op op : ops) {
                int i = length == 0 ? 0 : (int) (op.a() % length);
                switch (op.kind()) {
                    case SET:
                    case CLEAR:
                        if (length > 0) {
                            boolean v = op.kind() == Kind.SET;
                            if (useHandle) {
                                h.set(i, v);
                            } else {
                                s.roots[2] = bs.set(s.roots[2], i, v);
                            }
                            model.set(i, v);
                        }
                        break;
                    case TEST:
                        if (length > 0) {
                            boolean got = useHandle ? h.test(i) : bs.test(s.roots[2], i);
                            assertThat(got).as("bit %d", i).isEqualTo(model.get(i));
                        }
                        break;
                    case RESIZE_FALSE:
                    case RESIZE_TRUE:
                        boolean fill = op.kind() == Kind.RESIZE_TRUE;
                        long newLen = op.a() % 40000;
                        if (useHandle) {
                            s.roots[2] = h.flush();
                        }
                        s.roots[2] = bs.resize(s.roots[2], length, newLen, fill);
                        if (newLen < length) {
                            model.clear((int) newLen, (int) length);
                        } else if (fill) {
                            model.set((int) length, (int) newLen);
                        }
                        length = newLen;
                        h.reset(s.roots[2], length);
                        break;
                    case FLUSH_COMMIT:
                        if (useHandle) {
                            s.roots[2] = h.flush();
                        }
                        s.lengths[2] = length;
                        s.commit();
                        assertThat(s.sm.countsSnapshot()).isEqualTo(s.referencesFound());
                        break;
                    default:
                        throw new IllegalStateException();
                }
            }
            if (useHandle) {
                s.roots[2] = h.flush();
            }
            s.lengths[2] = length;
            s.commit();
            assertThat(s.sm.countsSnapshot()).isEqualTo(s.referencesFound());
        }
        try (TestStore s = TestStore.open(dev, 64)) {
            BitsetCursor c = BitsetCursor.open(s.tm, s.roots[2], length);
            for (long i = 0; i < length; i++) {
                assertThat(c.next()).isTrue();
                assertThat(c.bit()).as("bit %d", i).isEqualTo(model.get((int) i));
            }
            assertThat(c.next()).isFalse();
            // padding bits past the length are zero in the last word
            if (length % 64 != 0) {
                long w = new PersistentBitset(s.tm).word(s.roots[2], (length - 1) / 64);
                assertThat(w >>> (length % 64)).isZero();
            }
        }
    }
}
