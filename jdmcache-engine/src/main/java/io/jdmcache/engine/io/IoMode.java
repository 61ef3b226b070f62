package io.jdmcache.engine.io;

import io.jdmcache.engine.CacheMode;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What differs between the cache's I/O modes (Open CAS's {@code io_if}): how a read finds its block and where
 * a hit is read from, and what a write does with a block. Chosen once, when the cache opens.
 */
public sealed interface IoMode permits WritebackIo, WritethroughIo, PassthroughIo {

    static IoMode of(CacheMode mode, IoContext ctx) {
        return switch (mode) {
            case WRITEBACK -> new WritebackIo(ctx);
            case WRITETHROUGH -> new WritethroughIo(ctx);
            case PASSTHROUGH -> new PassthroughIo(ctx);
        };
    }

    CacheMode mode();

    /**
     * The cache block a read of origin block {@code b} hits, or a miss ({@link CachePolicy#MISS},
     * {@link CachePolicy#MISS_WORK_QUEUED}). A discarded block is only looked up, never heated.
     */
    default int lookupForRead(CachePolicy policy, long b, boolean discarded) {
        return discarded ? policy.lookupMapping(b) : policy.lookup(b, IoDirection.READ, false);
    }

    /** Whether a read hit is served from the cache device (passthrough serves every read from the origin). */
    default boolean readsHitsFromCache() {
        return true;
    }

    /**
     * Writes one piece ({@code src}'s remaining bytes, at byte {@code in} of origin block {@code b}, which is
     * byte {@code pos} of the cache) while holding the block's exclusive lock. Returns false, having changed
     * nothing, when a migration of the block is in flight.
     */
    boolean writePiece(long b, long in, long pos, ByteBuffer src) throws IOException;
}
