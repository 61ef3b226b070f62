package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

/**
 * Differential test: the array implementation and the naive object-based {@link ReferenceSmq} take the same
 * decisions (lookup results, work items in order, levels of every block, promote level) on random engine call
 * sequences. Catches link, index and bookkeeping mistakes that invariant checks cannot see.
 */
class SmqReferenceTest {

    @Property(tries = 200)
    void arraysAgreeWithTheReference(@ForAll long seed,
                                     @ForAll @IntRange(min = 1, max = 40) int cacheBlocks,
                                     @ForAll @IntRange(min = 1, max = 400) int originBlocks,
                                     @ForAll boolean cleaner) {
        SplittableRandom r = new SplittableRandom(seed);
        FakeClock clock = new FakeClock();
        SmqPolicy policy = (SmqPolicy) Policies.create(cleaner ? "cleaner" : "smq", cacheBlocks, originBlocks, 64, clock);
        ReferenceSmq ref = new ReferenceSmq(cacheBlocks, originBlocks, clock.nanoTime(), cleaner);
        List<PolicyWork> issued = new ArrayList<>();
        int span = 1 + r.nextInt(originBlocks);
        int base = r.nextInt(originBlocks);
        int steps = 300 + r.nextInt(700);
        for (int step = 0; step < steps; step++) {
            int kind = r.nextInt(100);
            String what;
            if (kind < 55) {
                long ob = (base + r.nextInt(span)) % originBlocks;
                boolean write = r.nextInt(3) == 0;
                boolean fast = r.nextInt(5) == 0;
                int got = policy.lookup(ob, write ? IoDirection.WRITE : IoDirection.READ, fast);
                int want = ref.lookup(ob, write, fast);
                assertEquals(want, got, "lookup " + ob + " at step " + step);
                if (got >= 0 && write && !hasIssued(issued, got)) {
                    policy.setDirty(got);
                    ref.setDirty(got, true);
                }
                what = got >= 0 ? "hit" : got == CachePolicy.MISS ? "miss" : "miss+work";
            } else if (kind < 70) {
                boolean idle = r.nextInt(4) == 0;
                Optional<PolicyWork> got = policy.getBackgroundWork(idle);
                ReferenceSmq.W want = ref.getWork(idle);
                assertEquals(want == null ? Optional.empty() : Optional.of(new PolicyWork(want.op(), want.oblock(), want.cblock())),
                        got, "work at step " + step);
                got.ifPresent(issued::add);
                what = got.map(w -> w.op().name()).orElse("no work");
            } else if (kind < 84) {
                if (issued.isEmpty()) {
                    continue;
                }
                PolicyWork w = issued.remove(r.nextInt(issued.size()));
                boolean ok = r.nextInt(5) != 0;
                if (w.op() == WorkOp.WRITEBACK && ok) {
                    policy.clearDirty(w.cblock());
                    ref.setDirty(w.cblock(), false);
                }
                policy.completeBackgroundWork(w, ok);
                ref.complete(new ReferenceSmq.W(w.op(), w.oblock(), w.cblock()), ok);
                what = "complete";
            } else if (kind < 90) {
                int c = r.nextInt(cacheBlocks);
                if (policy.oblockOf(c) < 0 || hasIssued(issued, c)) {
                    continue;
                }
                boolean d = r.nextBoolean();
                if (d) {
                    policy.setDirty(c);
                } else {
                    policy.clearDirty(c);
                }
                ref.setDirty(c, d);
                what = "dirty";
            } else if (kind < 92) {
                int c = r.nextInt(cacheBlocks);
                if (hasIssued(issued, c)) {
                    continue;
                }
                assertEquals(ref.invalidate(c), policy.invalidateMapping(c), "invalidate " + c);
                what = "invalidate";
            } else if (kind < 94) {
                int c = r.nextInt(cacheBlocks);
                long ob = r.nextInt(originBlocks);
                if (ref.cache[c].mapped || ref.cache[c].pending || ref.mapping.containsKey(ob) || ref.busy(ob)) {
                    continue;
                }
                boolean d = r.nextBoolean();
                int hint = r.nextInt(70);
                boolean valid = r.nextBoolean();
                policy.loadMapping(ob, c, d, hint, valid);
                ref.load(ob, c, d, hint, valid);
                what = "load";
            } else {
                long[] choices = {0, 5, 1_100, 1_100, 10_500, 61_000};
                clock.advanceMillis(choices[r.nextInt(choices.length)]);
                policy.tick(true);
                ref.tick(clock.nanoTime());
                what = "tick";
            }
            Statistics.label("step").collect(what);
            assertEquals(ref.allocated(), policy.residency(), "residency at step " + step);
            assertEquals(ref.promoteLevel, policy.promoteLevel(), "promote level at step " + step);
            for (int c = 0; c < cacheBlocks; c++) {
                assertEquals(ref.hint(c), policy.getHint(c), "level of cache block " + c + " at step " + step);
                assertEquals(ref.cache[c].mapped && ref.cache[c].dirty, policy.isDirty(c), "dirty " + c);
            }
        }
    }

    private static boolean hasIssued(List<PolicyWork> issued, int cblock) {
        for (PolicyWork w : issued) {
            if (w.cblock() == cblock) {
                return true;
            }
        }
        return false;
    }
}
