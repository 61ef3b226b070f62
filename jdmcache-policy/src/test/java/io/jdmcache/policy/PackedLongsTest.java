package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Packed numbers against a plain array, at every width: what is set reads back, and neighbours stay. */
class PackedLongsTest {

    @Property(tries = 300)
    void readsBackWhatWasSet(@ForAll long seed, @ForAll @IntRange(min = 1, max = 200) int size,
                             @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long limit) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] model = new long[size];
        PackedLongs p = new PackedLongs(size, limit);
        for (int step = 0; step < 1000; step++) {
            int i = r.nextInt(size);
            long v = r.nextInt(3) == 0 ? limit - 1 : r.nextLong(limit);
            p.set(i, v);
            model[i] = v;
            int j = r.nextInt(size);
            assertEquals(model[j], p.get(j), "value " + j);
        }
        for (int i = 0; i < size; i++) {
            assertEquals(model[i], p.get(i), "value " + i);
        }
    }

    @Property(tries = 10)
    void bytesPerValueFollowTheLimit(@ForAll @IntRange(min = 1, max = 1000) int size) {
        assertEquals(3L * size + 1, new PackedLongs(size, 1L << 24).bytes());
        assertEquals(4L * size, new PackedLongs(size, (1L << 24) + 1).bytes());
        assertEquals(4L * size, new PackedLongs(size, 1L << 32).bytes());
        assertEquals(5L * size, new PackedLongs(size, (1L << 32) + 1).bytes());
        assertEquals(8L * size, new PackedLongs(size, (1L << 40) + 1).bytes());
    }
}
