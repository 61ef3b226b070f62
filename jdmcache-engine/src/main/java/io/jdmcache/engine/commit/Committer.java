package io.jdmcache.engine.commit;

import io.jdmcache.engine.core.DirtyTracker;
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
 *
 * <p>With a {@link DirtyTracker} (writeback), every commit also writes the dirty bits that changed and carries
 * the exact-dirty marker, and a write that would change a cache block the disk says is clean first waits for a
 * commit ({@link #beforeWrite}): so the committed dirty bits can be trusted after a crash.
 */
public final class Committer {
    private final CacheMetadata md;
    private final BlockDevice cacheDev;
    private final BlockDevice originDev;
    private final EngineCounters counters;
    private final String deviceName;
    /** The exact dirty state to commit, or null (writethrough, passthrough: the kernel's all-dirty rule). */
    private final DirtyTracker tracker;
    /** Whether a commit with the exact-dirty marker has been made since open. */
    private boolean markerWritten;
    /** Readers: metadata updates in progress. Writer: a commit. */
    private final ReentrantReadWriteLock gate = new ReentrantReadWriteLock(true);
    private final Object commitMutex = new Object();
    private final AtomicLong requests = new AtomicLong();
    /** The requests covered by the last commit, and by the last one that forced the data devices (commitMutex). */
    private long done;
    private long fullDone;

    /** A change to the metadata (and the data it describes) that a commit must not split. */
    @FunctionalInterface
    public interface MetadataUpdate {
        void run() throws IOException;
    }

    public Committer(CacheMetadata md, BlockDevice cacheDev, BlockDevice originDev, EngineCounters counters,
                     String deviceName) {
        this(md, cacheDev, originDev, counters, deviceName, null);
    }

    public Committer(CacheMetadata md, BlockDevice cacheDev, BlockDevice originDev, EngineCounters counters,
                     String deviceName, DirtyTracker tracker) {
        this.tracker = tracker;
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

    /**
     * A write is about to change cache block {@code c}'s data (the caller holds the block's exclusive lock and has
     * marked it dirty in the policy): returns once the metadata on disk says the block is dirty. Waits for a
     * commit only when it does not yet. With metadata that is no longer writable there is nothing to wait for:
     * the in-place needs_check update removed the exact-dirty marker, so a crash loads every block dirty.
     */
    public void beforeWrite(int c) throws IOException {
        // again after each commit: one that cleared the block's written-back bit while this write set it again
        // (see DirtyTracker's grace) leaves it to the next
        while (markBeforeWrite(c)) {
            commitDirty();
        }
    }

    /**
     * As {@link #beforeWrite}, without waiting: marks cache block {@code c} (its block's exclusive lock held, the
     * block dirty in the policy) dirty for the next commit, and tells whether a write to it must wait for a
     * commit that starts after this call. A write over several blocks marks them all first and then waits for
     * one {@link #commitDirty()}, instead of one commit per block.
     */
    public boolean markBeforeWrite(int c) {
        return tracker != null && !tracker.beforeWrite(c) && md.mode() == MetadataMode.READ_WRITE;
    }

    /**
     * Cache block {@code c} is being mapped (call inside {@link #underUpdate}, with the mapping's insertion);
     * {@code dirty} when its data already differs from the origin block's.
     */
    public void promoted(int c, boolean dirty) {
        if (tracker != null) {
            tracker.promoted(c, dirty);
        }
    }

    /** Cache block {@code c} was written back and the origin holds its data durably (its block lock held). */
    public void cleaned(int c) {
        if (tracker != null) {
            tracker.cleaned(c);
        }
    }

    /** Whether commits keep the dirty bits exact across a crash. */
    public boolean exactDirty() {
        return tracker != null;
    }

    /** Group commit: returns once a commit that started after this call, and forced the data devices, has completed. */
    public void commit() throws IOException {
        commit(true);
    }

    /**
     * For writes waiting until the disk says their blocks are dirty ({@link #beforeWrite}): returns once any commit
     * that started after this call has completed. Such a commit forces the data devices only when it records
     * something that needs them (a new or removed mapping, a block made clean): one that only marks blocks dirty
     * writes the metadata alone, so the first write to each clean block does not wait for the cache and origin
     * to write out everything written to them since the last commit (sequential 1 MiB writes over NBD, each
     * request waiting for its blocks: ~120 MiB/s with every commit forcing both data devices).
     */
    public void commitDirty() throws IOException {
        commit(false);
    }

    private void commit(boolean full) throws IOException {
        long ticket = requests.incrementAndGet();
        synchronized (commitMutex) {
            if ((full ? fullDone : done) >= ticket) {
                return;
            }
            long upTo = requests.get();
            boolean forced = doCommit(false, true, full);
            done = upTo;
            if (forced) {
                fullDone = upTo;
            }
        }
    }

    /** Commits if the metadata changed since the last commit (the periodic commit). */
    public void commitIfChanged() throws IOException {
        if (md.mode() == MetadataMode.READ_WRITE && (md.changedThisTransaction()
                || (tracker != null && tracker.changed()))) {
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
                save.run(); // every dirty bit from the policy: the tracker's words are not needed
                doCommit(true, false, true);
            }
        }
    }

    /**
     * Commits; {@code force}: the data devices are forced first whatever the commit records. Returns whether they
     * were forced.
     */
    private boolean doCommit(boolean clean, boolean dirtyWords, boolean force) throws IOException {
        gate.writeLock().lock();
        try {
            boolean tracked = tracker != null && dirtyWords && md.mode() == MetadataMode.READ_WRITE;
            // the dirty bits are taken before the data devices are flushed: a block a write-back cleaned before
            // the snapshot has its data on the origin before the flush below, so the flush makes it durable
            // there before the commit records the block clean
            int n = tracked ? tracker.snapshot() : 0;
            // every mapping change is made under the gate's update side, which this commit excludes: with none
            // since the last commit and no block made clean, only dirty bits (and counters) are recorded
            boolean flush = force || !tracked || md.changedThisTransaction() || tracker.snapshotCleans(n);
            boolean ok = false;
            try {
                if (flush) {
                    flushDataDevices();
                }
                MetadataMode m = md.mode();
                if (m != MetadataMode.READ_WRITE) {
                    throw new IOException(deviceName + ": cannot commit: the metadata is " + m.status()
                            + (m == MetadataMode.FAIL ? "" : " (needs_check)"));
                }
                if (tracked) {
                    if (tracker.firstCommit()) {
                        md.setDirtyBits(tracker.snapshotWords(), tracker.blocks());
                    } else if (n > 0) {
                        md.setDirtyWords(tracker.changedIndexes(), tracker.changedValues(), n);
                    }
                }
                if (clean || md.changedThisTransaction() || (tracker != null && !markerWritten)) {
                    md.setStats(counters.stats());
                    md.commit(clean, tracker != null);
                    markerWritten = tracker != null;
                    counters.committed();
                }
                ok = true;
                return flush;
            } finally {
                if (tracked) {
                    if (ok) {
                        tracker.committed();
                    } else {
                        tracker.commitFailed();
                    }
                }
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
