package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.jdmcache.metadata.Images.SMQ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One shared CacheMetadata, one writer and many readers.
 *
 * <p>The API has no multi-operation transactions for readers (a reader may see a transaction half done),
 * so the invariants are per operation, chosen so that a reader overlapping a single operation would break
 * them: {@code setDirtyBits} flips every mapping between all-dirty and all-clean in one call (format 1
 * rewrites the mappings one by one inside it), {@code writeHints} replaces every hint with a new generation
 * in one call, {@code setStats} writes four equal counters, and every origin block encodes its cache block.
 * The writer only inserts in the clean phase, so neither an insert nor a remove breaks the uniform dirty
 * state. Every loadMappings must therefore see one dirty state, one hint generation, and well-formed
 * mappings; every stats() four equal counters. No thread may hang (deadlock) and nothing may throw.
 */
class ConcurrencyTest {
    private static final int BLOCKS = 3000;
    private static final long GEN = 1L << 20;
    private static final long RUN_MILLIS = 2500;

    @ParameterizedTest(name = "format {0}")
    @ValueSource(ints = {1, 2})
    @Timeout(60)
    void readersNeverSeeAHalfDoneOperation(int version) throws Exception {
        CacheMetadata md = CacheMetadata.open(new MemoryBlockDevice(16 << 20),
                MetadataOptions.readWrite(128).withFormatVersion(version).withCacheBlocks(256));
        md.resize(BLOCKS);
        for (int c = 0; c < BLOCKS; c += 3) {
            md.insertMapping(c, c);
        }
        md.writeHints(SMQ, c -> c);
        md.commit(false);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong loads = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        AtomicLong otherReads = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(5);
        try {
            List<Future<?>> readers = new ArrayList<>();
            Future<?> writer = pool.submit(() -> {
                Random rnd = new Random(version);
                boolean dirty = false;
                long gen = 0;
                while (!stop.get()) {
                    int what = rnd.nextInt(10);
                    int c = rnd.nextInt(BLOCKS);
                    if (what < 3 && !dirty) {
                        md.insertMapping(c, c + GEN * (1 + rnd.nextInt(1000)));
                    } else if (what < 5) {
                        md.removeMapping(c);
                    } else if (what < 6) {
                        dirty = !dirty;
                        long[] words = new long[(BLOCKS + 63) / 64];
                        if (dirty) {
                            java.util.Arrays.fill(words, -1L);
                        }
                        md.setDirtyBits(words, BLOCKS);
                    } else if (what < 7) {
                        long g = ++gen;
                        md.writeHints(SMQ, x -> g * GEN + x);
                    } else if (what < 8) {
                        long s = rnd.nextInt(1 << 30);
                        md.setStats(new CacheStats(s, s, s, s));
                    } else {
                        md.commit(false);
                    }
                    writes.incrementAndGet();
                }
                return null;
            });
            for (int r = 0; r < 4; r++) {
                int id = r;
                readers.add(pool.submit(() -> {
                    Random rnd = new Random(id);
                    while (!stop.get()) {
                        if (id < 2 || rnd.nextInt(4) == 0) {
                            List<M> all = Images.load(md, SMQ);
                            checkSnapshot(all);
                            loads.incrementAndGet();
                        } else {
                            CacheStats s = md.stats();
                            assertThat(s.readMisses()).isEqualTo(s.readHits());
                            assertThat(s.writeHits()).isEqualTo(s.readHits());
                            assertThat(s.writeMisses()).isEqualTo(s.readHits());
                            int c = rnd.nextInt(BLOCKS);
                            long v = md.mappingValue(c);
                            assertThat(v == 0 || (Mapping.valid(v) && Mapping.oblock(v) % GEN == c))
                                    .as("mapping value %x of cache block %d", v, c).isTrue();
                            assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
                            assertThat(md.freeMetadataBlocks()).isPositive();
                            assertThat(md.cacheBlocks()).isEqualTo(BLOCKS);
                            otherReads.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            Thread.sleep(RUN_MILLIS);
            stop.set(true);
            getOrDump(writer, "the writer");
            for (Future<?> f : readers) {
                getOrDump(f, "a reader");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(loads.get()).as("full loads overlapping the writer").isGreaterThan(20);
        assertThat(writes.get()).isGreaterThan(100);
        assertThat(otherReads.get()).isGreaterThan(100);
        md.commit(true);
        checkSnapshot(Images.load(md, SMQ));
        md.close();
    }

    private static void checkSnapshot(List<M> all) {
        if (all.isEmpty()) {
            return;
        }
        boolean dirty = all.get(0).dirty();
        long gen = all.get(0).hint() / GEN;
        for (M m : all) {
            if (m.dirty() != dirty) {
                throw new AssertionError("torn dirty state: cache block " + all.get(0).cblock() + " dirty=" + dirty
                        + " but cache block " + m.cblock() + " dirty=" + m.dirty());
            }
            if (!m.hintValid() || m.hint() != gen * GEN + m.cblock()) {
                throw new AssertionError("torn hints: cache block " + m.cblock() + " has hint " + m.hint()
                        + ", generation " + gen + " expected");
            }
            if (m.oblock() % GEN != m.cblock()) {
                throw new AssertionError("cache block " + m.cblock() + " maps origin " + m.oblock());
            }
        }
    }

    private static void getOrDump(Future<?> f, String who) throws Exception {
        try {
            f.get(20, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            StringBuilder dump = new StringBuilder();
            Thread.getAllStackTraces().forEach((t, st) -> {
                dump.append(t.getName()).append(' ').append(t.getState()).append('\n');
                for (StackTraceElement el : st) {
                    dump.append("    at ").append(el).append('\n');
                }
            });
            throw new AssertionError(who + " did not finish in 20 s (deadlock?)\n" + dump, e);
        }
    }

    @Test
    @Timeout(30)
    void readersShareTheLockAndTheWriterWaitsForThem() throws Exception {
        CacheMetadata md = CacheMetadata.open(new MemoryBlockDevice(8 << 20), MetadataOptions.readWrite(128));
        md.resize(1000);
        md.insertMapping(1, 1);
        md.insertMapping(2, 2);
        md.commit(false);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ExecutorService pool = Executors.newCachedThreadPool();
        try {
            // a reader parks inside loadMappings, holding the read lock
            Future<?> holder = pool.submit(() -> {
                md.loadMappings(SMQ, (o, c, d, h, hv) -> {
                    if (c == 1) {
                        inside.countDown();
                        try {
                            if (!release.await(20, TimeUnit.SECONDS)) {
                                throw new IllegalStateException("never released");
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new IllegalStateException("interrupted", e);
                        }
                    }
                });
                return null;
            });
            assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
            // other readers get through meanwhile: reads do not take the write lock
            List<Future<?>> others = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                others.add(pool.submit(() -> {
                    assertThat(Images.load(md, SMQ)).hasSize(2);
                    assertThat(md.stats()).isEqualTo(CacheStats.ZERO);
                    assertThat(md.mappingValue(2)).isEqualTo(Mapping.pack(2, Mapping.VALID));
                    assertThat(md.mode()).isEqualTo(MetadataMode.READ_WRITE);
                    assertThat(md.freeMetadataBlocks()).isPositive();
                    assertThat(md.hintsUsable(SMQ)).isFalse();
                    assertThat(md.allClean()).isTrue();
                    return null;
                }));
            }
            for (Future<?> f : others) {
                f.get(10, TimeUnit.SECONDS);
            }
            // a writer has to wait until the reader is done
            Future<?> writer = pool.submit(() -> {
                md.insertMapping(3, 3);
                return null;
            });
            assertThatThrownBy(() -> writer.get(300, TimeUnit.MILLISECONDS)).isInstanceOf(TimeoutException.class);
            release.countDown();
            holder.get(10, TimeUnit.SECONDS);
            writer.get(10, TimeUnit.SECONDS);
            assertThat(md.mappingValue(3)).isEqualTo(Mapping.pack(3, Mapping.VALID));
        } finally {
            release.countDown();
            pool.shutdownNow();
            md.close();
        }
    }
}
