package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.policy.PolicyClock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Writeback over a remote origin: commits (and so client FLUSHes) do not wait for the origin unless a write
 * went to it directly; write-backs flush the origin themselves before their blocks turn clean. A local origin
 * keeps the kernel's order (every commit flushes it).
 */
class RemoteOriginCommitTest {
    static final int BLOCK = 64 * 1024;

    /** A memory origin that says it is remote, logs writes and flushes, and can be made unreachable. */
    static final class Remote implements BlockDevice {
        final MemoryBlockDevice mem = new MemoryBlockDevice("remote", 4 << 20);
        final List<String> events = Collections.synchronizedList(new ArrayList<>());
        final boolean remote;
        volatile boolean down;

        Remote(boolean remote) {
            this.remote = remote;
        }

        void check() throws IOException {
            if (down) {
                throw new IOException("remote: unreachable");
            }
        }

        long flushes() {
            synchronized (events) {
                return events.stream().filter(e -> e.equals("flush")).count();
            }
        }

        @Override public long size() {
            return mem.size();
        }

        @Override public void read(long offset, ByteBuffer dst) throws IOException {
            check();
            mem.read(offset, dst);
        }

        @Override public void write(long offset, ByteBuffer src) throws IOException {
            check();
            mem.write(offset, src);
            events.add("write " + offset);
        }

        @Override public void flush() throws IOException {
            check();
            events.add("flush");
        }

        @Override public boolean isReadOnly() {
            return false;
        }

        @Override public boolean isRemote() {
            return remote;
        }

        @Override public String name() {
            return "remote";
        }

        @Override public void close() {
        }
    }

    static CacheDevice open(Remote origin, CacheMode mode) throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin 128 1 " + mode.word() + " smq 0");
        return CacheDevice.open(c, new MemoryBlockDevice("md", 4 << 20), new MemoryBlockDevice("cache", 1 << 20),
                origin, EngineOptions.manual(PolicyClock.SYSTEM));
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void clientFlushesDoNotWaitForTheOriginAfterCacheHits() throws Exception {
        Remote origin = new Remote(true);
        try (CacheDevice d = open(origin, CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(random(4 * BLOCK, 1))); // whole blocks: promoted dirty
            assertThat(d.dirtyBlocks()).isEqualTo(4);
            long f0 = origin.flushes();
            d.flush();
            assertThat(origin.flushes()).as("nothing was written to the origin").isEqualTo(f0);
            origin.down = true;
            d.write(100, ByteBuffer.wrap(random(5000, 2))); // a hit on a cached block
            d.flush(); // would throw if it reached the origin
            d.tick();
            assertThat(d.dirtyBlocks()).isEqualTo(4);
            origin.down = false;
        }
    }

    @Test
    void writebacksFlushTheOriginBeforeTheBlocksTurnClean() throws Exception {
        Remote origin = new Remote(true);
        MemoryBlockDevice md = new MemoryBlockDevice("md", 4 << 20);
        MemoryBlockDevice cache = new MemoryBlockDevice("cache", 1 << 20);
        CacheConfig smq = CacheConfig.parse("md cache origin 128 1 writeback smq 0");
        try (CacheDevice d = CacheDevice.open(smq, md, cache, origin, EngineOptions.manual(PolicyClock.SYSTEM))) {
            d.write(0, ByteBuffer.wrap(random(2 * BLOCK, 3)));
            assertThat(d.dirtyBlocks()).isEqualTo(2);
        }
        origin.events.clear();
        try (CacheDevice d = CacheDevice.open(smq.withPolicy("cleaner", List.of()), md, cache, origin,
                EngineOptions.manual(PolicyClock.SYSTEM))) {
            assertThat(d.dirtyBlocks()).isEqualTo(2);
            for (int i = 0; i < 100 && d.dirtyBlocks() > 0; i++) {
                d.runBackgroundWork(8);
            }
            assertThat(d.dirtyBlocks()).isZero();
            List<String> ev = List.copyOf(origin.events);
            assertThat(ev).anyMatch(e -> e.startsWith("write "));
            assertThat(ev.get(ev.size() - 1)).as("the last write-back is flushed").isEqualTo("flush");
            long f = origin.flushes();
            d.flush();
            assertThat(origin.flushes()).as("the commit after the write-backs has nothing to flush").isEqualTo(f);
        }
    }

    @Test
    void aStopWhileTheOriginIsAwayCommitsCleanWithTheDirtyBlocksKept() throws Exception {
        Remote origin = new Remote(true);
        MemoryBlockDevice md = new MemoryBlockDevice("md", 4 << 20);
        MemoryBlockDevice cache = new MemoryBlockDevice("cache", 1 << 20);
        CacheConfig c = CacheConfig.parse("md cache origin 128 2 metadata2 writeback smq 0");
        byte[] data = random(3 * BLOCK, 7);
        CacheDevice d = CacheDevice.open(c, md, cache, origin, EngineOptions.manual(PolicyClock.SYSTEM));
        d.write(BLOCK, ByteBuffer.wrap(data));
        assertThat(d.dirtyBlocks()).isEqualTo(3);
        origin.down = true;
        d.close();
        origin.down = false;
        try (CacheMetadata m = CacheMetadata.open(md.copy(), MetadataOptions.readOnlyAny())) {
            assertThat(m.cleanWhenOpened()).as("the last commit set the clean-shutdown flag").isTrue();
        }
        try (CacheDevice again = CacheDevice.open(c, md, cache, origin, EngineOptions.manual(PolicyClock.SYSTEM))) {
            assertThat(again.dirtyBlocks()).isEqualTo(3);
            ByteBuffer b = ByteBuffer.allocate(data.length);
            again.read(BLOCK, b);
            assertThat(b.array()).isEqualTo(data);
        }
    }

    @Test
    void aWriteThatWentToTheOriginIsFlushedByTheNextClientFlush() throws Exception {
        Remote origin = new Remote(true);
        try (CacheDevice d = open(origin, CacheMode.WRITEBACK)) {
            d.write(3 * BLOCK + 7, ByteBuffer.wrap(random(100, 4))); // a partial-block write miss: to the origin
            assertThat(origin.events).anyMatch(e -> e.startsWith("write "));
            long f0 = origin.flushes();
            d.flush();
            assertThat(origin.flushes()).isEqualTo(f0 + 1);
        }
    }

    @Test
    void localOriginIsFlushedByEveryCommitAsBefore() throws Exception {
        Remote origin = new Remote(false);
        try (CacheDevice d = open(origin, CacheMode.WRITEBACK)) {
            d.write(0, ByteBuffer.wrap(random(BLOCK, 5)));
            long f0 = origin.flushes();
            d.flush();
            assertThat(origin.flushes()).isEqualTo(f0 + 1);
        }
    }

    @Test
    void writethroughOverARemoteOriginStillFlushesIt() throws Exception {
        Remote origin = new Remote(true);
        try (CacheDevice d = open(origin, CacheMode.WRITETHROUGH)) {
            d.write(0, ByteBuffer.wrap(random(BLOCK, 6)));
            long f0 = origin.flushes();
            d.flush();
            assertThat(origin.flushes()).isEqualTo(f0 + 1);
        }
    }
}
