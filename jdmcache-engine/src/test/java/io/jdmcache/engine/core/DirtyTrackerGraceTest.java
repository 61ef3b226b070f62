package io.jdmcache.engine.core;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** The grace of written-back blocks: dirty on disk through a whole grace period, clean after it. */
class DirtyTrackerGraceTest {
    private static final long GRACE = 10_000;

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final DirtyTracker t = new DirtyTracker(200, GRACE, now::get);

    /** What a commit does: snapshot, write, committed; returns the block's committed bit. */
    private boolean commitAndRead(int c) {
        t.snapshot();
        t.committed();
        return (t.snapshotWords()[c >>> 6] & (1L << c)) != 0;
    }

    private boolean dirtyAfterWrite(int c) {
        boolean durable = t.beforeWrite(c);
        if (!durable) {
            assertThat(commitAndRead(c)).isTrue();
            assertThat(t.beforeWrite(c)).isTrue();
        }
        return durable;
    }

    @Test
    void aWrittenBackBlockStaysDirtyOnDiskForTheGraceThenIsCommittedClean() {
        assertThat(dirtyAfterWrite(70)).as("the first write to a block the disk says is clean waits").isFalse();
        t.cleaned(70);
        assertThat(commitAndRead(70)).as("just written back: still dirty on disk").isTrue();
        now.addAndGet(GRACE);
        assertThat(t.changed()).as("the grace is over: the periodic commit has something to do").isTrue();
        assertThat(commitAndRead(70)).as("one ageing: still within its first grace period").isTrue();
        now.addAndGet(GRACE - 1);
        assertThat(commitAndRead(70)).isTrue();
        now.addAndGet(1);
        assertThat(commitAndRead(70)).as("pending through a whole grace period").isFalse();
        assertThat(t.changed()).isFalse();
        assertThat(t.beforeWrite(70)).as("committed clean: a write waits for a commit again").isFalse();
    }

    @Test
    void aBlockWrittenAgainWithinTheGraceNeverWaitsAndIsNeverCommittedClean() {
        dirtyAfterWrite(5);
        for (int round = 0; round < 5; round++) {
            t.cleaned(5);
            commitAndRead(5);
            now.addAndGet(GRACE);
            commitAndRead(5);
            assertThat(t.beforeWrite(5)).as("round %d: written again, no commit needed", round).isTrue();
            now.addAndGet(GRACE);
            assertThat(commitAndRead(5)).as("round %d: dirty again, so never cleared", round).isTrue();
        }
    }

    @Test
    void aPromotionForgetsThePendingMark() {
        dirtyAfterWrite(9);
        t.cleaned(9);
        commitAndRead(9);
        t.promoted(9, true); // remapped, its data not the origin's
        now.addAndGet(3 * GRACE);
        commitAndRead(9);
        now.addAndGet(3 * GRACE);
        assertThat(commitAndRead(9)).as("a new dirty block is not cleared by its old write-back").isTrue();
    }

    @Test
    void aBlockThatNeverWaitedIsCommittedCleanAtItsWriteBack() {
        t.promoted(12, true); // a whole-block write: mapped dirty, no write waited for it
        commitAndRead(12);
        assertThat(t.beforeWrite(12)).isTrue();
        t.cleaned(12);
        assertThat(commitAndRead(12)).as("written once and written back: clean at the next commit").isFalse();
        assertThat(t.beforeWrite(12)).as("written again: it waits, and is hot from now on").isFalse();
        assertThat(commitAndRead(12)).isTrue();
        t.cleaned(12);
        assertThat(commitAndRead(12)).as("hot: its write-back gets the grace").isTrue();
    }

    @Test
    void withoutAGraceAWriteBackIsCommittedCleanAtOnce() {
        DirtyTracker plain = new DirtyTracker(100);
        assertThat(plain.beforeWrite(3)).isFalse();
        plain.snapshot();
        plain.committed();
        plain.cleaned(3);
        plain.snapshot();
        plain.committed();
        assertThat(plain.snapshotWords()[0] & (1L << 3)).isZero();
    }
}
