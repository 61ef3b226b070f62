package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;
import net.jqwik.api.Tuple.Tuple2;
import net.jqwik.api.constraints.IntRange;

/**
 * Model-based test: random sequences of engine calls against a plain model of the mapping state (which
 * cache block holds which origin block, dirty or clean, and the work the engine holds). After every step
 * the policy must agree with the model; every issued work item must make sense for the model's state.
 */
class PolicyModelTest {

    /** One engine call; the int fields are reduced modulo whatever they index at run time. */
    sealed interface Action permits Lookup, GetWork, Complete, SetDirty, ClearDirty, Invalidate, Load, Tick,
            CompleteStale, Migrations, Drain, Burst {
    }

    record Lookup(int oblock, boolean write, boolean fastCopy, boolean withWork) implements Action {
    }

    record GetWork(boolean idle) implements Action {
    }

    record Complete(int which, boolean success) implements Action {
    }

    record SetDirty(int which) implements Action {
    }

    record ClearDirty(int which) implements Action {
    }

    record Invalidate(int which) implements Action {
    }

    record Load(int cblock, int oblock, boolean dirty, int hint, boolean hintValid) implements Action {
    }

    record Tick(long advanceMillis) implements Action {
    }

    record CompleteStale(int which) implements Action {
    }

    record Migrations(boolean allow) implements Action {
    }

    /** A busy spell: 32 reads and writes over a few origin blocks, then the worker catches up. */
    record Burst(long seed) implements Action {
    }

    /** The migration worker catching up: take and complete work until there is none (at most 64 items). */
    record Drain(boolean idle, boolean success) implements Action {
    }

    @Provide
    Arbitrary<Action> action() {
        Arbitrary<Integer> any = Arbitraries.integers().between(0, 1 << 20);
        Arbitrary<Boolean> bool = Arbitraries.of(true, false);
        return Arbitraries.frequencyOf(List.of(
                weighted(40, Combinators.combine(any, Arbitraries.of(true, false, false), bool,
                        Arbitraries.of(true, false, false, false)).as(Lookup::new)),
                weighted(12, bool.map(GetWork::new)),
                weighted(14, Combinators.combine(any, Arbitraries.of(true, true, true, false)).as(Complete::new)),
                weighted(8, any.map(SetDirty::new)),
                weighted(4, any.map(ClearDirty::new)),
                weighted(2, any.map(Invalidate::new)),
                weighted(6, Combinators.combine(any, any, bool, Arbitraries.integers().between(-3, 80), bool)
                        .as(Load::new)),
                weighted(10, Arbitraries.of(0L, 10L, 1_100L, 1_100L, 11_000L, 61_000L, 61_000L, 61_000L).map(Tick::new)),
                weighted(1, any.map(CompleteStale::new)),
                weighted(1, Arbitraries.of(true, true, false).map(Migrations::new)),
                weighted(4, Combinators.combine(bool, Arbitraries.of(true, true, true, false)).as(Drain::new)),
                weighted(4, Arbitraries.longs().map(Burst::new))));
    }

    @Provide
    Arbitrary<List<Action>> actions() {
        return action().list().ofMinSize(20).ofMaxSize(500);
    }

    private static Tuple2<Integer, Arbitrary<Action>> weighted(int weight, Arbitrary<? extends Action> a) {
        return Tuple.of(weight, a.map(x -> (Action) x));
    }

    @Property(tries = 1000)
    void policiesAgreeWithTheModel(@ForAll("actions") List<Action> actions,
                               @ForAll @IntRange(min = 1, max = 24) int cacheBlocks,
                               @ForAll @IntRange(min = 1, max = 200) int originBlocks,
                               @ForAll("names") String name) {
        new Run(name, cacheBlocks, originBlocks).run(actions);
        Statistics.label("issued work").coverage(c -> {
            // smq churns slowly (demotions only from the lower half of the levels), so these are modest
            c.check(WorkOp.PROMOTE).count(n -> n > 1000);
            c.check(WorkOp.DEMOTE).count(n -> n > 150);
            c.check(WorkOp.WRITEBACK).count(n -> n > 3000);
        });
    }

    @Provide
    Arbitrary<String> names() {
        return Arbitraries.of("smq", "mq", "default", "cleaner", "wtlfu", "wtlfu");
    }

    /** One run: the policy, the model and the engine's view of issued work. */
    static final class Run {
        final String name;
        final int cacheBlocks;
        final int originBlocks;
        final FakeClock clock = new FakeClock();
        final CachePolicy policy;
        final Map<Integer, Long> mapped = new HashMap<>();
        final Set<Integer> dirty = new HashSet<>();
        final List<PolicyWork> issued = new ArrayList<>();
        final List<PolicyWork> completed = new ArrayList<>();
        boolean migrationsAllowed;

        Run(String name, int cacheBlocks, int originBlocks) {
            this.name = name;
            this.cacheBlocks = cacheBlocks;
            this.originBlocks = originBlocks;
            this.policy = Policies.create(name, cacheBlocks, originBlocks, 128, clock);
            this.migrationsAllowed = !name.equals("cleaner");
        }

        void run(List<Action> actions) {
            for (Action a : actions) {
                step(a);
                checkAgreement();
            }
            drainAndCheckHints();
        }

        void step(Action a) {
            if (a instanceof Lookup l) {
                lookup(l);
            } else if (a instanceof GetWork g) {
                policy.getBackgroundWork(g.idle()).ifPresent(this::issuedWork);
            } else if (a instanceof Complete c) {
                complete(c);
            } else if (a instanceof SetDirty s) {
                setDirty(s);
            } else if (a instanceof ClearDirty c) {
                clearDirty(c);
            } else if (a instanceof Invalidate i) {
                invalidate(i);
            } else if (a instanceof Load l) {
                load(l);
            } else if (a instanceof Tick t) {
                clock.advanceMillis(t.advanceMillis());
                policy.tick(true);
            } else if (a instanceof CompleteStale s) {
                completeStale(s);
            } else if (a instanceof Drain d) {
                for (int i = 0; i < 64; i++) {
                    Optional<PolicyWork> w = policy.getBackgroundWork(d.idle());
                    if (w.isEmpty()) {
                        break;
                    }
                    issuedWork(w.get());
                    complete(new Complete(issued.size() - 1, d.success()));
                }
            } else if (a instanceof Burst b) {
                java.util.Random r = new java.util.Random(b.seed());
                int base = r.nextInt(originBlocks);
                int span = 1 + r.nextInt(Math.min(originBlocks, 3 * cacheBlocks));
                for (int i = 0; i < 32; i++) {
                    lookup(new Lookup((base + r.nextInt(span)) % originBlocks, r.nextInt(4) == 0, false, false));
                }
                step(new Drain(false, true));
            } else if (a instanceof Migrations m) {
                policy.allowMigrations(m.allow());
                migrationsAllowed = m.allow() && !name.equals("cleaner");
            } else {
                fail("unknown action " + a);
            }
        }

        void lookup(Lookup l) {
            long ob = l.oblock() % originBlocks;
            IoDirection dir = l.write() ? IoDirection.WRITE : IoDirection.READ;
            Integer expected = cblockOf(ob);
            int before = policy.residency();
            if (l.withWork()) {
                LookupResult r = policy.lookupWithWork(ob, dir, l.fastCopy());
                if (expected != null) {
                    assertEquals(new LookupResult.Hit(expected), r, "hit on " + ob);
                } else if (r instanceof LookupResult.Promote p) {
                    assertTrue(migrationsAllowed, "promotion while migrations are off: " + p);
                    assertEquals(ob, p.work().oblock());
                    assertEquals(before + 1, policy.residency(), "a promotion reserves one block");
                    issuedWork(p.work());
                } else {
                    assertTrue(r instanceof LookupResult.Miss, "miss expected on " + ob + ": " + r);
                }
            } else {
                int r = policy.lookup(ob, dir, l.fastCopy());
                if (expected != null) {
                    assertEquals(expected.intValue(), r, "hit on " + ob);
                } else {
                    assertTrue(r == CachePolicy.MISS || r == CachePolicy.MISS_WORK_QUEUED, "miss on " + ob + ": " + r);
                    if (r == CachePolicy.MISS) {
                        assertEquals(before, policy.residency(), "a plain miss reserves nothing");
                    }
                }
            }
            if (expected != null && l.write()) {
                // writeback mode: a write hit dirties the block; the engine keeps writes out of blocks it is migrating
                PolicyWork w = issuedFor(expected);
                if (w == null) {
                    policy.setDirty(expected);
                    dirty.add(expected);
                }
            }
        }

        void issuedWork(PolicyWork w) {
            int c = w.cblock();
            for (PolicyWork other : issued) {
                assertNotEquals(other.oblock(), w.oblock(), "two work items for one origin block: " + other + ", " + w);
                assertNotEquals(other.cblock(), w.cblock(), "two work items for one cache block: " + other + ", " + w);
            }
            switch (w.op()) {
                case PROMOTE -> {
                    // (smq may issue a promotion queued before migrations were turned off; the cleaner never promotes)
                    assertFalse(name.equals("cleaner"), "cleaner promoted: " + w);
                    assertFalse(mapped.containsKey(c), "promotion into mapped cache block: " + w);
                    assertEquals(null, cblockOf(w.oblock()), "promotion of an already mapped block: " + w);
                    assertEquals(-1L, policy.oblockOf(c), "a reserved block is not mapped");
                }
                case DEMOTE -> {
                    assertFalse(name.equals("cleaner"), "cleaner demoted: " + w);
                    assertEquals(w.oblock(), mapped.get(c), "demotion of a block that is not mapped so: " + w);
                    assertFalse(dirty.contains(c), "demotion of a dirty block: " + w);
                    assertFalse(policy.isDirty(c), "demotion of a dirty block: " + w);
                }
                case WRITEBACK -> {
                    assertEquals(w.oblock(), mapped.get(c), "write-back of a block that is not mapped so: " + w);
                    assertTrue(dirty.contains(c), "write-back of a clean block: " + w);
                }
            }
            issued.add(w);
            Statistics.label("issued work").collect(w.op());
        }

        void complete(Complete a) {
            if (issued.isEmpty()) {
                return;
            }
            PolicyWork w = issued.remove(a.which() % issued.size());
            boolean ok = a.success();
            int c = w.cblock();
            if (w.op() == WorkOp.WRITEBACK && ok) {
                policy.clearDirty(c);
                dirty.remove(c);
            }
            policy.completeBackgroundWork(w, ok);
            completed.add(w);
            if (w.op() == WorkOp.PROMOTE && ok) {
                mapped.put(c, w.oblock());
                if (isTinyLfu()) {
                    assertEquals(TinyLfuPolicy.WINDOW + 1, policy.getHint(c) >>> 4, "a promoted block enters the window");
                } else {
                    assertEquals(63, policy.getHint(c), "a promoted block enters at the top level");
                }
            } else if (w.op() == WorkOp.DEMOTE && ok) {
                mapped.remove(c);
                dirty.remove(c);
            }
        }

        void completeStale(CompleteStale a) {
            if (completed.isEmpty()) {
                PolicyWork fake = new PolicyWork(WorkOp.DEMOTE, a.which() % originBlocks, a.which() % cacheBlocks);
                if (!issued.contains(fake)) {
                    assertThrows(PolicyStateException.class, () -> policy.completeBackgroundWork(fake, true));
                }
                return;
            }
            PolicyWork w = completed.get(a.which() % completed.size());
            if (!issued.contains(w)) {
                assertThrows(PolicyStateException.class, () -> policy.completeBackgroundWork(w, true),
                        "completing twice: " + w);
            }
        }

        void setDirty(SetDirty a) {
            Integer c = pickMapped(a.which());
            if (c == null) {
                int free = a.which() % cacheBlocks;
                if (!mapped.containsKey(free)) {
                    assertThrows(PolicyStateException.class, () -> policy.setDirty(free));
                }
                return;
            }
            PolicyWork w = issuedFor(c);
            if (w != null && w.op() == WorkOp.DEMOTE) {
                assertThrows(PolicyStateException.class, () -> policy.setDirty(c), "dirtying a block being demoted");
                assertFalse(policy.trySetDirty(c), "dirtying a block being demoted, asked without an exception");
                return;
            }
            if (w != null) {
                return; // the engine keeps writes out of a block while it is being written back or promoted
            }
            if ((a.which() & 1) == 0) {
                policy.setDirty(c);
            } else {
                assertTrue(policy.trySetDirty(c));
            }
            dirty.add(c);
        }

        void clearDirty(ClearDirty a) {
            Integer c = pickMapped(a.which());
            if (c == null || issuedFor(c) != null) {
                return;
            }
            policy.clearDirty(c);
            dirty.remove(c);
        }

        void invalidate(Invalidate a) {
            int c = a.which() % cacheBlocks;
            PolicyWork w = issuedFor(c);
            if (w != null) {
                if (mapped.containsKey(c)) {
                    assertThrows(PolicyStateException.class, () -> policy.invalidateMapping(c));
                    assertEquals(Invalidation.BUSY, policy.tryInvalidateMapping(c));
                } else {
                    assertFalse(policy.invalidateMapping(c), "a reserved block is not mapped");
                }
                return;
            }
            assertEquals(mapped.containsKey(c), policy.invalidateMapping(c), "invalidate " + c);
            mapped.remove(c);
            dirty.remove(c);
        }

        void load(Load a) {
            int c = a.cblock() % cacheBlocks;
            long ob = a.oblock() % originBlocks;
            boolean cInUse = mapped.containsKey(c) || issuedFor(c) != null;
            boolean obInUse = cblockOf(ob) != null || issued.stream().anyMatch(w -> w.oblock() == ob);
            int before = policy.residency();
            if (cInUse || obInUse) {
                assertThrows(PolicyStateException.class, () -> policy.loadMapping(ob, c, a.dirty(), a.hint(), a.hintValid()));
                assertEquals(before, policy.residency());
                return;
            }
            try {
                policy.loadMapping(ob, c, a.dirty(), a.hint(), a.hintValid());
            } catch (PolicyStateException e) {
                // only a promotion queued but not issued (invisible to the engine) may hold the block
                assertTrue(before > mapped.size() + issuedPromotions(), "refused load of a free block: " + e.getMessage());
                assertEquals(before, policy.residency());
                return;
            }
            mapped.put(c, ob);
            if (a.dirty()) {
                dirty.add(c);
            }
            int hint = policy.getHint(c);
            if (isTinyLfu()) {
                boolean usable = a.hintValid() && a.hint() >= 0 && a.hint() < 64 && a.hint() >>> 4 != 0;
                assertEquals(usable ? a.hint() >>> 4 : TinyLfuPolicy.PROBATION + 1, hint >>> 4, "hint places the entry");
                if (usable) {
                    assertTrue((hint & 15) >= (a.hint() & 15), "a loaded hint keeps at least its frequency");
                }
            } else if (a.hintValid()) {
                assertEquals((int) Math.min(Integer.toUnsignedLong(a.hint()), 63), hint, "hint places the entry");
            } else {
                assertEquals(SmqPolicy.pseudoRandomLevel(c), hint);
            }
        }

        Integer pickMapped(int which) {
            if (mapped.isEmpty()) {
                return null;
            }
            List<Integer> keys = new ArrayList<>(mapped.keySet());
            keys.sort(null);
            return keys.get(which % keys.size());
        }

        PolicyWork issuedFor(int c) {
            for (PolicyWork w : issued) {
                if (w.cblock() == c) {
                    return w;
                }
            }
            return null;
        }

        Integer cblockOf(long ob) {
            for (Map.Entry<Integer, Long> e : mapped.entrySet()) {
                if (e.getValue() == ob) {
                    return e.getKey();
                }
            }
            return null;
        }

        boolean isTinyLfu() {
            return name.equals("wtlfu");
        }

        long issuedPromotions() {
            return issued.stream().filter(w -> w.op() == WorkOp.PROMOTE).count();
        }

        void checkAgreement() {
            Set<Long> seen = new HashSet<>();
            int nDirty = 0;
            for (int c = 0; c < cacheBlocks; c++) {
                Long ob = mapped.get(c);
                assertEquals(ob == null ? -1L : ob, policy.oblockOf(c), "oblockOf(" + c + ")");
                assertEquals(dirty.contains(c), policy.isDirty(c), "isDirty(" + c + ")");
                int hint = policy.getHint(c);
                assertTrue(hint >= 0 && hint < 64, "hint " + hint);
                if (ob != null) {
                    assertTrue(seen.add(ob), "origin block mapped twice: " + ob);
                    assertEquals(c, policy.lookupMapping(ob), "lookupMapping(" + ob + ")");
                    if (dirty.contains(c)) {
                        nDirty++;
                    }
                } else {
                    assertEquals(0, hint, "hint of an unmapped block");
                }
            }
            for (PolicyWork w : issued) {
                if (w.op() == WorkOp.PROMOTE) {
                    assertEquals(-1, policy.lookupMapping(w.oblock()), "a promotion in flight is not mapped yet");
                }
            }
            assertEquals(nDirty, policy.dirtyCount(), "dirty count");
            int residency = policy.residency();
            assertTrue(residency <= cacheBlocks, "residency " + residency + " > " + cacheBlocks);
            assertTrue(residency >= mapped.size() + issuedPromotions(), "residency " + residency + " too small");
            List<Integer> cursor = new ArrayList<>();
            for (int c = policy.nextMapped(0); c >= 0; c = policy.nextMapped(c + 1)) {
                cursor.add(c);
            }
            List<Integer> keys = new ArrayList<>(mapped.keySet());
            keys.sort(null);
            assertEquals(keys, cursor, "mapped cursor");
        }

        /** Finishes the engine's work, then checks that hints and mappings survive a reload. */
        void drainAndCheckHints() {
            while (!issued.isEmpty()) {
                complete(new Complete(0, true));
            }
            checkAgreement();
            List<long[]> saved = new ArrayList<>();
            policy.forEachMapping((c, ob, d, hint) -> saved.add(new long[] {c, ob, d ? 1 : 0, hint}));
            assertEquals(mapped.size(), saved.size());
            CachePolicy reloaded = Policies.create(name, cacheBlocks, originBlocks, 128, new FakeClock());
            for (long[] m : saved) {
                assertEquals(policy.getHint((int) m[0]), (int) m[3]);
                reloaded.loadMapping(m[1], (int) m[0], m[2] == 1, (int) m[3], true);
            }
            List<long[]> again = new ArrayList<>();
            reloaded.forEachMapping((c, ob, d, hint) -> again.add(new long[] {c, ob, d ? 1 : 0, hint}));
            assertEquals(saved.size(), again.size());
            for (int i = 0; i < saved.size(); i++) {
                long[] s = saved.get(i);
                long[] r = again.get(i);
                if (isTinyLfu()) {
                    // the region comes back exactly, the frequency at least (the sketch may count collisions too)
                    assertEquals(List.of(s[0], s[1], s[2], s[3] >>> 4), List.of(r[0], r[1], r[2], r[3] >>> 4),
                            "reloaded mapping");
                    assertTrue((r[3] & 15) >= (s[3] & 15), "reloaded frequency");
                } else {
                    assertEquals(List.of(s[0], s[1], s[2], s[3]), List.of(r[0], r[1], r[2], r[3]), "reloaded mapping");
                }
            }
            assertEquals(mapped.size(), reloaded.residency());
            assertEquals(dirty.size(), reloaded.dirtyCount());
        }
    }
}
