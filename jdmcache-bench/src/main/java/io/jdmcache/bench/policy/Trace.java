package io.jdmcache.bench.policy;

import java.util.Arrays;
import java.util.Objects;

/**
 * A block I/O trace: origin block numbers in time order, which of them are writes, and where the origin sat
 * idle before an I/O (so a simulated engine can report idleness to the policy).
 *
 * @param name         short name for tables
 * @param description  what the trace models
 * @param originBlocks every block is in {@code [0, originBlocks)}
 * @param blocks       the accessed blocks
 * @param writes       {@code writes[i]}: I/O {@code i} is a write
 * @param idleBefore   sorted positions {@code i} before which the origin was idle for {@link #IDLE_GAP_SECONDS}
 */
public record Trace(String name, String description, int originBlocks, int[] blocks, boolean[] writes,
                    int[] idleBefore) {
    /** Length of an idle gap in seconds (longer than the engine's 1 s idle threshold). */
    public static final int IDLE_GAP_SECONDS = 5;

    public Trace {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(description, "description");
        if (blocks.length != writes.length) {
            throw new IllegalArgumentException("trace " + name + ": " + blocks.length + " blocks but "
                    + writes.length + " write flags");
        }
        for (int b : blocks) {
            if (b < 0 || b >= originBlocks) {
                throw new IllegalArgumentException("trace " + name + ": block " + b + " outside [0, " + originBlocks + ")");
            }
        }
        for (int i = 1; i < idleBefore.length; i++) {
            if (idleBefore[i] <= idleBefore[i - 1]) {
                throw new IllegalArgumentException("trace " + name + ": idle positions not increasing");
            }
        }
    }

    public int length() {
        return blocks.length;
    }

    /** Number of distinct blocks accessed. */
    public int distinctBlocks() {
        boolean[] seen = new boolean[originBlocks];
        int n = 0;
        for (int b : blocks) {
            if (!seen[b]) {
                seen[b] = true;
                n++;
            }
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Trace t && name.equals(t.name) && originBlocks == t.originBlocks
                && Arrays.equals(blocks, t.blocks) && Arrays.equals(writes, t.writes)
                && Arrays.equals(idleBefore, t.idleBefore);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, originBlocks, Arrays.hashCode(blocks));
    }

    @Override
    public String toString() {
        return "Trace[" + name + ", " + blocks.length + " I/Os over " + originBlocks + " blocks]";
    }
}
