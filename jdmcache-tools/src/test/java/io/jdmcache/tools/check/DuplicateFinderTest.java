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
}
