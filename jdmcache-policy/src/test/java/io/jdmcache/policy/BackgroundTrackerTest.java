package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The tracker against a LinkedHashMap model: capacity, one item per origin block, FIFO issue, cancel, complete. */
class BackgroundTrackerTest {

    /** An item of the model. */
    private static final class Item {
        final WorkOp op;
        final int cblock;
        boolean issued;

        Item(WorkOp op, int cblock, boolean issued) {
            this.op = op;
            this.cblock = cblock;
            this.issued = issued;
        }
    }

    @Property(tries = 300)
    void agreesWithAModel(@ForAll long seed, @ForAll @IntRange(min = 1, max = 24) int capacity) {
        SplittableRandom r = new SplittableRandom(seed);
        BackgroundTracker t = new BackgroundTracker(capacity);
        Map<Long, Item> model = new LinkedHashMap<>();
        List<Long> queueOrder = new ArrayList<>();
        long[] keys = new long[40];
        for (int i = 0; i < keys.length; i++) {
            // colliding shapes: small numbers, multiples of a power of two, huge values
            keys[i] = switch (i % 3) {
                case 0 -> i;
                case 1 -> (long) i << 20;
                default -> Long.MAX_VALUE - i;
            };
        }
        for (int step = 0; step < 2000; step++) {
            long ob = keys[r.nextInt(keys.length)];
            int kind = r.nextInt(10);
            if (kind < 4) {
                WorkOp op = WorkOp.values()[r.nextInt(3)];
                int cb = r.nextInt(1000);
                boolean now = r.nextInt(4) == 0;
                int slot = t.add(op, ob, cb, now);
                boolean accepted = model.size() < capacity && !model.containsKey(ob);
                assertEquals(accepted, slot != BackgroundTracker.NONE, "add " + ob);
                if (accepted) {
                    model.put(ob, new Item(op, cb, now));
                    if (!now) {
                        queueOrder.add(ob);
                    }
                }
            } else if (kind < 6) {
                int slot = t.issue();
                if (queueOrder.isEmpty()) {
                    assertEquals(BackgroundTracker.NONE, slot);
                } else {
                    long first = queueOrder.remove(0);
                    assertEquals(first, t.oblock(slot), "issued in queue order");
                    Item it = model.get(first);
                    assertEquals(it.op, t.op(slot));
                    assertEquals(it.cblock, t.cblock(slot));
                    it.issued = true;
                }
            } else if (kind < 8) {
                Item it = model.get(ob);
                PolicyWork probe = it == null ? new PolicyWork(WorkOp.DEMOTE, ob, 1) : new PolicyWork(it.op, ob, it.cblock);
                int slot = t.findIssued(probe);
                if (it != null && it.issued) {
                    t.complete(slot);
                    model.remove(ob);
                } else {
                    assertEquals(BackgroundTracker.NONE, slot, "only issued work can be completed");
                }
            } else {
                Item it = model.get(ob);
                WorkOp cancelled = t.cancelQueued(ob);
                if (it != null && !it.issued) {
                    assertEquals(it.op, cancelled);
                    model.remove(ob);
                    queueOrder.remove(ob);
                } else {
                    assertNull(cancelled, "only queued work can be withdrawn");
                }
            }
            assertEquals(model.size(), t.inFlight());
            assertEquals(model.size() == capacity, t.isFull());
            for (WorkOp op : WorkOp.values()) {
                assertEquals(model.values().stream().filter(i -> i.op == op).count(), t.pending(op), "pending " + op);
            }
            for (long k : keys) {
                Item it = model.get(k);
                assertEquals(it != null, t.contains(k));
                assertEquals(it == null ? null : it.op, t.opFor(k));
                assertEquals(it != null && it.issued, t.isIssued(k));
            }
        }
    }
}
