package io.jdmcache.tools.check;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.util.List;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

class DuplicateFinderTest {
    @Property(tries = 200)
    void findsExactlyTheRepeatedValues(@ForAll @Size(max = 3000) List<@LongRange(min = 0, max = (1L << 48) - 1) Long> big,
                                       @ForAll @Size(max = 3000) List<@IntRange(min = 0, max = 5000) Integer> small,
                                       @ForAll boolean bigFirst) {
        DuplicateFinder f = new DuplicateFinder(big.size() + small.size());
        TreeMap<Long, Integer> model = new TreeMap<>();
        List<? extends Number> first = bigFirst ? big : small;
        List<? extends Number> second = bigFirst ? small : big;
        for (Number v : first) {
            f.add(v.longValue());
            model.merge(v.longValue(), 1, Integer::sum);
        }
        for (Number v : second) {
            f.add(v.longValue());
            model.merge(v.longValue(), 1, Integer::sum);
        }
        long[] want = model.entrySet().stream().filter(e -> e.getValue() > 1).mapToLong(e -> e.getKey()).toArray();
        assertThat(f.duplicates()).containsExactly(want);
    }

    /** Small chunks, so that the values span several of them and the merge across chunks decides. */
    @Property(tries = 200)
    void findsExactlyTheRepeatedValuesAcrossChunks(@ForAll @Size(max = 2000) List<@LongRange(min = 0, max = 300) Long> low,
                                                   @ForAll @IntRange(min = 1, max = 64) int chunk,
                                                   @ForAll boolean ascendingFirst,
                                                   @ForAll @IntRange(min = 0, max = 3000) int ascending) {
        DuplicateFinder f = new DuplicateFinder(10, chunk);
        TreeMap<Long, Integer> model = new TreeMap<>();
        java.util.function.LongConsumer add = v -> {
            f.add(v);
            model.merge(v, 1, Integer::sum);
        };
        long base = 1L << 40; // above the bitset's limit: every value goes to the chunks
        if (ascendingFirst) {
            for (int i = 0; i < ascending; i++) {
                add.accept(base + 3L * i);
            }
        }
        for (long v : low) {
            add.accept(base + 3 * v);
        }
        if (!ascendingFirst) {
            for (int i = 0; i < ascending; i++) {
                add.accept(base + 3L * i);
            }
        }
        long[] want = model.entrySet().stream().filter(e -> e.getValue() > 1).mapToLong(e -> e.getKey()).toArray();
        assertThat(f.duplicates()).containsExactly(want);
    }

    /** Ascending values first in the bitset, then beyond it: a value seen in the bitset is still caught later. */
    @Property(tries = 100)
    void aValueFromTheBitsetRepeatedAfterItIsCaught(@ForAll @IntRange(min = 0, max = 500) int dense,
                                                    @ForAll @IntRange(min = 0, max = 499) int repeat,
                                                    @ForAll @IntRange(min = 1, max = 64) int chunk) {
        DuplicateFinder f = new DuplicateFinder(10, chunk);
        for (int i = 0; i < dense; i++) {
            f.add(i);
        }
        f.add(1L << 40);
        f.add(repeat);
        assertThat(f.duplicates()).containsExactly(repeat < dense ? new long[] {repeat} : new long[0]);
    }
}
