package io.jdmcache.engine.io;

import io.jdmcache.engine.CacheMode;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;
import io.jdmcache.policy.LookupResult;

import java.io.IOException;
import java.nio.ByteBuffer;

/** Writeback: write hits go to the cache only and make the block dirty; a whole-block write miss may be promoted by the write itself. */
final class WritebackIo implements IoMode {
    private final IoContext ctx;

    WritebackIo(IoContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public CacheMode mode() {
        return CacheMode.WRITEBACK;
    }

    @Override
    public boolean writePiece(long b, long in, long pos, ByteBuffer src) throws IOException {
        CachePolicy policy = ctx.policy();
        boolean whole = in == 0 && src.remaining() == ctx.geometry().blockBytes();
        int c;
        if (whole) {
            LookupResult r = policy.lookupWithWork(b, IoDirection.WRITE, true);
            if (r instanceof LookupResult.Promote pr) {
                ctx.counters().writeMiss();
                ctx.migrator().promoteByOverwrite(pr.work(), pos, src);
                return true;
            }
            if (r instanceof LookupResult.Hit h) {
                c = h.cblock();
            } else {
                c = ((LookupResult.Miss) r).backgroundQueued() ? CachePolicy.MISS_WORK_QUEUED : CachePolicy.MISS;
            }
        } else {
            c = policy.lookup(b, IoDirection.WRITE, false);
        }
        if (c >= 0) {
            if (!policy.trySetDirty(c)) {
                return false; // a demotion of the block was issued
            }
            ctx.committer().beforeWrite(c); // the disk must say dirty before the cache block changes
            ctx.counters().writeHit();
            ctx.cacheDev().write(ctx.geometry().cacheOffset(c, in), src);
        } else {
            ctx.writeMiss(c, pos, src);
        }
        return true;
    }
}
