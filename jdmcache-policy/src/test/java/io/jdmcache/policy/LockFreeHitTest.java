package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

/**
 * The lookups that take no lock (a block hit again in its cache period; dirtying a dirty block) read the
 * mapping table while other threads change it: a block whose mapping never changes must always be found at
 * its cache block, and a dirty one always reported dirty, however the chains around it churn.
 */
class LockFreeHitTest {
    static final int STABLE = 256;
    static final int CACHE = 512;
    static final long ORIGIN = 1 << 20;

    @Test
    void stableMappingsAreAlwaysFoundWhileOthersChurn() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            CachePolicy p = Policies.create("smq", CACHE, ORIGIN, 128, () -> 0L);
            for (int c = 0; c < STABLE; c++) {
                p.loadMapping(c * 7L, c, c % 2 == 0, 10, true);
                assertEquals(c, p.lookup(c * 7L, IoDirection.READ, false)); // the hit bit: later hits take no lock
            }
            AtomicBoolean stop = new AtomicBoolean();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                long seed = t;
                threads.add(new Thread(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    try {
                        for (int i = 0; i < 300_000; i++) {
                            int c = r.nextInt(STABLE);
                            assertEquals(c, p.lookup(c * 7L, IoDirection.READ, false), "stable block " + c);
                            if (c % 2 == 0) {
                                assertTrue(p.trySetDirty(c), "dirty block " + c);
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }, "reader-" + t));
            }
            // promotions by whole-block writes into the free blocks, and invalidations: the table's chains churn
            threads.add(new Thread(() -> {
                SplittableRandom r = new SplittableRandom(99);
                try {
                    while (!stop.get()) {
                        long ob = 1_000_000L + r.nextInt(40_000);
                        LookupResult lr = p.lookupWithWork(ob, IoDirection.WRITE, true);
                        if (lr instanceof LookupResult.Promote pr) {
                            p.completeBackgroundWork(pr.work(), true);
                        }
                        if (p.residency() > CACHE - 8) {
                            for (int c = STABLE; c < CACHE; c++) {
                                p.tryInvalidateMapping(c);
                            }
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "churn"));
            threads.forEach(Thread::start);
            for (Thread t : threads.subList(0, 3)) {
                t.join();
            }
            stop.set(true);
            threads.get(3).join();
            assertTrue(failures.isEmpty(), () -> "failures: " + failures);
        });
    }
}
