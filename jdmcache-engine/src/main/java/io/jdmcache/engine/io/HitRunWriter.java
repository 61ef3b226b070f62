package io.jdmcache.engine.io;

import io.jdmcache.engine.commit.Committer;
import io.jdmcache.engine.core.BlockLocks;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.DiscardSet;
import io.jdmcache.engine.core.EngineCounters;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.IoDirection;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Writeback writes over several cached blocks, the write side of {@link IoPath}'s read runs: the blocks' locks
 * are held together, each block is looked up and made dirty as a one-block write would make it, and the pieces
 * that sit next to each other in the cache are written with one call (a 1 MiB write over 16 blocks that
 * promotion placed one after another is one write of the cache device, not 16). It stops at the first block
 * that is not a plain hit (not mapped, a migration in flight, a demotion issued): that block and the rest are
 * left to the one-block path, which handles misses and waits for migrations.
 */
final class HitRunWriter {
    private final CacheGeometry geometry;
    private final CachePolicy policy;
    private final BlockDevice cacheDev;
    private final BlockLocks locks;
    private final DiscardSet discards;
    private final EngineCounters counters;
    private final Committer committer;

    HitRunWriter(CacheGeometry geometry, CachePolicy policy, BlockDevice cacheDev, BlockLocks locks,
                 DiscardSet discards, EngineCounters counters, Committer committer) {
        this.geometry = geometry;
        this.policy = policy;
        this.cacheDev = cacheDev;
        this.locks = locks;
        this.discards = discards;
        this.counters = counters;
        this.committer = committer;
    }

    /**
     * Writes the part of {@code src} that falls in origin blocks {@code first..last} (all cacheable; {@code src}
     * starts at byte {@code pos}) as far as those blocks are hits, advancing {@code src}'s position; whether all of
     * that part was written.
     */
    boolean write(long first, long last, long pos, ByteBuffer src) throws IOException {
        int limit = src.limit();
        long runEnd = Math.min(pos + src.remaining(), geometry.start(last + 1));
        long groupStart = 0;
        int groupLen = 0;
        long p = pos;
        try (BlockLocks.Hold h = locks.exclusive(first, last)) {
            for (long b = first; b <= last && p < runEnd; b++) {
                long in = p - geometry.start(b);
                int n = (int) Math.min(runEnd - p, geometry.blockBytes() - in);
                int c = hit(b);
                if (c < 0) {
                    break;
                }
                discards.clear(b);
                committer.beforeWrite(c); // the disk must say dirty before the cache block changes
                counters.writeHit();
                long at = geometry.cacheOffset(c, in);
                if (groupLen > 0 && at != groupStart + groupLen) {
                    writeGroup(groupStart, src, groupLen, limit);
                    groupLen = 0;
                }
                if (groupLen == 0) {
                    groupStart = at;
                }
                groupLen += n;
                p += n;
            }
            if (groupLen > 0) {
                writeGroup(groupStart, src, groupLen, limit);
            }
        } finally {
            src.limit(limit);
        }
        return p == runEnd;
    }

    /**
     * The cache block of origin block {@code b} (its lock held) made dirty, as a one-block write hit finds it
     * (looked up, counted and heated the same way), or -1, having changed nothing, when it is not a plain hit.
     */
    private int hit(long b) {
        int c = policy.lookupMapping(b);
        // under b's exclusive lock its mapping cannot change; oblockOf is -1 while a promotion is in flight
        if (c < 0 || policy.oblockOf(c) != b || !policy.trySetDirty(c)) {
            return -1;
        }
        int h = policy.lookup(b, IoDirection.WRITE, false);
        if (h != c) {
            throw new IllegalStateException("cache block " + c + " of origin block " + b
                    + " changed under the block's lock (the policy answered " + h + ")");
        }
        return c;
    }

    private void writeGroup(long at, ByteBuffer src, int len, int limit) throws IOException {
        src.limit(src.position() + len);
        cacheDev.write(at, src);
        src.limit(limit);
    }
}
