package io.jdmcache.sim.policy;

/**
 * LIRS, Low Inter-reference Recency Set (Jiang and Zhang, "LIRS: An Efficient Low Inter-reference Recency Set
 * Replacement Policy to Improve Buffer Cache Performance", SIGMETRICS'02, section 3). Blocks are LIR (low
 * inter-reference recency: kept) or HIR; {@code Llirs = c - Lhirs} LIR blocks, and {@code Lhirs} = 1% of the
 * cache (at least 1) for resident HIR blocks. Stack S holds LIR blocks and recently seen HIR blocks (resident or
 * not) in recency order, its bottom always LIR (stack pruning); queue Q holds the resident HIR blocks, the
 * eviction candidates. A HIR block accessed again while in S has a smaller reuse distance than the oldest LIR
 * block, so they swap status.
 *
 * <p>As implementations do, S keeps at most {@code 2c} non-resident HIR blocks (the oldest forgotten first); a
 * discarded block is forgotten altogether (a discarded LIR block leaves a free LIR place, refilled by the next
 * new block).
 */
final class Lirs extends OnlineCache {
    private static final int S = 0;
    private static final int Q = 0;
    private static final int NR = 1;
    private static final byte NONE = 0;
    private static final byte LIR = 1;
    private static final byte HIR = 2;
    private static final byte HIR_GHOST = 3;

    private final BlockLists stack;
    private final BlockLists queues;
    private final byte[] state;
    private final int lirTarget;
    private final int maxGhosts;
    private int lirCount;
    private int resident;

    Lirs(int capacity, int blocks) {
        super(capacity, blocks);
        stack = new BlockLists(blocks, 1);
        queues = new BlockLists(blocks, 2);
        state = new byte[blocks];
        int hir = Math.max(1, capacity / 100);
        lirTarget = capacity <= 1 ? capacity : capacity - hir;
        maxGhosts = 2 * capacity;
    }

    @Override
    public boolean access(int x, boolean write) {
        byte s = state[x];
        if (s == LIR) {
            boolean bottom = stack.tail(S) == x;
            stack.moveToHead(S, x);
            if (bottom) {
                prune();
            }
            return true;
        }
        if (s == HIR) {
            if (lirCount < lirTarget) {
                // a free LIR place (only after discards): the block takes it
                queues.remove(x);
                state[x] = LIR;
                lirCount++;
                stack.moveToHead(S, x);
            } else if (stack.in(x, S)) {
                queues.remove(x);
                state[x] = LIR;
                lirCount++;
                stack.moveToHead(S, x);
                demoteBottomLir();
            } else {
                stack.pushHead(S, x);
                queues.moveToHead(Q, x);
            }
            return true;
        }
        if (capacity == 0) {
            return false;
        }
        // a miss: make room by evicting the oldest resident HIR block (or, with none, shrinking the LIR set)
        if (resident == capacity) {
            evict();
        }
        resident++;
        fill();
        if (lirCount < lirTarget) {
            if (s == HIR_GHOST) {
                queues.remove(x);
            }
            state[x] = LIR;
            lirCount++;
            stack.moveToHead(S, x);
            return false;
        }
        if (s == HIR_GHOST) {
            queues.remove(x);
            state[x] = LIR;
            lirCount++;
            stack.moveToHead(S, x);
            demoteBottomLir();
        } else {
            state[x] = HIR;
            stack.pushHead(S, x);
            queues.pushHead(Q, x);
        }
        return false;
    }

    private void evict() {
        int v = queues.popTail(Q);
        if (v == BlockLists.NONE) {
            // no resident HIR block (only after discards or with a 1-block cache): the bottom LIR block goes
            v = stack.tail(S);
            stack.remove(v);
            state[v] = NONE;
            lirCount--;
            resident--;
            prune();
            return;
        }
        resident--;
        if (stack.in(v, S)) {
            state[v] = HIR_GHOST;
            queues.pushHead(NR, v);
            if (queues.size(NR) > maxGhosts) {
                int old = queues.popTail(NR);
                stack.remove(old);
                state[old] = NONE;
                prune();
            }
        } else {
            state[v] = NONE;
        }
    }

    /** The LIR block at the bottom of S becomes a resident HIR block at the end of Q; S is pruned. */
    private void demoteBottomLir() {
        int b = stack.tail(S);
        if (b == BlockLists.NONE || state[b] != LIR) {
            return;
        }
        stack.remove(b);
        state[b] = HIR;
        lirCount--;
        queues.pushHead(Q, b);
        prune();
    }

    /** Removes HIR blocks from the bottom of S until a LIR block is there; non-resident ones are forgotten. */
    private void prune() {
        while (true) {
            int b = stack.tail(S);
            if (b == BlockLists.NONE || state[b] == LIR) {
                return;
            }
            stack.remove(b);
            if (state[b] == HIR_GHOST) {
                queues.remove(b);
                state[b] = NONE;
            }
        }
    }

    @Override
    public void discard(int b) {
        byte s = state[b];
        if (s == NONE) {
            return;
        }
        stack.remove(b);
        queues.remove(b);
        state[b] = NONE;
        if (s == LIR) {
            lirCount--;
        }
        if (s == LIR || s == HIR) {
            resident--;
        }
        prune();
    }

    @Override
    public boolean contains(int b) {
        return state[b] == LIR || state[b] == HIR;
    }

    @Override
    public int size() {
        return resident;
    }

    int lirCount() {
        return lirCount;
    }

    int lirTarget() {
        return lirTarget;
    }

    /** Whether the bottom of S is a LIR block (or S is empty): the pruning invariant. */
    boolean stackBottomIsLir() {
        int b = stack.tail(S);
        return b == BlockLists.NONE || state[b] == LIR;
    }
}
