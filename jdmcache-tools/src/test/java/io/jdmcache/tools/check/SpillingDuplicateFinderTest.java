package io.jdmcache.tools.check;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.io.IOException;
import java.util.List;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/** The spilling finder against a TreeMap, with runs small enough that most inputs spill to many runs. */
class SpillingDuplicateFinderTest {
    @Property(tries = 200)
    void findsExactlyTheRepeatedValues(@ForAll @Size(max = 4000) List<@LongRange(min = 0, max = 3000) Long> small,
                                       @ForAll @Size(max = 500) List<@LongRange(min = 0, max = (1L << 48) - 1) Long> big,
                                       @ForAll @IntRange(min = 1, max = 300) int chunk) throws IOException {
        TreeMap<Long, Integer> model = new TreeMap<>();
        try (SpillingDuplicateFinder f = new SpillingDuplicateFinder(chunk)) {
            for (List<Long> l : List.of(small, big)) {
                for (long v : l) {
                    f.add(v);
                    model.merge(v, 1, Integer::sum);
                }
            }
            long[] want = model.entrySet().stream().filter(e -> e.getValue() > 1).mapToLong(e -> e.getKey())
                    .toArray();
            assertThat(f.duplicates()).containsExactly(want);
            assertThat(f.duplicateCount()).isEqualTo(want.length);
        }
    }
}
