package io.jdmcache.engine.control;

import java.util.List;

/** A parsed target message (see {@link TargetMessages}). */
public sealed interface TargetMessage permits TargetMessage.SetThreshold, TargetMessage.SetTunable,
        TargetMessage.InvalidateCblocks {

    /** {@code migration_threshold <sectors>}. */
    record SetThreshold(long sectors) implements TargetMessage {
    }

    /** A policy tunable {@code <key> <value>} (the policy judges it). */
    record SetTunable(String key, String value) implements TargetMessage {
    }

    /** {@code invalidate_cblocks <ranges>}: cache blocks {@code [begin, end)} of each range. */
    record InvalidateCblocks(List<Range> ranges) implements TargetMessage {
        public InvalidateCblocks {
            ranges = List.copyOf(ranges);
        }
    }

    /** Cache blocks {@code begin} (inclusive) to {@code end} (exclusive). */
    record Range(long begin, long end) {
    }
}
