package io.jdmcache.sim.trace;

import java.util.Arrays;
import java.util.Objects;

/**
 * A trace ready to replay: a sequence of events over dense block numbers {@code 0..blocks()-1} (each distinct
 * origin block of the input gets the next number the first time it is accessed). An event {@code e >= 0} is an
 * access of block {@code e}; an event {@code e < 0} is a discard of block {@code ~e}, which drops the block from a
 * cache and is no access. {@link #isWrite} tells reads from writes (the engine's policies care: writes dirty
 * blocks). {@link #idleBefore} lists the events before which the origin sat idle for {@link #IDLE_GAP_SECONDS}
 * (only synthetic traces have them).
 *
 * <p>Immutable; the arrays are not copied, so callers must not change them after building.
 */
public final class Trace {
    /** Length of an idle gap in seconds (longer than the engine's 1 s idle threshold). */
    public static final int IDLE_GAP_SECONDS = 5;

    private final String name;
    private final int[] events;
    private final boolean[] writes;
    private final int blocks;
    private final long accesses;
    private final int[] idleBefore;

    public Trace(String name, int[] events, boolean[] writes, int blocks, int[] idleBefore) {
        this.name = Objects.requireNonNull(name, "name");
        this.events = Objects.requireNonNull(events, "events");
        this.writes = Objects.requireNonNull(writes, "writes");
        this.idleBefore = Objects.requireNonNull(idleBefore, "idleBefore");
        if (events.length != writes.length) {
            throw new IllegalArgumentException("trace " + name + ": " + events.length + " events but "
                    + writes.length + " write flags");
        }
        long n = 0;
        for (int e : events) {
            int b = block(e);
            if (b >= blocks) {
                throw new IllegalArgumentException("trace " + name + ": block " + b + " outside [0, " + blocks + ")");
            }
            n += e >= 0 ? 1 : 0;
        }
        for (int i = 1; i < idleBefore.length; i++) {
            if (idleBefore[i] <= idleBefore[i - 1]) {
                throw new IllegalArgumentException("trace " + name + ": idle positions not increasing");
            }
        }
        this.blocks = blocks;
        this.accesses = n;
    }

    /** A trace of accesses only (no discards, no idle gaps). */
    public static Trace ofAccesses(String name, int[] blocks, boolean[] writes) {
        int max = -1;
        for (int b : blocks) {
            if (b < 0) {
                throw new IllegalArgumentException("negative block " + b);
            }
            max = Math.max(max, b);
        }
        return new Trace(name, blocks, writes, max + 1, new int[0]);
    }

    public static boolean isDiscard(int event) {
        return event < 0;
    }

    /** The block an event is about. */
    public static int block(int event) {
        return event < 0 ? ~event : event;
    }

    public String name() {
        return name;
    }

    /** The events (see the class comment); shared, do not change. */
    public int[] events() {
        return events;
    }

    public int length() {
        return events.length;
    }

    public boolean isWrite(int i) {
        return writes[i];
    }

    /** The write flags, one per event; shared, do not change. */
    public boolean[] writes() {
        return writes;
    }

    /** Every event's block is below this: the number of distinct blocks accessed (or discarded). */
    public int blocks() {
        return blocks;
    }

    /** Events that are accesses (not discards). */
    public long accesses() {
        return accesses;
    }

    /** Number of distinct blocks accessed at least once. */
    public int distinctBlocks() {
        boolean[] seen = new boolean[blocks];
        int n = 0;
        for (int e : events) {
            if (e >= 0 && !seen[e]) {
                seen[e] = true;
                n++;
            }
        }
        return n;
    }

    /** Sorted event positions before which the origin was idle. */
    public int[] idleBefore() {
        return idleBefore;
    }

    /** The same events under another name. */
    public Trace named(String newName) {
        return new Trace(newName, events, writes, blocks, idleBefore);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Trace t && name.equals(t.name) && blocks == t.blocks && Arrays.equals(events, t.events)
                && Arrays.equals(writes, t.writes) && Arrays.equals(idleBefore, t.idleBefore);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, blocks, Arrays.hashCode(events));
    }

    @Override
    public String toString() {
        return "Trace[" + name + ", " + events.length + " events over " + blocks + " blocks]";
    }
}
