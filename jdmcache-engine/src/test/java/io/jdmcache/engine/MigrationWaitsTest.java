package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/**
 * How foreground requests and background work wait for each other: by waiting on each other's completion,
 * never by spinning, and never longer than they must. Every test here runs under a preemptive timeout and opens
 * its gates in {@code finally}, so a regression fails the test instead of hanging the suite.
 */
class MigrationWaitsTest {
    static final int BLOCK = 64 * 1024;
    static final int CACHE_BLOCKS = 4;

    final MemoryBlockDevice md = new MemoryBlockDevice("md", 4 << 20);
    final GatedDevice cache = new GatedDevice(new MemoryBlockDevice("cache", (long) CACHE_BLOCKS * BLOCK));
    final MemoryBlockDevice originData = new MemoryBlockDevice("origin", 64L * BLOCK);
    final GatedDevice origin = new GatedDevice(originData);
    final AtomicLong now = new AtomicLong();

    /** Writeback smq over the rig, no threads (the test drives background work), always idle. */
    CacheDevice openManual() throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 1 writeback smq 0");
        return CacheDevice.open(c, md, cache, origin, new EngineOptions(1, 0, 1_000_000_000L, now::get, false));
    }

    static ByteBuffer filled(int n, int value) {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            b.put((byte) value);
        }
        return b.flip();
    }

    /**
     * Heats block 40 with misses, a virtual 10 ms and a tick apart, until {@code until} opens, in a thread of its
     * own: the heater's last read may wait for the block's lock (a promotion copying it) and its last tick for a
     * commit the test holds, so the test's thread must not be the one doing it.
     */
    void heat(CacheDevice d, java.util.concurrent.CountDownLatch until, List<Thread> threads) {
        Thread heater = new Thread(() -> {
            ByteBuffer small = ByteBuffer.allocate(4096);
            try {
                for (int i = 0; i < 500 && until.getCount() > 0; i++) {
                    d.read(40L * BLOCK, small.clear());
                    now.addAndGet(10_000_000L);
                    d.tick();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "heater");
        threads.add(heater);
        heater.start();
    }

    /** Blocks 0..3 cached and clean, the mappings committed. */
    static void warm(CacheDevice d) throws IOException {
        for (int b = 0; b < CACHE_BLOCKS; b++) {
            d.write((long) b * BLOCK, filled(BLOCK, 1 + b)); // whole blocks: promoted by the write, dirty
        }
        d.runBackgroundWork(100); // idle: everything is written back
        d.flush();
        assertThat(d.residency()).isEqualTo(CACHE_BLOCKS);
        assertThat(d.dirtyBlocks()).isZero();
    }

    @Test
    void aWriteThatMeetsADemotionWaitsForItsCompletionInsteadOfSpinning() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> threads = new ArrayList<>();
            CacheDevice d = openManual();
            try {
                warm(d);
                // the demotion's commit will hold at the origin's flush
                origin.arm(GatedDevice.Op.FLUSH);
                Thread demoter = new Thread(() -> {
                    try {
                        while (origin.entered.getCount() > 0) {
                            d.runBackgroundWork(1);
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "demoter");
                threads.add(demoter);
                demoter.start();
                // misses on a block not cached heat it; with the cache full, its promotion needs a demotion first
                heat(d, origin.entered, threads);
                assertThat(origin.entered.await(20, TimeUnit.SECONDS)).as("a demotion is committing").isTrue();

                // one write to each cached block
                Thread[] writers = new Thread[CACHE_BLOCKS];
                boolean[] done = new boolean[CACHE_BLOCKS];
                for (int b = 0; b < CACHE_BLOCKS; b++) {
                    int me = b;
                    writers[b] = new Thread(() -> {
                        try {
                            d.write((long) me * BLOCK + 4096, filled(4096, 100 + me));
                            done[me] = true;
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }, "writer-" + b);
                    threads.add(writers[b]);
                    writers[b].start();
                }
                // every write waits: the one to the block being demoted for the demotion's completion, the others
                // (to clean blocks) for the commit that marks their blocks dirty (exact dirty bits), which the held
                // flush holds too; none spins
                Thread.sleep(100);
                int waiting = -1;
                for (int k = 0; k < 50; k++) {
                    for (int b = 0; b < CACHE_BLOCKS; b++) {
                        Thread.State st = writers[b].getState();
                        assertThat(st).as("writer %s, sample %s", b, k).isIn(Thread.State.WAITING, Thread.State.BLOCKED);
                        if (st == Thread.State.WAITING && k == 0) {
                            assertThat(waiting).as("only one write waits for the demotion").isEqualTo(-1);
                            waiting = b;
                        }
                    }
                    Thread.sleep(2);
                }
                assertThat(waiting).as("the write to the block being demoted waits for it").isNotNegative();
                assertThat(writers[waiting].getState()).isEqualTo(Thread.State.WAITING);
                origin.open();
                demoter.join();
                for (Thread w : writers) {
                    w.join();
                }
                assertThat(done).containsOnly(true);
                assertThat(d.demotions()).isEqualTo(1);
                for (int b = 0; b < CACHE_BLOCKS; b++) {
                    ByteBuffer got = ByteBuffer.allocate(4096);
                    d.read((long) b * BLOCK + 4096, got);
                    assertThat(got.flip()).as("block " + b).isEqualTo(filled(4096, 100 + b));
                }
            } finally {
                origin.open();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                d.close();
            }
        });
    }

    /** The live threads whose names start with {@code prefix}. */
    static List<Thread> threadsNamed(String prefix) {
        List<Thread> l = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && t.isAlive()) {
                l.add(t);
            }
        }
        return l;
    }

    static void assertAllSleepWithoutTimeout(List<Thread> workers) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline
                && !workers.stream().allMatch(t -> t.getState() == Thread.State.WAITING)) {
            Thread.sleep(1);
        }
        for (int k = 0; k < 50; k++) {
            for (Thread t : workers) {
                assertThat(t.getState()).as(t.getName() + ", sample " + k).isEqualTo(Thread.State.WAITING);
            }
            Thread.sleep(2);
        }
    }

    @Test
    void idleWorkersSleepUntilWorkIsQueuedAndEachQueuedItemWakesOne() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> before = threadsNamed("jdmcache-migration-");
            CacheConfig c = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 1 writeback smq 0");
            // never idle, and the timer's period is an hour: only queued work can wake a worker
            EngineOptions opts = new EngineOptions(2, Long.MAX_VALUE / 4, 3_600_000_000_000L,
                    io.jdmcache.policy.PolicyClock.SYSTEM, true);
            try (CacheDevice d = CacheDevice.open(c, md, cache, origin, opts)) {
                List<Thread> workers = threadsNamed("jdmcache-migration-");
                workers.removeAll(before);
                assertThat(workers).hasSize(2);
                // nothing to do: both sleep, and not in a timed wait (nothing polls)
                assertAllSleepWithoutTimeout(workers);
                // misses heat a block until its promotion is queued: the queueing wakes a worker, which copies it
                ByteBuffer small = ByteBuffer.allocate(4096);
                for (int i = 0; i < 5000 && d.promotions() == 0; i++) {
                    d.read(40L * BLOCK, small.clear());
                }
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (d.promotions() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertThat(d.promotions()).as("promoted by a woken worker, no tick needed").isEqualTo(1);
                assertThat(d.residency()).isEqualTo(1);
                assertAllSleepWithoutTimeout(workers);
            }
        });
    }

    /** Flushes in another thread; true if the flush returned within 10 s. */
    static boolean flushReturns(CacheDevice d, List<Thread> threads) throws InterruptedException {
        Thread flusher = new Thread(() -> {
            try {
                d.flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "flusher");
        threads.add(flusher);
        flusher.start();
        flusher.join(10_000);
        return !flusher.isAlive();
    }

    @Test
    void aReadOfABlockBeingWrittenBackGoesOnWhileAWriteToItWaits() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> threads = new ArrayList<>();
            CacheDevice d = openManual();
            try {
                d.write(2L * BLOCK, filled(BLOCK, 9)); // a whole block: promoted by the write, dirty
                assertThat(d.dirtyBlocks()).isEqualTo(1);
                origin.arm(GatedDevice.Op.WRITE); // the write-back's write to the origin will hold there
                Thread cleaner = new Thread(() -> {
                    try {
                        while (origin.entered.getCount() > 0) {
                            d.runBackgroundWork(1);
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "cleaner");
                threads.add(cleaner);
                cleaner.start();
                assertThat(origin.entered.await(20, TimeUnit.SECONDS)).as("a write-back is writing").isTrue();

                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                Thread reader = new Thread(() -> {
                    try {
                        d.read(2L * BLOCK, got);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "reader");
                threads.add(reader);
                reader.start();
                reader.join(10_000);
                assertThat(reader.isAlive()).as("the read returned while the write-back was held").isFalse();
                assertThat(got.flip()).isEqualTo(filled(BLOCK, 9));

                Thread writer = new Thread(() -> {
                    try {
                        d.write(2L * BLOCK + 4096, filled(4096, 5));
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "writer");
                threads.add(writer);
                writer.start();
                writer.join(300);
                assertThat(writer.isAlive()).as("a write to the block waits for its write-back").isTrue();
                origin.open();
                writer.join(10_000);
                cleaner.join(10_000);
                assertThat(writer.isAlive()).isFalse();
                assertThat(d.dirtyBlocks()).as("written after the write-back: dirty again").isEqualTo(1);
                ByteBuffer want = filled(BLOCK, 9);
                want.put(4096, filled(4096, 5), 0, 4096);
                d.read(2L * BLOCK, got.clear());
                assertThat(got.flip()).isEqualTo(want);
                ByteBuffer onOrigin = ByteBuffer.allocate(BLOCK);
                originData.read(2L * BLOCK, onOrigin);
                assertThat(onOrigin.flip()).as("the origin has what was written back").isEqualTo(filled(BLOCK, 9));
            } finally {
                origin.open();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                d.close();
            }
        });
    }

    @Test
    void aFlushDoesNotWaitForAPromotionsCopy() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> threads = new ArrayList<>();
            CacheDevice d = openManual();
            try {
                cache.arm(GatedDevice.Op.WRITE); // the promotion's copy into the cache will hold there
                Thread promoter = new Thread(() -> {
                    try {
                        while (cache.entered.getCount() > 0) {
                            d.runBackgroundWork(1);
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "promoter");
                threads.add(promoter);
                promoter.start();
                heat(d, cache.entered, threads);
                assertThat(cache.entered.await(20, TimeUnit.SECONDS)).as("a promotion is copying").isTrue();
                assertThat(flushReturns(d, threads)).as("the flush returned while the copy was held").isTrue();
                cache.open();
                promoter.join();
                assertThat(d.promotions()).isEqualTo(1);
                d.flush();
                assertThat(d.residency()).isEqualTo(1);
            } finally {
                cache.open();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                d.close();
            }
        });
    }

    @Test
    void aFlushDoesNotWaitForAWholeBlockWriteBeingPromoted() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> threads = new ArrayList<>();
            CacheDevice d = openManual();
            try {
                cache.arm(GatedDevice.Op.WRITE);
                Thread writer = new Thread(() -> {
                    try {
                        d.write(3L * BLOCK, filled(BLOCK, 7)); // promoted by the write: its data goes to the cache
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "writer");
                threads.add(writer);
                writer.start();
                assertThat(cache.entered.await(10, TimeUnit.SECONDS)).as("the write reached the cache").isTrue();
                assertThat(flushReturns(d, threads)).as("the flush returned while the write was held").isTrue();
                cache.open();
                writer.join();
                assertThat(d.promotions()).isEqualTo(1);
                assertThat(d.dirtyBlocks()).isEqualTo(1);
                ByteBuffer got = ByteBuffer.allocate(BLOCK);
                d.read(3L * BLOCK, got);
                assertThat(got.flip()).isEqualTo(filled(BLOCK, 7));
            } finally {
                cache.open();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                d.close();
            }
        });
    }

    @Test
    void aDemotedCacheBlockIsFreedOnlyAfterTheReadsThatFoundItMappedAreDone() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> threads = new ArrayList<>();
            CacheDevice d = openManual();
            try {
                warm(d);
                originData.write(40L * BLOCK, filled(BLOCK, 0xEE)); // what a later promotion would copy in
                origin.arm(GatedDevice.Op.FLUSH);
                Thread demoter = new Thread(() -> {
                    try {
                        while (origin.entered.getCount() > 0) {
                            d.runBackgroundWork(1);
                        }
                        d.runBackgroundWork(0);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, "demoter");
                threads.add(demoter);
                demoter.start();
                heat(d, origin.entered, threads);
                assertThat(origin.entered.await(20, TimeUnit.SECONDS)).as("a demotion is committing").isTrue();
                ByteBuffer small = ByteBuffer.allocate(4096);
                // a read of every cached block, the one being demoted among them, held at the cache device
                cache.armAll(GatedDevice.Op.READ);
                ByteBuffer[] got = new ByteBuffer[CACHE_BLOCKS];
                for (int b = 0; b < CACHE_BLOCKS; b++) {
                    int me = b;
                    got[b] = ByteBuffer.allocate(4096);
                    Thread reader = new Thread(() -> {
                        try {
                            d.read((long) me * BLOCK, got[me]);
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e);
                        }
                    }, "reader-" + b);
                    threads.add(reader);
                    reader.start();
                }
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (threads.stream().filter(t -> t.getName().startsWith("reader-"))
                        .anyMatch(t -> t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING)
                        && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                // the demotion's commit completes; its cache block must stay the demoted block's while a read of it
                // is in flight, so the promotion that wanted room cannot have it yet
                origin.open();
                deadline = System.nanoTime() + 10_000_000_000L;
                while (demoter.isAlive() && demoter.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                long promotions = d.promotions();
                for (int i = 0; i < 20 && d.promotions() == promotions; i++) {
                    d.read(40L * BLOCK, small.clear()); // a miss (once promoted, a read would wait at the gate)
                    d.runBackgroundWork(1);
                }
                cache.open();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                for (int b = 0; b < CACHE_BLOCKS; b++) {
                    assertThat(got[b].flip()).as("block " + b + " read back").isEqualTo(filled(4096, 1 + b));
                }
                assertThat(d.demotions()).isEqualTo(1);
            } finally {
                origin.open();
                cache.open();
                for (Thread t : threads) {
                    t.join(10_000);
                }
                d.close();
            }
        });
    }
}
