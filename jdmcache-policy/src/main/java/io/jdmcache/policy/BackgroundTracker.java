package io.jdmcache.policy;

import java.util.Arrays;

/**
 * The background work in flight: at most {@code maxWork} items, at most one per origin block. An item is
 * <em>queued</em> (waiting for the migration worker) or <em>issued</em> (handed to the engine, waiting for
 * completion). Queued items are issued in the order they were queued.
 *
 * <p>All state is in primitive slots: op, origin block, cache block and state per slot, a free-slot
 * stack, a ring of queued slots, and an open-addressing index from origin block to slot (linear probing,
 * backward-shift deletion). Every operation is O(1) expected.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class BackgroundTracker {
    static final int NONE = -1;

    private static final byte FREE = 0;
    private static final byte QUEUED = 1;
    private static final byte ISSUED = 2;
    private static final WorkOp[] OPS = WorkOp.values();
    private static final long GOLDEN_RATIO_64 = 0x61C8864680B583EBL;

    private final int maxWork;
    private final byte[] op;
    private final long[] oblock;
    private final int[] cblock;
    private final byte[] state;
    private final int[] freeSlots;
    private int freeTop;
    private final int[] ring;
    private int ringHead;
    private int ringCount;
    private final long[] indexKey;
    private final int[] indexSlot;
    private final int indexShift;
    private final int[] pending = new int[OPS.length];

    BackgroundTracker(int maxWork) {
        if (maxWork < 1) {
            throw new IllegalArgumentException("background work capacity must be positive: " + maxWork);
        }
        this.maxWork = maxWork;
        this.op = new byte[maxWork];
        this.oblock = new long[maxWork];
        this.cblock = new int[maxWork];
        this.state = new byte[maxWork];
        this.freeSlots = new int[maxWork];
        for (int i = 0; i < maxWork; i++) {
            freeSlots[i] = maxWork - 1 - i;
        }
        this.freeTop = maxWork;
        this.ring = new int[maxWork];
        int indexSize = Integer.highestOneBit(maxWork * 2 - 1) << 1;
        this.indexKey = new long[indexSize];
        this.indexSlot = new int[indexSize];
        Arrays.fill(indexSlot, NONE);
        this.indexShift = 64 - Integer.numberOfTrailingZeros(indexSize);
    }

    int capacity() {
        return maxWork;
    }

    boolean isFull() {
        return freeTop == 0;
    }

    /** Items in flight (queued or issued). */
    int inFlight() {
        return maxWork - freeTop;
    }

    int pending(WorkOp kind) {
        return pending[kind.ordinal()];
    }

    /** Whether any work for this origin block is in flight. */
    boolean contains(long oblock) {
        return find(oblock) != NONE;
    }

    /**
     * Adds an item, queued or (with {@code issueNow}) issued straight away.
     *
     * @return its slot, or {@link #NONE} if the tracker is full or already holds work for the origin block
     */
    int add(WorkOp kind, long ob, int cb, boolean issueNow) {
        if (freeTop == 0 || find(ob) != NONE) {
            return NONE;
        }
        int slot = freeSlots[--freeTop];
        op[slot] = (byte) kind.ordinal();
        oblock[slot] = ob;
        cblock[slot] = cb;
        indexInsert(ob, slot);
        pending[kind.ordinal()]++;
        if (issueNow) {
            state[slot] = ISSUED;
        } else {
            state[slot] = QUEUED;
            ring[(ringHead + ringCount) % maxWork] = slot;
            ringCount++;
        }
        return slot;
    }

    /** Issues the oldest queued item and returns its slot, or {@link #NONE} if nothing is queued. */
    int issue() {
        if (ringCount == 0) {
            return NONE;
        }
        int slot = ring[ringHead];
        ringHead = (ringHead + 1) % maxWork;
        ringCount--;
        state[slot] = ISSUED;
        return slot;
    }

    /** The slot of the issued item equal to {@code work}, or {@link #NONE}. */
    int findIssued(PolicyWork work) {
        int slot = find(work.oblock());
        if (slot == NONE || state[slot] != ISSUED || op[slot] != work.op().ordinal()
                || cblock[slot] != work.cblock()) {
            return NONE;
        }
        return slot;
    }

    /** The in-flight operation on this origin block, or {@code null}. */
    WorkOp opFor(long ob) {
        int slot = find(ob);
        return slot == NONE ? null : OPS[op[slot]];
    }

    /** Whether the item for this origin block (if any) has been issued. */
    boolean isIssued(long ob) {
        int slot = find(ob);
        return slot != NONE && state[slot] == ISSUED;
    }

    /**
     * Withdraws the queued (not yet issued) item for this origin block. O(queued items).
     *
     * @return the withdrawn operation, or {@code null} if no queued item exists for it
     */
    WorkOp cancelQueued(long ob) {
        int slot = find(ob);
        if (slot == NONE || state[slot] != QUEUED) {
            return null;
        }
        int kept = 0;
        for (int i = 0; i < ringCount; i++) {
            int s = ring[(ringHead + i) % maxWork];
            if (s != slot) {
                ring[(ringHead + kept) % maxWork] = s;
                kept++;
            }
        }
        ringCount = kept;
        WorkOp kind = OPS[op[slot]];
        release(slot);
        return kind;
    }

    /** Forgets an issued item. */
    void complete(int slot) {
        if (state[slot] != ISSUED) {
            throw new IllegalStateException("slot " + slot + " is not issued");
        }
        release(slot);
    }

    private void release(int slot) {
        indexRemove(oblock[slot]);
        pending[op[slot]]--;
        state[slot] = FREE;
        freeSlots[freeTop++] = slot;
    }

    WorkOp op(int slot) {
        return OPS[op[slot]];
    }

    long oblock(int slot) {
        return oblock[slot];
    }

    int cblock(int slot) {
        return cblock[slot];
    }

    PolicyWork work(int slot) {
        return new PolicyWork(op(slot), oblock[slot], cblock[slot]);
    }

    long bytes() {
        return op.length + 8L * oblock.length + 4L * cblock.length + state.length + 4L * freeSlots.length
                + 4L * ring.length + 8L * indexKey.length + 4L * indexSlot.length;
    }

    private int home(long key) {
        return (int) ((key * GOLDEN_RATIO_64) >>> indexShift);
    }

    private int find(long key) {
        int mask = indexSlot.length - 1;
        for (int i = home(key); indexSlot[i] != NONE; i = (i + 1) & mask) {
            if (indexKey[i] == key) {
                return indexSlot[i];
            }
        }
        return NONE;
    }

    private void indexInsert(long key, int slot) {
        int mask = indexSlot.length - 1;
        int i = home(key);
        while (indexSlot[i] != NONE) {
            i = (i + 1) & mask;
        }
        indexKey[i] = key;
        indexSlot[i] = slot;
    }

    private void indexRemove(long key) {
        int mask = indexSlot.length - 1;
        int i = home(key);
        while (true) {
            if (indexSlot[i] == NONE) {
                return;
            }
            if (indexKey[i] == key) {
                break;
            }
            i = (i + 1) & mask;
        }
        // backward-shift deletion: pull later members of the probe run into the hole
        int hole = i;
        for (int j = (hole + 1) & mask; indexSlot[j] != NONE; j = (j + 1) & mask) {
            int h = home(indexKey[j]);
            boolean movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
            if (movable) {
                indexKey[hole] = indexKey[j];
                indexSlot[hole] = indexSlot[j];
                hole = j;
            }
        }
        indexSlot[hole] = NONE;
    }
}
