package io.jdmcache.sim.policy;

import java.util.Arrays;

/**
 * A few doubly linked lists over block numbers in shared {@code int} arrays: each block is in at most one of the
 * lists at a time. Head is the most recent end by convention. O(1) per operation, no allocation.
 */
final class BlockLists {
    static final int NONE = -1;
    private static final byte NOWHERE = -1;

    private final int[] prev;
    private final int[] next;
    private final byte[] list;
    private final int[] head;
    private final int[] tail;
    private final int[] size;

    BlockLists(int blocks, int lists) {
        prev = new int[blocks];
        next = new int[blocks];
        list = new byte[blocks];
        Arrays.fill(list, NOWHERE);
        head = new int[lists];
        tail = new int[lists];
        size = new int[lists];
        Arrays.fill(head, NONE);
        Arrays.fill(tail, NONE);
    }

    /** The list holding the block, or -1. */
    int listOf(int b) {
        return list[b];
    }

    boolean in(int b, int l) {
        return list[b] == l;
    }

    int size(int l) {
        return size[l];
    }

    int head(int l) {
        return head[l];
    }

    int tail(int l) {
        return tail[l];
    }

    /** The next block towards the tail, or {@link #NONE}. */
    int next(int b) {
        return next[b];
    }

    /** The next block towards the head, or {@link #NONE}. */
    int prev(int b) {
        return prev[b];
    }

    void pushHead(int l, int b) {
        prev[b] = NONE;
        next[b] = head[l];
        if (head[l] != NONE) {
            prev[head[l]] = b;
        } else {
            tail[l] = b;
        }
        head[l] = b;
        list[b] = (byte) l;
        size[l]++;
    }

    void pushTail(int l, int b) {
        next[b] = NONE;
        prev[b] = tail[l];
        if (tail[l] != NONE) {
            next[tail[l]] = b;
        } else {
            head[l] = b;
        }
        tail[l] = b;
        list[b] = (byte) l;
        size[l]++;
    }

    /** Takes the block out of its list (no-op if in none). */
    void remove(int b) {
        int l = list[b];
        if (l < 0) {
            return;
        }
        if (prev[b] != NONE) {
            next[prev[b]] = next[b];
        } else {
            head[l] = next[b];
        }
        if (next[b] != NONE) {
            prev[next[b]] = prev[b];
        } else {
            tail[l] = prev[b];
        }
        list[b] = NOWHERE;
        size[l]--;
    }

    /** Removes and returns the tail block, or {@link #NONE}. */
    int popTail(int l) {
        int b = tail[l];
        if (b != NONE) {
            remove(b);
        }
        return b;
    }

    void moveToHead(int l, int b) {
        remove(b);
        pushHead(l, b);
    }
}
