package io.jdmcache.tools.check;

import java.util.Arrays;

/**
 * Finds values (origin blocks, up to 48 bits) seen more than once among up to {@code expected} values, in
 * little memory: a bitset over [0, max value] while that is no bigger than 4 bytes per expected value
 * (the usual case: origin blocks are dense), otherwise the values in chunks of {@link #CHUNK} longs (no array
 * is ever copied to grow: memory is 8 bytes a value), each sorted at the end and merged. Values that came in
 * ascending order (each above every earlier one) need no sort: they cannot repeat. Never boxes. Not
 * thread-safe.
 */
public final class DuplicateFinder {
    /** Values per chunk once the bitset is left. */
    static final int CHUNK = 1 << 20;

    private final long bitLimit;
    private final int chunk;
    private long[] bits = new long[1024];
    private long[][] chunks = new long[4][];
    private int nChunks;
    /** Values in the last chunk. */
    private int n;
    /** The largest value added so far, and whether each value was above all before it. */
    private long max = -1;
    private boolean ascending = true;
    private long[] dups = new long[0];
    private int nDups;

    public DuplicateFinder(long expected) {
        this(expected, CHUNK);
    }

    DuplicateFinder(long expected, int chunk) {
        this.bitLimit = Math.max(1L << 26, 32L * expected);
        this.chunk = chunk;
    }

    public void add(long v) {
        if (bits != null) {
            if (v < bitLimit) {
                int w = (int) (v >>> 6);
                if (w >= bits.length) {
                    bits = Arrays.copyOf(bits, (int) Math.min(Math.max(w + 1L, 2L * bits.length), (bitLimit + 63) >>> 6));
                }
                long m = 1L << v;
                if ((bits[w] & m) != 0) {
                    addDup(v);
                } else {
                    bits[w] |= m;
                }
                max = Math.max(max, v);
                return;
            }
            toChunks();
        }
        if (v <= max) {
            ascending = false;
        } else {
            max = v;
        }
        append(v);
    }

    private void addDup(long v) {
        if (nDups == dups.length) {
            dups = Arrays.copyOf(dups, Math.max(8, nDups * 2));
        }
        dups[nDups++] = v;
    }

    /** Leaves the bitset: the (distinct) values seen so far go to the chunks, in ascending order. */
    private void toChunks() {
        long[] b = bits;
        bits = null;
        for (int w = 0; w < b.length; w++) {
            long word = b[w];
            while (word != 0) {
                append((long) w * 64 + Long.numberOfTrailingZeros(word));
                word &= word - 1;
            }
        }
    }

    private void append(long v) {
        if (nChunks == 0 || n == chunk) {
            if (nChunks == chunks.length) {
                chunks = Arrays.copyOf(chunks, nChunks * 2);
            }
            chunks[nChunks++] = new long[chunk];
            n = 0;
        }
        chunks[nChunks - 1][n++] = v;
    }

    /** The duplicated values (each once), after all values were added. */
    public long[] duplicates() {
        if (bits == null && !ascending) {
            mergeChunks();
        }
        long[] d = Arrays.copyOf(dups, nDups);
        Arrays.sort(d);
        int u = 0;
        for (int i = 0; i < d.length; i++) {
            if (i == 0 || d[i] != d[i - 1]) {
                d[u++] = d[i];
            }
        }
        return Arrays.copyOf(d, u);
    }

    /** Sorts each chunk and merges them (a heap of chunk heads), reporting equal neighbours. */
    private void mergeChunks() {
        int k = nChunks;
        int[] len = new int[k];
        for (int c = 0; c < k; c++) {
            len[c] = c == k - 1 ? n : chunk;
            Arrays.sort(chunks[c], 0, len[c]);
        }
        int[] at = new int[k];
        int[] heap = new int[k]; // chunk numbers, smallest head first
        int size = 0;
        for (int c = 0; c < k; c++) {
            if (len[c] > 0) {
                heap[size] = c;
                siftUp(heap, size++, at);
            }
        }
        long prev = -1;
        boolean reported = false;
        while (size > 0) {
            int c = heap[0];
            long v = chunks[c][at[c]++];
            if (v == prev) {
                if (!reported) {
                    addDup(v);
                    reported = true;
                }
            } else {
                prev = v;
                reported = false;
            }
            if (at[c] == len[c]) {
                heap[0] = heap[--size];
            }
            siftDown(heap, size, at);
        }
    }

    private long head(int c, int[] at) {
        return chunks[c][at[c]];
    }

    private void siftUp(int[] heap, int i, int[] at) {
        int c = heap[i];
        long v = head(c, at);
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (head(heap[parent], at) <= v) {
                break;
            }
            heap[i] = heap[parent];
            i = parent;
        }
        heap[i] = c;
    }

    private void siftDown(int[] heap, int size, int[] at) {
        if (size == 0) {
            return;
        }
        int i = 0;
        int c = heap[0];
        long v = head(c, at);
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                break;
            }
            int r = l + 1;
            int m = r < size && head(heap[r], at) < head(heap[l], at) ? r : l;
            if (head(heap[m], at) >= v) {
                break;
            }
            heap[i] = heap[m];
            i = m;
        }
        heap[i] = c;
    }
}
