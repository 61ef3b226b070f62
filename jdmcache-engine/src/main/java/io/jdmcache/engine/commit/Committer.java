package io.jdmcache.engine.commit;

import io.jdmcache.engine.core.EngineCounters;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.pdata.io.BlockDevice;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The commit batcher: makes completed writes durable by flushing the data devices and then committing the
 * metadata, as the kernel does. Concurrent requests share commits (group commit): a {@link #commit()} returns
 * once a commit that started after the call has completed.
 *
 * <p>A metadata update that refers to cache data (a new mapping) runs inside {@link #underUpdate}, which a
 * commit excludes, and only once that data has been written (the write returned): a commit therefore sees each
 * such update either wholly before its flush of the data devices, which then forces the data written before
 * the update, or wholly after its metadata commit; so a committed mapping never points at cache data that was
 * not forced first. The gate covers the metadata update alone, never the data's copy, so a commit (a flush
 * from the foreground) never waits for a migration to copy a block.
 */
public final class Committer {
    private final CacheMetadata md;
    private final BlockDevice cacheDev;
    private final BlockDevice originDev;
    private final EngineCounters counters;
    private final String deviceName;
    /** Readers: metadata updates in progress. Writer: a commit. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);
    private final Object commitMutex = new Object();
    private final AtomicLong requests = new AtomicLong();
    private long done;

    /** A change to the metadata (and the data it describes) that a commit must not split. */
    @FunctionalInterface
    public interface MetadataUpdate {
        void run() throws IOException;
    }

    public Committer(CacheMetadata md, BlockDevice cacheDev, BlockDevice originDev, EngineCounters counters,
                     String deviceName) {
        this.md = md;
        this.cacheDev = cacheDev;
        this.originDev = originDev;
        this.counters = counters;
        this.deviceName = deviceName;
    }

    /** Runs a metadata update that no commit may split (the data it refers to written before, not in it). */
    public void underUpdate(MetadataUpdate update) throws IOException {
        gate.readLock().lock();
        try {
            update.run();
        } finally {
            gate.readLock().unlock();
        }
    }

    /** Group commit: returns once a commit that started after this call has completed. */
    public void commit() throws IOException {
        long ticket = requests.incrementAndGet();
        synchronized (commitMutex) {
            if (done >= ticket) {
                return;
            }
            long upTo = requests.get();
            doCommit(false);
            done = upTo;
        }
    }

    /** Commits if the metadata changed since the last commit (the periodic commit). */
    public void commitIfChanged() throws IOException {
        if (md.mode() == MetadataMode.READ_WRITE && md.changedThisTransaction()) {
            commit();
        }
    }

    /**
     * The last commit, with the clean-shutdown flag: {@code save} stores what a clean shutdown keeps (dirty
     * bits, discards, hints) first. Nothing happens when the metadata is not writable.
     */
    public void cleanCommit(MetadataUpdate save) throws IOException {
        synchronized (commitMutex) {
            if (md.mode() == MetadataMode.READ_WRITE) {
                save.run();
                doCommit(true);
            }
        }
    }

    private void doCommit(boolean clean) throws IOException {
        gate.writeLock().lock();
        try {
            flushDataDevices();
            MetadataMode m = md.mode();
            if (m != MetadataMode.READ_WRITE) {
                throw new IOException(deviceName + ": cannot commit: the metadata is " + m.status()
                        + (m == MetadataMode.FAIL ? "" : " (needs_check)"));
            }
            if (clean || md.changedThisTransaction()) {
                md.setStats(counters.stats());
                md.commit(clean);
                counters.committed();
            }
        } finally {
            gate.writeLock().unlock();
        }
    }

    /**
     * The one place that decides which devices a commit forces before the metadata: today both data devices
     * (the origin for write-backs and writethrough writes whose mapping changes the commit records, the cache
     * for the data of new mappings).
     */
    private void flushDataDevices() throws IOException {
        originDev.flush();
        cacheDev.flush();
    }
}
