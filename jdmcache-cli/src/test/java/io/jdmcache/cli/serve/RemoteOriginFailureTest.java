package io.jdmcache.cli.serve;

import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.need;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.cli.serve.ServeTest.Run;
import io.jdmcache.nbd.client.ServerProcess;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writeback cache over a remote origin (nbdkit's file plugin) that is killed and started again: cached data
 * is served and written meanwhile, what needs the origin fails after --origin-timeout, the state shows in
 * status and metrics, and the dirty blocks reach the origin once it is back.
 */
class RemoteOriginFailureTest {
    @TempDir
    Path dir;

    Path sparse(String name, long bytes) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static String awaitStatus(Path control, Predicate<String> ok) throws Exception {
        String last = "";
        for (int i = 0; i < 600; i++) {
            last = jdmcache("status", "--human", "--control", control.toString()).out();
            if (ok.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("status never matched: " + last);
    }

    static long dirty(Path control) {
        String[] f = jdmcache("status", "--control", control.toString()).out().trim().split(" ");
        return Long.parseLong(f[13]);
    }

    @Test
    void hitsAreServedWhileTheOriginIsAwayAndDirtyBlocksReachItOnceBack() throws Exception {
        need("qemu-io");
        Path disk = sparse("origin.img", 64 << 20);
        int port = ServerProcess.freePort();
        ServerProcess k = ServerProcess.nbdkitTcp(dir, "a", port, "file", disk.toString());
        Path control = dir.resolve("ctl.sock");
        ServerProcess k2 = null;
        try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir, "--origin",
                k.uri(), "--cache", sparse("cache.img", 16 << 20).toString(), "--metadata",
                sparse("md.img", 8 << 20).toString(), "--origin-timeout", "1", "--origin-retry", "0.2",
                "--control", control.toString())) {
            Run w = run(dir, "qemu-io", "-f", "raw", "-t", "writeback", "-c", "write -P 0x33 0 1M", "-c", "flush",
                    s.uri);
            assertThat(w.out()).as(w.out()).doesNotContain("error").doesNotContain("failed");
            assertThat(dirty(control)).as("whole blocks written are cached dirty").isPositive();
            long killedAt = System.currentTimeMillis();
            k.kill();

            Run hit = run(dir, "qemu-io", "-f", "raw", "-t", "writeback", "-c", "read -P 0x33 65536 983040", "-c",
                    "write -P 0x44 0 64k", "-c", "flush", s.uri);
            assertThat(hit.out()).as(hit.out()).doesNotContain("error").doesNotContain("failed")
                    .doesNotContain("Pattern verification");
            Run miss = run(dir, "qemu-io", "-f", "raw", "-c", "read 32M 4k", s.uri);
            assertThat(miss.out()).as(miss.out()).contains("Input/output error");
            String away = awaitStatus(control, t -> t.contains("failed since"));
            assertThat(away).contains(k.uri());
            String metrics = jdmcache("metrics", "--control", control.toString()).out();
            assertThat(metrics).contains("jdmcache_origin_state{state=\"failed\",volume=\"default\"} 1");
            java.util.regex.Matcher since = java.util.regex.Pattern.compile(
                    "jdmcache_origin_state_since_seconds\\{volume=\"default\"} (\\S+)").matcher(metrics);
            assertThat(since.find()).as(metrics).isTrue();
            assertThat(Double.parseDouble(since.group(1))).as("failed since, in seconds since the epoch")
                    .isBetween(killedAt / 1000.0 - 1, System.currentTimeMillis() / 1000.0);

            k2 = ServerProcess.nbdkitTcp(dir, "b", port, "file", disk.toString());
            awaitStatus(control, t -> t.contains(": connected since"));
            for (int i = 0; i < 600 && dirty(control) > 0; i++) {
                Thread.sleep(50);
            }
            assertThat(dirty(control)).as("written back once the origin is back").isZero();
            byte[] on = Files.readAllBytes(disk);
            byte[] want = new byte[1 << 20];
            Arrays.fill(want, (byte) 0x33);
            Arrays.fill(want, 0, 65536, (byte) 0x44);
            assertThat(Arrays.copyOf(on, 1 << 20)).isEqualTo(want);
            assertThat(s.terminate()).isZero();
            assertThat(s.errors()).contains("connection lost").contains("reconnected after");
        } finally {
            k.close();
            if (k2 != null) {
                k2.close();
            }
        }
    }
}
