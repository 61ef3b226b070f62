package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Many I/O threads, one migration worker and one ticker on a single policy, as the engine runs it. The policy's
 * internal lock must keep its lists and tables intact: no exception in any thread, and afterwards the mapping
 * table is consistent and every promotion the worker completed is still accounted for.
 */
class ConcurrencyTest {
    private static final int CACHE = 512;
    private static final int ORIGIN = 8192;

    @ParameterizedTest
    @ValueSource(strings = {"smq", "wtlfu"})
    void ioThreadsWorkerAndTickerShareOnePolicy(String name) throws InterruptedException {
        AtomicLong time = new AtomicLong(1_000_000_000L);
        CachePolicy p = Policies.create(name, CACHE, ORIGIN, 128, time::get);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch ioDone = new CountDownLatch(4);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            long seed = t;
            threads.add(new Thread(() -> {
                try {
                    SplittableRandom r = new SplittableRandom(seed);
                    for (int i = 0; i < 200_000; i++) {
                        long ob = r.nextInt(8) == 0 ? r.nextInt(ORIGIN) : r.nextInt(CACHE);
                        int c = p.lookup(ob, r.nextInt(4) == 0 ? IoDirection.WRITE : IoDirection.READ, r.nextInt(50) == 0);
                        if (c >= 0) {
                            assertTrue(c < CACHE);
                            p.getHint(c);
                            p.lookupMapping(ob);
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                } finally {
                    ioDone.countDown();
                }
            }, "io-" + t));
        }
        AtomicLong promoted = new AtomicLong();
        AtomicLong demoted = new AtomicLong();
        threads.add(new Thread(() -> {
            try {
                SplittableRandom r = new SplittableRandom(99);
                while (true) {
                    boolean ioRunning = ioDone.getCount() > 0;
                    Optional<PolicyWork> w = p.getBackgroundWork(r.nextInt(10) == 0);
                    if (w.isEmpty()) {
                        if (!ioRunning) {
                            break; // drained after the I/O stopped
                        }
                        Thread.onSpinWait();
                        continue;
                    }
                    PolicyWork work = w.get();
                    boolean ok = r.nextInt(20) != 0;
                    if (work.op() == WorkOp.WRITEBACK && ok) {
                        p.clearDirty(work.cblock());
                    }
                    p.completeBackgroundWork(work, ok);
                    if (ok && work.op() == WorkOp.PROMOTE) {
                        promoted.incrementAndGet();
                        if (r.nextBoolean()) {
                            p.setDirty(work.cblock()); // only the worker writes: it knows no demotion of it is issued
                        }
                    } else if (ok && work.op() == WorkOp.DEMOTE) {
                        demoted.incrementAndGet();
                    }
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        }, "worker"));
        threads.add(new Thread(() -> {
            try {
                while (ioDone.getCount() > 0) {
                    time.addAndGet(50_000_000L);
                    p.tick(false);
                    Thread.onSpinWait();
                }
            } catch (Throwable e) {
                failures.add(e);
            }
        }, "ticker"));
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
        });
        if (!failures.isEmpty()) {
            throw new AssertionError("a thread failed", failures.peek());
        }
        assertTrue(promoted.get() >= CACHE / 2, "the worker promoted concurrently with the lookups: " + promoted.get());
        Set<Long> seen = new HashSet<>();
        int mapped = 0;
        for (int c = p.nextMapped(0); c >= 0; c = p.nextMapped(c + 1)) {
            long ob = p.oblockOf(c);
            assertTrue(seen.add(ob), "origin block mapped twice: " + ob);
            assertEquals(c, p.lookupMapping(ob));
            mapped++;
        }
        assertEquals(promoted.get() - demoted.get(), mapped, "every completed promotion minus demotions is mapped");
        assertTrue(p.residency() >= mapped && p.residency() <= CACHE);
    }
}
