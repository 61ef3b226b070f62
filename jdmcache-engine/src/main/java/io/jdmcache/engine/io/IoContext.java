package io.jdmcache.engine.io;

import io.jdmcache.engine.commit.Committer;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.EngineCounters;
import io.jdmcache.engine.migration.MigrationWorkers;
import io.jdmcache.engine.migration.Migrator;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.policy.CachePolicy;

import java.io.IOException;
import java.nio.ByteBuffer;

/** What the I/O path and its modes work with. */
record IoContext(CacheGeometry geometry, CachePolicy policy, BlockDevice cacheDev, BlockDevice originDev,
                 EngineCounters counters, Migrator migrator, MigrationWorkers workers, Committer committer) {

    /** A write miss ({@code lookup} is the policy's answer): counted, and the piece goes to the origin. */
    void writeMiss(int lookup, long pos, ByteBuffer src) throws IOException {
        counters.writeMiss();
        if (lookup == CachePolicy.MISS_WORK_QUEUED) {
            workers.wake();
        }
        originDev.write(pos, src);
    }
}
