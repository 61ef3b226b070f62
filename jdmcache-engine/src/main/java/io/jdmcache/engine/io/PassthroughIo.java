package io.jdmcache.engine.io;

import io.jdmcache.engine.CacheMode;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.Invalidation;
import io.jdmcache.policy.IoDirection;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Passthrough: every read and write goes to the origin; a write hit drops the cached copy (which is clean: a
 * cache with dirty blocks cannot enter passthrough). Nothing is promoted.
 */
final class PassthroughIo implements IoMode {
    private final IoContext ctx;

    PassthroughIo(IoContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CacheMode mode() {
        return CacheMode.PASSTHROUGH;
    }

    @Override
    public int lookupForRead(CachePolicy policy, long b, boolean discarded) {
        return policy.lookupMapping(b);
    }

    @Override
    public boolean readsHitsFromCache() {
        return false;
    }

    @Override
    public boolean writePiece(long b, long in, long pos, ByteBuffer src) throws IOException {
        int c = ctx.policy().lookup(b, IoDirection.WRITE, false);
        if (c >= 0) {
            if (ctx.migrator().dropMapping(c) != Invalidation.DROPPED) {
                return false;
            }
            ctx.counters().writeHit();
            ctx.originDev().write(pos, src);
        } else {
            ctx.writeMiss(c, pos, src);
        }
        return true;
    }
}
