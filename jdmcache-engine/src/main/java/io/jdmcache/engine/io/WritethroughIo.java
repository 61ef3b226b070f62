package io.jdmcache.engine.io;

import io.jdmcache.engine.CacheMode;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Writethrough: write hits go to the cache and the origin, so a clean block stays clean. */
final class WritethroughIo implements IoMode {
    private final IoContext ctx;

    WritethroughIo(IoContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CacheMode mode() {
        return CacheMode.WRITETHROUGH;
    }

    @Override
    public boolean writePiece(long b, long in, long pos, ByteBuffer src) throws IOException {
        CachePolicy policy = ctx.policy();
        int c = policy.lookup(b, IoDirection.WRITE, false);
        if (c >= 0) {
            ctx.counters().writeHit();
            if (policy.isDirty(c)) {
                // dirty from a writeback run before: the origin is behind anyway
                ctx.cacheDev().write(ctx.geometry().cacheOffset(c, in), src);
            } else {
                ByteBuffer dup = src.duplicate();
                ctx.cacheDev().write(ctx.geometry().cacheOffset(c, in), src);
                ctx.originDev().write(pos, dup);
            }
        } else {
            ctx.writeMiss(c, pos, src);
        }
        return true;
    }
}
