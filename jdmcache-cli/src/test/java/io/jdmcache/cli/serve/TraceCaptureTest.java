package io.jdmcache.cli.serve;

import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.need;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.cli.serve.ServeTest.Run;
import io.jdmcache.sim.trace.JdmTraceFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve --trace FILE} with a real NBD client (qemu-io): the requests it sent are in the trace, the
 * messages {@code trace stop} and {@code trace start FILE} through {@code jdmcache message}, and
 * {@code jdmcache sim} replaying what was recorded; bad trace paths refused in one line.
 */
class TraceCaptureTest {
    @Test
    void serveRecordsWhatAClientSentAndSimReplaysIt(@TempDir Path dir) throws Exception {
        need("qemu-io");
        Path control = dir.resolve("jdmcache-data/control.sock");
        Path first = dir.resolve("first.jdmtrace");
        try (ServerProcess s = ServerProcess.start(dir, "--trace", first.toString())) {
            // 4 KiB reads of blocks 0, 1, 0 and 2 (64 KiB blocks), a 128 KiB write over blocks 16 and 17, a trim
            Run io = run(dir, "qemu-io", "-f", "raw", "-c", "read 0 4096", "-c", "read 65536 4096", "-c",
                    "read 4096 4096", "-c", "read 131072 4096", "-c", "write -P 7 1048576 131072", "-c",
                    "discard 2097152 65536", "-c", "flush", s.uri);
            assertThat(io.rc()).as(io.out()).isZero();
            Run human = jdmcache("status", "--human", "--control", control.toString());
            assertThat(human.out()).contains("trace: recording to " + first);
            Run stop = jdmcache("message", "--control", control.toString(), "trace", "stop");
            assertThat(stop.rc()).as(stop.out()).isZero();
            assertThat(stop.out()).startsWith("trace " + first + " closed: ").contains(" 0 dropped");

            List<TraceRecorderTest.Rec> recs = TraceRecorderTest.decode(first).records();
            assertThat(recs).filteredOn(r -> r.op() == JdmTraceFormat.READ).extracting(TraceRecorderTest.Rec::offset)
                    .containsSubsequence(0L, 65536L, 4096L, 131072L);
            assertThat(recs).filteredOn(r -> r.op() == JdmTraceFormat.WRITE)
                    .extracting(r -> r.offset() + "+" + r.length()).containsExactly("1048576+131072");
            assertThat(recs).filteredOn(r -> r.op() == JdmTraceFormat.TRIM)
                    .extracting(r -> r.offset() + "+" + r.length()).containsExactly("2097152+65536");
            assertThat(recs).anyMatch(r -> r.op() == JdmTraceFormat.FLUSH);

            // the simulator: reads of 0, 1, 0, 2 and the write of 16 and 17 (qemu-io may read more on opening
            // the image, each read of a block already read a hit of a big enough cache)
            Run sim = jdmcache("sim", "--trace", first.toString(), "--cache-blocks", "64", "--policies", "lru",
                    "--tsv");
            assertThat(sim.rc()).as(sim.out()).isZero();
            String lru = sim.out().lines().filter(l -> l.contains("\tlru\t")).findFirst().orElseThrow();
            String[] f = lru.split("\t");
            long reads = recs.stream().filter(r -> r.op() == JdmTraceFormat.READ).count();
            assertThat(Long.parseLong(f[3])).as("accesses").isEqualTo(reads + 2);
            assertThat(Long.parseLong(f[4])).as("hits: at least the second read of block 0").isPositive();

            // started again by a message, to another file; SIGTERM closes it with what it holds
            Path second = dir.resolve("second.jdmtrace");
            Run start = jdmcache("message", "--control", control.toString(), "trace", "start", second.toString());
            assertThat(start.rc()).as(start.out()).isZero();
            assertThat(run(dir, "qemu-io", "-f", "raw", "-c", "read 8192 512", s.uri).rc()).isZero();
            assertThat(s.terminate()).isZero();
            assertThat(s.errors()).contains("recording its requests to " + first)
                    .contains("recording its requests to " + second).contains("trace " + second + " closed: ");
            assertThat(TraceRecorderTest.decode(second).records()).anyMatch(r -> r.op() == JdmTraceFormat.READ
                    && r.offset() == 8192 && r.length() == 512);
        }
    }

    @Test
    void aTracePathThatCannotBeWrittenIsRefusedInOneLine(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("missing/t.jdmtrace");
        Run r = jdmcache("serve", "--data-dir", dir.resolve("d").toString(), "--control",
                dir.resolve("c.sock").toString(), "--listen", "127.0.0.1:0", "--trace", bad.toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.out().strip()).endsWith("serve: cannot write the trace " + bad + ": no such directory")
                .doesNotContain("\tat ");
        Path cfg = dir.resolve("j.yaml");
        Files.writeString(cfg, "volumes:\n  v:\n    metadata: m\n    cache: c\n    origin: o\n");
        Run withConfig = jdmcache("serve", "--config", cfg.toString(), "--trace", "x");
        assertThat(withConfig.rc()).isEqualTo(1);
        assertThat(withConfig.out()).contains("--trace records one volume of the command line; with --config give "
                + "a volume its trace: key");
        Run spaces = jdmcache("message", "--control", dir.resolve("c.sock").toString(), "trace", "start", "a b");
        assertThat(spaces.rc()).isEqualTo(1);
        assertThat(spaces.out()).contains("a trace file's path cannot hold spaces");
    }
}
