package io.jdmcache.sim.trace;

import java.util.Arrays;

/**
 * Builds a {@link Trace} from accesses and discards of origin blocks named by any {@code long} key, numbering the
 * keys densely in order of first access. For byte-addressed formats, {@link #request} turns a request into block
 * events with the access model of {@code jdmcache sim}: a read or write of {@code length} bytes at {@code offset}
 * touches every block from {@code offset / B} to {@code (offset + length - 1) / B}; a discard drops only the blocks
 * it covers whole.
 */
public final class TraceBuilder {
    /** Byte-addressed formats number a block {@code device << DEVICE_SHIFT | block}. */
    public static final int DEVICE_SHIFT = 40;
    public static final long MAX_BLOCK = (1L << DEVICE_SHIFT) - 1;
    public static final long MAX_DEVICE = (1L << (63 - DEVICE_SHIFT)) - 1;

    private final String name;
    private final LongIntMap ids = new LongIntMap();
    private int[] events = new int[1024];
    private boolean[] writes = new boolean[1024];
    private int size;
    private int nextId;

    public TraceBuilder(String name) {
        this.name = name;
    }

    /** One access of the block with this key. */
    public void access(long key, boolean write) {
        int id = ids.get(key);
        if (id < 0) {
            id = nextId++;
            ids.put(key, id);
        }
        add(id, write);
    }

    /** A discard of the block with this key (nothing if it was never accessed: no cache can hold it). */
    public void discard(long key) {
        int id = ids.get(key);
        if (id >= 0) {
            add(~id, false);
        }
    }

    /**
     * A byte-addressed request on a device (numbered by the parser from 0).
     *
     * @return {@code null}, or what is wrong with the request (for the parser's error message)
     */
    public String request(long device, long offset, long length, RequestKind kind, long blockBytes) {
        if (offset < 0 || length < 0) {
            return "a non-negative offset and length";
        }
        if (device > MAX_DEVICE) {
            return "at most " + (MAX_DEVICE + 1) + " devices";
        }
        if (length == 0 || kind == RequestKind.OTHER) {
            return null;
        }
        long base = device << DEVICE_SHIFT;
        if (kind == RequestKind.DISCARD) {
            long first = offset / blockBytes + (offset % blockBytes == 0 ? 0 : 1);
            long end = (offset + length) / blockBytes;
            if (end - 1 > MAX_BLOCK) {
                return "an offset below " + (MAX_BLOCK + 1) + " blocks";
            }
            for (long b = first; b < end; b++) {
                discard(base | b);
            }
            return null;
        }
        long first = offset / blockBytes;
        long last = (offset + length - 1) / blockBytes;
        if (last > MAX_BLOCK || offset + length < 0) {
            return "an offset below " + (MAX_BLOCK + 1) + " blocks";
        }
        for (long b = first; b <= last; b++) {
            access(base | b, kind == RequestKind.WRITE);
        }
        return null;
    }

    private void add(int event, boolean write) {
        if (size == events.length) {
            int n = Math.max(16, (int) Math.min(Integer.MAX_VALUE - 8, 2L * size));
            if (n == size) {
                throw new IllegalArgumentException("trace " + name + " has more than " + size + " events");
            }
            events = Arrays.copyOf(events, n);
            writes = Arrays.copyOf(writes, n);
        }
        events[size] = event;
        writes[size] = write;
        size++;
    }

    public int events() {
        return size;
    }

    public Trace build() {
        return new Trace(name, Arrays.copyOf(events, size), Arrays.copyOf(writes, size), nextId, new int[0]);
    }

    /** What a request does to the cache. */
    public enum RequestKind {
        READ, WRITE, DISCARD, OTHER
    }
}
