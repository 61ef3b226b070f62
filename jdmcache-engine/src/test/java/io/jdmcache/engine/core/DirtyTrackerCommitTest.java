package io.jdmcache.engine.core;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.BitSet;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The commits of the exact dirty state against a model: the tracker keeps no snapshot array of its own (the first
 * commit's snapshot is taken into the committed words, later ones keep only their changed words), so what a
 * commit writes, what the disk then holds and what a write then finds durable are checked over random sequences
 * of writes, write-backs, promotions and commits that succeed or fail.
 */
class DirtyTrackerCommitTest {

    /** A disk of dirty bits that takes what the tracker hands a commit, as the committer does. */
    private static final class Disk {
        final BitSet bits = new BitSet();
        final BitSet writtenWords = new BitSet();

        /** One commit: snapshot, write, then committed or failed; returns the bits the disk holds after it. */
        void commit(DirtyTracker t, boolean ok) {
            BitSet before = (BitSet) bits.clone();
            int n = t.snapshot();
            writtenWords.clear();
            if (t.firstCommit()) {
                long[] all = t.snapshotWords();
                assertThat(n).isEqualTo(all.length);
                bits.clear();
                bits.or(BitSet.valueOf(all));
                writtenWords.set(0, all.length);
            } else {
                for (int i = 0; i < n; i++) {
                    int w = (int) t.changedIndexes()[i];
                    assertThat(writtenWords.get(w)).as("word %d written once", w).isFalse();
                    writtenWords.set(w);
                    long v = t.changedValues()[i];
                    for (int b = 0; b < 64; b++) {
                        bits.set(w * 64 + b, (v >>> b & 1) != 0);
                    }
                }
            }
            if (ok) {
                t.committed();
            } else {
                bits.clear();
                bits.or(before); // the transaction was rolled back
                t.commitFailed();
            }
        }
    }

    @Property(tries = 60)
    void whatACommitWritesIsTheNextBitsAndAWriteFindsDurableOnlyWhatEveryPossibleDiskHas(
            @ForAll long seed, @ForAll @IntRange(min = 1, max = 9_000) int blocks) {
        SplittableRandom r = new SplittableRandom(seed);
        DirtyTracker t = new DirtyTracker(blocks);
        Disk disk = new Disk();
        BitSet next = new BitSet(); // the model: what the next commit must write
        BitSet durable = new BitSet(); // dirty in every state the disk may be in
        BitSet promotedWords = new BitSet(); // words a mapping went into since the last commit
        boolean everCommitted = false;
        for (int step = 0; step < 400; step++) {
            int c = r.nextInt(blocks);
            int op = r.nextInt(10);
            if (op < 4) {
                boolean d = t.beforeWrite(c);
                assertThat(d).as("step %d: write to %d finds it durably dirty", step, c).isEqualTo(durable.get(c));
                next.set(c);
            } else if (op < 6) {
                t.cleaned(c);
                next.clear(c);
            } else if (op < 7) {
                boolean dirty = r.nextBoolean();
                t.promoted(c, dirty);
                next.set(c, dirty);
                durable.clear(c);
                promotedWords.set(c >>> 6);
            } else if (op < 8 && r.nextInt(4) == 0) {
                // a burst over many words: the changed-word buffers grow past their kept length
                for (int b = r.nextInt(64); b < blocks; b += 64) {
                    t.beforeWrite(b);
                    next.set(b);
                }
            } else {
                boolean ok = r.nextInt(5) != 0;
                BitSet old = (BitSet) disk.bits.clone();
                boolean first = t.firstCommit();
                disk.commit(t, ok);
                if (ok) {
                    assertThat(disk.bits).as("step %d: the disk after a commit", step).isEqualTo(next);
                    assertThat(BitSet.valueOf(t.snapshotWords())).as("snapshotWords after a commit").isEqualTo(next);
                    if (!first) {
                        for (int w = promotedWords.nextSetBit(0); w >= 0; w = promotedWords.nextSetBit(w + 1)) {
                            assertThat(disk.writtenWords.get(w)).as("step %d: word %d of a new mapping is written",
                                    step, w).isTrue();
                        }
                    }
                    durable = (BitSet) next.clone();
                    everCommitted = true;
                } else {
                    assertThat(disk.bits).isEqualTo(old);
                    if (everCommitted) {
                        durable.and(next); // dirty on both the old disk and the one the failed commit meant
                    } else {
                        durable.clear();
                    }
                }
                promotedWords.clear(); // a snapshot takes the marks (a failed commit's metadata is rolled back with them)
                assertThat(t.changedCapacity()).as("the changed-word buffers are given back")
                        .isEqualTo(DirtyTracker.KEPT_CHANGED);
            }
        }
    }

    @Test
    void aLargeCommitThenASmallOneWritesOnlyTheSmallOnesWords() {
        DirtyTracker t = new DirtyTracker(64 * 1_000);
        Disk disk = new Disk();
        disk.commit(t, true);
        for (int w = 0; w < 1_000; w++) {
            t.beforeWrite(w * 64 + 5);
        }
        disk.commit(t, true);
        assertThat(disk.writtenWords.cardinality()).isEqualTo(1_000);
        assertThat(t.changedCapacity()).isEqualTo(DirtyTracker.KEPT_CHANGED);
        t.cleaned(64 * 7 + 5);
        disk.commit(t, true);
        assertThat(disk.writtenWords.stream().toArray()).containsExactly(7);
        assertThat(disk.bits.cardinality()).isEqualTo(999);
        assertThat(disk.bits.get(64 * 7 + 5)).isFalse();
    }
}
