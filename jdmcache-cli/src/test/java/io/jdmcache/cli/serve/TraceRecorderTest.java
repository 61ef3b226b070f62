package io.jdmcache.cli.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.EngineOptions;
import io.jdmcache.nbd.NbdServer;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.sim.trace.JdmTraceFormat;
import io.jdmcache.sim.trace.TraceFormat;
import io.jdmcache.sim.trace.TraceReader;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trace capture: the recorder's file decoded by hand after the format as the README documents it (and read by
 * the simulator's reader), requests from many threads all there with times that never go back, drops counted
 * when the writer falls behind, and the messages {@code trace start FILE} / {@code trace stop} and
 * {@code status --human} on a served volume.
 */
class TraceRecorderTest {
    record Rec(int op, long time, long offset, long length) {
    }

    record Decoded(long start, List<Rec> records) {
    }

    /** Decodes a trace after the README: header, then op byte and three LEB128 varints per record. */
    static Decoded decode(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer h = ByteBuffer.wrap(all, 0, 24).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[8];
        h.get(magic);
        assertThat(new String(magic, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("JDMTRACE");
        assertThat(h.getInt()).as("version").isEqualTo(1);
        assertThat(h.getInt()).as("reserved").isZero();
        long start = h.getLong();
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, 24, all.length - 24));
        List<Rec> out = new ArrayList<>();
        long time = 0;
        int op;
        while ((op = in.read()) >= 0) {
            time += varint(in);
            out.add(new Rec(op, time, varint(in), varint(in)));
        }
        return new Decoded(start, out);
    }

    static long varint(DataInputStream in) throws IOException {
        long v = 0;
        for (int shift = 0; ; shift += 7) {
            int b = in.readUnsignedByte();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
    }

    @Test
    void requestsFromManyThreadsAreAllRecordedInOrderOfTime(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.jdmtrace");
        long before = System.currentTimeMillis();
        TraceRecorder r = TraceRecorder.start(file, "test", 1 << 10); // a small ring: the writer must keep up
        int threads = 4;
        int each = 50_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> ts = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    // thread id in the length, sequence in the offset
                    r.record(i % 2 == 0 ? JdmTraceFormat.READ : JdmTraceFormat.WRITE, (long) i << 12, 4096 + id);
                    if (i % 64 == 0) {
                        Thread.yield();
                    }
                }
            });
            th.start();
            ts.add(th);
        }
        go.countDown();
        for (Thread th : ts) {
            th.join();
        }
        r.close();
        assertThat(r.failure()).isNull();
        Decoded d = decode(file);
        assertThat(d.start() / 1_000_000).isBetween(before - 1000, System.currentTimeMillis());
        long dropped = r.dropped();
        assertThat(d.records()).hasSize((int) (threads * each - dropped));
        assertThat(r.written()).isEqualTo(d.records().size());
        assertThat(d.records()).as("tight loops on 2 cores may outrun the writer, not stop it").isNotEmpty();
        long last = -1;
        long[] next = new long[threads];
        for (Rec x : d.records()) {
            assertThat(x.time()).isGreaterThanOrEqualTo(last);
            last = x.time();
            int id = (int) (x.length() - 4096);
            assertThat(id).isBetween(0, threads - 1);
            long seq = x.offset() >> 12;
            assertThat(seq).as("a thread's requests keep their order").isGreaterThanOrEqualTo(next[id]);
            assertThat(x.op()).isEqualTo(seq % 2 == 0 ? JdmTraceFormat.READ : JdmTraceFormat.WRITE);
            next[id] = seq + 1;
        }
        // and the simulator reads it: 64 KiB blocks, a request one access per block it touches
        long block = 64 << 10;
        long accesses = d.records().stream().mapToLong(x -> (x.offset() + x.length() - 1) / block
                - x.offset() / block + 1).sum();
        var loaded = TraceReader.read(file, TraceFormat.AUTO, block);
        assertThat(loaded.format()).isEqualTo(TraceFormat.JDMCACHE);
        assertThat(loaded.trace().accesses()).isEqualTo(accesses);
    }

    @Test
    void aFullRingDropsAndCountsInsteadOfWaiting(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("t.jdmtrace");
        TraceRecorder r = TraceRecorder.open(file, "test", 8); // the writer not started: nothing drains
        for (int i = 0; i < 13; i++) {
            r.record(JdmTraceFormat.TRIM, i * 512L, 512);
        }
        assertThat(r.dropped()).isEqualTo(5);
        assertThat(r.describe()).contains("0 requests written, 5 dropped (the trace writer fell behind)");
        r.startWriter();
        r.close();
        List<Rec> recs = decode(file).records();
        assertThat(recs).extracting(Rec::offset).containsExactly(0L, 512L, 1024L, 1536L, 2048L, 2560L, 3072L, 3584L);
        assertThat(recs).allMatch(x -> x.op() == JdmTraceFormat.TRIM && x.length() == 512);
        r.record(JdmTraceFormat.READ, 0, 512); // after the stop: ignored
        assertThat(decode(file).records()).hasSize(8);
    }

    @Test
    void aTraceThatCannotBeWrittenIsRefusedInOneLine(@TempDir Path dir) {
        assertThatThrownBy(() -> TraceRecorder.start(dir.resolve("no/such/dir/t"), "x"))
                .isInstanceOf(IOException.class).hasMessageContaining("cannot write the trace " + dir.resolve("no"))
                .hasMessageContaining("no such directory");
        if (Files.isWritable(Path.of("/dev/full"))) {
            assertThatThrownBy(() -> TraceRecorder.start(Path.of("/dev/full"), "x"))
                    .isInstanceOf(IOException.class).hasMessageStartingWith("cannot write the trace /dev/full: ");
        }
    }

    @Test
    void aVolumeOfTheFileWithATraceKeyIsTracedFromItsStartOrLeftOutWhenItCannotBe(@TempDir Path dir)
            throws Exception {
        for (String f : List.of("md", "cache", "origin")) {
            try (var raf = new java.io.RandomAccessFile(dir.resolve(f).toFile(), "rw")) {
                raf.setLength(f.equals("cache") ? 2 << 20 : 8 << 20);
            }
        }
        CacheConfig c = CacheConfig.of(dir + "/md", dir + "/cache", dir + "/origin", 128,
                io.jdmcache.engine.CacheMode.WRITEBACK);
        Path file = dir.resolve("v.jdmtrace");
        ServedVolumes vs = new ServedVolumes(new NbdServer(NbdServer.Options.defaults()), ControlServerTest.QUIET,
                true, false);
        try {
            Path bad = dir.resolve("nowhere/x.jdmtrace");
            assertThat(vs.start(new io.jdmcache.cli.config.ServeConfig.VolumeSpec("w", "", c, false, 3, bad)))
                    .isNull();
            assertThat(vs.whyLeftOut("w")).isEqualTo("cannot write the trace " + bad + ": no such directory");
            ServedVolumes.Volume v = vs.start(new io.jdmcache.cli.config.ServeConfig.VolumeSpec("v", "", c, false, 3,
                    file));
            assertThat(v).isNotNull();
            v.backend().write(65536, ByteBuffer.allocate(4096), false);
            assertThat(ControlServer.answer(vs, "status --volume v --human")).contains("trace: recording to " + file);
        } finally {
            vs.stopAll();
        }
        assertThat(decode(file).records()).extracting(Rec::op).startsWith(JdmTraceFormat.WRITE);
    }

    @Test
    void traceMessagesRecordTheRequestsOfAServedVolume(@TempDir Path dir) throws Exception {
        CacheConfig c = CacheConfig.parse("md cache origin 128 1 writeback smq 0");
        CacheDevice dev = CacheDevice.open(c, new MemoryBlockDevice("md", 4 << 20),
                new MemoryBlockDevice("cache", 1 << 20), new MemoryBlockDevice("origin", 4 << 20),
                EngineOptions.manual(() -> 0L));
        NbdServer nbd = new NbdServer(NbdServer.Options.defaults());
        ServedVolumes vs = new ServedVolumes(nbd, ControlServerTest.QUIET, false, false);
        ServedVolumes.Volume v = vs.serve(Metrics.SINGLE_VOLUME, "", "", dev, false, null);
        try {
            CacheBackend b = v.backend();
            b.read(0, ByteBuffer.allocate(4096)); // before the trace: not in it
            Path file = dir.resolve("vol.jdmtrace");
            assertThat(ControlServer.answer(vs, "message trace stop"))
                    .isEqualTo("error: no trace is being recorded for volume default\n");
            assertThat(ControlServer.answer(vs, "message trace start " + file))
                    .isEqualTo("recording the requests of volume default to " + file + "\n");
            assertThat(ControlServer.answer(vs, "message trace start " + dir.resolve("other")))
                    .startsWith("error: a trace is being recorded already, to " + file);
            assertThat(ControlServer.answer(vs, "message trace frob")).startsWith("error: trace: 'trace start FILE'");
            b.read(65536, ByteBuffer.allocate(8192));
            b.write(3 * 65536 + 512, ByteBuffer.allocate(1024), false);
            b.trim(131072, 65536);
            b.writeZeroes(196608, 4096, false);
            b.flush();
            b.cache(0, 65536);
            assertThat(ControlServer.answer(vs, "status --human")).contains("trace: recording to " + file
                    + "; ").contains(" dropped");
            String stop = ControlServer.answer(vs, "message trace stop");
            assertThat(stop).isEqualTo("trace " + file + " closed: 6 requests written, 0 dropped\n");
            assertThat(ControlServer.answer(vs, "status --human")).doesNotContain("trace:");
            b.read(0, ByteBuffer.allocate(4096)); // after: not in it
            List<Rec> recs = decode(file).records();
            assertThat(recs).extracting(Rec::op).containsExactly(JdmTraceFormat.READ, JdmTraceFormat.WRITE,
                    JdmTraceFormat.TRIM, JdmTraceFormat.WRITE_ZEROES, JdmTraceFormat.FLUSH, JdmTraceFormat.CACHE);
            assertThat(recs).extracting(Rec::offset).containsExactly(65536L, 3 * 65536L + 512, 131072L, 196608L,
                    0L, 0L);
            assertThat(recs).extracting(Rec::length).containsExactly(8192L, 1024L, 65536L, 4096L, 0L, 65536L);
            Set<Integer> blocks = new HashSet<>();
            var t = TraceReader.read(file, TraceFormat.JDMCACHE, 64 << 10).trace();
            assertThat(t.accesses()).as("read of block 1, write of block 3, write-zeroes of block 3").isEqualTo(3);

            // a trace started again goes to a new file; stopping the volume closes it with what it holds
            Path second = dir.resolve("second.jdmtrace");
            assertThat(ControlServer.answer(vs, "message trace start " + second)).doesNotStartWith("error");
            b.read(0, ByteBuffer.allocate(4096));
            vs.stopAll();
            // the read, and the flush the NBD server makes when it closes the export
            assertThat(decode(second).records()).extracting(Rec::op).containsExactly(JdmTraceFormat.READ,
                    JdmTraceFormat.FLUSH);
            assertThat(b.trace()).isNull();
        } finally {
            vs.stopAll();
        }
    }
}
