package io.jdmcache.sim.policy;

import java.util.Arrays;
import java.util.function.LongPredicate;

/** A growable binary max-heap of non-negative longs. */
final class LongMaxHeap {
    private long[] heap;
    private int size;

    LongMaxHeap(int capacity) {
        heap = new long[Math.max(1, capacity)];
    }

    int size() {
        return size;
    }

    void push(long v) {
        if (size == heap.length) {
            heap = Arrays.copyOf(heap, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (heap[parent] >= v) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = v;
    }

    long peek() {
        if (size == 0) {
            throw new IllegalStateException("empty heap");
        }
        return heap[0];
    }

    long pop() {
        long top = peek();
        long last = heap[--size];
        if (size > 0) {
            siftDown(0, last);
        }
        return top;
    }

    /** Keeps only the elements matching {@code keep}, then restores the heap order. O(size). */
    void compact(LongPredicate keep) {
        int kept = 0;
        for (int i = 0; i < size; i++) {
            if (keep.test(heap[i])) {
                heap[kept++] = heap[i];
            }
        }
        size = kept;
        for (int i = (size >>> 1) - 1; i >= 0; i--) {
            siftDown(i, heap[i]);
        }
    }

    private void siftDown(int i, long v) {
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && heap[child + 1] > heap[child]) {
                child++;
            }
            if (heap[child] <= v) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = v;
    }
}
