package io.jdmcache.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

/** The sparse discard bits against a BitSet: marks, clears, loads, what a clean shutdown writes, and the memory. */
class DiscardSetTest {
    static final long ORIGIN = 3 * DiscardSet.CHUNK_BITS + 100; // the last chunk is partial

    @Test
    void agreesWithABitSetAndSavesEveryChangedBit() throws IOException {
        SplittableRandom r = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            BitSet stored = new BitSet();
            DiscardSet s = new DiscardSet(ORIGIN);
            for (int i = 0; i < 50; i++) {
                long b = r.nextLong(ORIGIN);
                stored.set((int) b);
                s.load(b);
            }
            s.load(ORIGIN + 5); // beyond the end: ignored
            boolean storedHasThem = r.nextBoolean();
            s.endLoad(storedHasThem);
            BitSet onDisk = storedHasThem ? (BitSet) stored.clone() : new BitSet();
            BitSet model = (BitSet) stored.clone();
            for (int i = 0; i < 500; i++) {
                long b = r.nextLong(ORIGIN);
                if (r.nextBoolean()) {
                    s.mark(b);
                    model.set((int) b);
                } else {
                    s.clear(b);
                    model.clear((int) b);
                }
            }
            for (long b = 0; b < ORIGIN; b++) {
                assertThat(s.isDiscarded(b)).as("block " + b).isEqualTo(model.get((int) b));
            }
            assertThat(s.isDiscarded(ORIGIN)).isFalse();
            TreeMap<Long, Boolean> written = new TreeMap<>();
            s.saveChanges((b, on) -> {
                assertThat(b).isLessThan(ORIGIN);
                written.put(b, on);
            });
            written.forEach((b, on) -> onDisk.set(b.intValue(), on));
            assertThat(onDisk).as("the metadata after the clean shutdown").isEqualTo(model);
        }
    }

    @Test
    void aWholeDiscardedOriginIsOneSharedChunkAndNothingDiscardedCostsOnlyTheTable() throws IOException {
        long origin = 100L * DiscardSet.CHUNK_BITS;
        DiscardSet s = new DiscardSet(origin);
        long empty = s.bytes();
        assertThat(empty).isLessThan(origin / 8 / 50);
        for (long b = 0; b < origin; b++) {
            s.load(b);
        }
        s.endLoad(true);
        assertThat(s.bytes()).as("every chunk full: shared").isEqualTo(empty);
        s.clear(5);
        assertThat(s.isDiscarded(5)).isFalse();
        assertThat(s.isDiscarded(4)).isTrue();
        assertThat(s.bytes()).as("one chunk copied out").isEqualTo(empty + DiscardSet.CHUNK_BITS / 8);
        long[] saved = {0};
        s.saveChanges((b, on) -> saved[0]++);
        assertThat(saved[0]).as("only the changed chunk is written").isEqualTo(DiscardSet.CHUNK_BITS);
    }
}
