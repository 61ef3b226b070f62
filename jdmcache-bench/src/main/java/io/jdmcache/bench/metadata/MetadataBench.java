package io.jdmcache.bench.metadata;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The cache metadata at 1,000,000 cache blocks, formats 1 and 2:
 * <ul>
 *   <li>{@code createMapCommit}: format a zeroed device, resize to 1M blocks, map every block, set dirty
 *       bits and hints, commit;</li>
 *   <li>{@code openAndLoad}: open a fully mapped image and load all 1M mappings with their hints (what a
 *       cache does when it starts), on a memory device or a file (page cache warm);</li>
 *   <li>{@code load}: load again on an open object (block cache warm);</li>
 *   <li>{@code commitOneChange}: change one mapping of a fully mapped cache and commit (latency per commit;
 *       a file device includes its two fsyncs).</li>
 * </ul>
 * The secondary result {@code blocksWritten} is the number of metadata blocks written per operation (per
 * commit).
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@Warmup(iterations = 3)
@Measurement(iterations = 5)
public class MetadataBench {

    /**
     * Metadata blocks written by the commits of the measured operations, and the number of commits. JMH
     * reports both as totals over the measurement (EVENTS): blocks per commit = blocksWritten / commits.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Written {
        public long blocksWritten;
        public long commits;

        @Setup(Level.Iteration)
        public void reset() {
            blocksWritten = 0;
            commits = 0;
        }

        void add(long blocks) {
            blocksWritten += blocks;
            commits++;
        }
    }

    @State(Scope.Thread)
    public static class Empty {
        @Param({"1", "2"})
        public int version;
        CountingDevice dev;

        @Setup(Level.Iteration)
        public void zeroed() {
            dev = new CountingDevice(new MemoryBlockDevice("bench", Caches.metadataBytes(Caches.BLOCKS)));
        }
    }

    @Benchmark
    public long createMapCommit(Empty e, Written w) throws IOException {
        try (CacheMetadata md = CacheMetadata.open(e.dev, MetadataOptions.readWrite(128).withFormatVersion(e.version))) {
            Caches.fill(md);
            long before = e.dev.blocksWritten();
            md.commit(true);
            w.add(e.dev.blocksWritten() - before);
            return md.freeMetadataBlocks();
        }
    }

    @State(Scope.Thread)
    public static class Image {
        @Param({"1", "2"})
        public int version;
        @Param({"memory", "file"})
        public String device;
        MemoryBlockDevice img;
        Path file;

        @Setup(Level.Trial)
        public void build() throws IOException {
            img = Caches.image(version);
            img.setReadOnly(true);
            file = Caches.toFile(img);
        }

        /** The image, opened for reading only (nothing is ever written to it). */
        BlockDevice open() throws IOException {
            return device.equals("memory") ? img : FileBlockDevice.open(file, true);
        }
    }

    @State(Scope.Thread)
    public static class Opened {
        CacheMetadata md;

        @Setup(Level.Trial)
        public void open(Image i) throws IOException {
            md = CacheMetadata.open(i.open(), MetadataOptions.readOnlyAny());
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            md.close();
        }
    }

    /** Counts what a load delivers, so that nothing can be optimised away. */
    static final class Sum {
        long mapped;
        long dirty;
        long hints;
    }

    private static long loadAll(CacheMetadata md) throws IOException {
        Sum s = new Sum();
        md.loadMappings(Caches.SMQ, (o, c, d, h, hv) -> {
            s.mapped += o;
            s.dirty += d ? 1 : 0;
            s.hints += hv ? h : 0;
        });
        if (s.dirty != (Caches.BLOCKS + 2) / 3) {
            throw new IllegalStateException("loaded " + s.dirty + " dirty mappings");
        }
        return s.mapped + s.hints;
    }

    @Benchmark
    public long openAndLoad(Image i) throws IOException {
        try (CacheMetadata md = CacheMetadata.open(i.open(), MetadataOptions.readOnlyAny())) {
            return loadAll(md);
        }
    }

    @Benchmark
    public long load(Opened o) throws IOException {
        return loadAll(o.md);
    }

    @State(Scope.Thread)
    public static class Mapped {
        @Param({"1", "2"})
        public int version;
        @Param({"memory", "file"})
        public String device;
        CountingDevice dev;
        CacheMetadata md;
        SplittableRandom rnd = new SplittableRandom(1);
        long next = 1L << 40;

        @Setup(Level.Trial)
        public void open() throws IOException {
            dev = new CountingDevice(Caches.writableCopy(Caches.image(version), device));
            md = CacheMetadata.open(dev, MetadataOptions.readWrite(128));
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            md.close();
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    @Warmup(iterations = 2, time = 2)
    @Measurement(iterations = 3, time = 3)
    public long commitOneChange(Mapped m, Written w) throws IOException {
        long c = m.rnd.nextInt(Caches.BLOCKS);
        m.md.insertMapping(c, m.next++);
        long before = m.dev.blocksWritten();
        m.md.commit(false);
        w.add(m.dev.blocksWritten() - before);
        return c;
    }
}
