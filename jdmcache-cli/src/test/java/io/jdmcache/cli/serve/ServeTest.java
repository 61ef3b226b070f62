package io.jdmcache.cli.serve;

import io.jdmcache.cli.Jdmcache;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code jdmcache serve} with real NBD clients on the embedded default (origin 1 GiB, cache 128 MiB): nbdinfo,
 * nbdcopy, qemu-img, qemu-io, fio, status and messages over the control socket, a clean stop on SIGTERM, a
 * kill -9 in the middle of a write+flush workload, and ext4 on top through nbdfuse and a loop device.
 */
class ServeTest {
    record Run(int rc, String out) {
    }

    static Run run(Path dir, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("LIBNBD_DEBUG", "0");
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            out = in.readAllBytes();
        }
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + String.join(" ", cmd));
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static void need(String... programs) {
        for (String prog : programs) {
            boolean found = false;
            for (String d : List.of("/usr/bin", "/usr/sbin", "/bin", "/sbin")) {
                found |= Files.isExecutable(Path.of(d, prog));
            }
            assumeTrue(found, prog + " is not installed (.ci/run installs it)");
        }
    }

    static Run jdmcache(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Jdmcache.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Run(rc, out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8));
    }

    static Path randomFile(Path dir, String name, long bytes, long seed) throws IOException {
        Path p = dir.resolve(name);
        Random r = new Random(seed);
        byte[] buf = new byte[1 << 20];
        try (var out = Files.newOutputStream(p)) {
            for (long done = 0; done < bytes; done += buf.length) {
                r.nextBytes(buf);
                out.write(buf, 0, (int) Math.min(buf.length, bytes - done));
            }
        }
        return p;
    }

    @Test
    void realClientsStatusMessagesAndACleanStop(@TempDir Path dir) throws Exception {
        need("nbdinfo", "nbdcopy", "qemu-img", "qemu-io");
        Path control = dir.resolve("jdmcache-data/control.sock");
        Path in = randomFile(dir, "in.bin", 256L << 20, 1);
        try (ServerProcess s = ServerProcess.start(dir)) {
            Run info = run(dir, "nbdinfo", s.uri);
            assertThat(info.rc()).as(info.out()).isZero();
            assertThat(info.out()).contains("export-size: 1073741824").contains("can_flush: true")
                    .contains("can_fua: true").contains("can_multi_conn: true").contains("is_read_only: false");
            assertThat(run(dir, "nbdinfo", "--map", s.uri).out()).contains("data");

            // 256 MiB in and out of a 128 MiB cache: promotions, demotions and write-backs on the way
            assertThat(run(dir, "nbdcopy", in.toString(), s.uri).rc()).isZero();
            Path back = dir.resolve("back.bin");
            Run copy = run(dir, "nbdcopy", s.uri, back.toString());
            assertThat(copy.rc()).as(copy.out()).isZero();
            assertThat(mismatch(in, back, 256L << 20)).isEqualTo(-1);
            Run cmp = run(dir, "qemu-img", "compare", "-f", "raw", "-F", "raw", in.toString(), s.uri);
            // the export is 1 GiB, the file 256 MiB: qemu-img compares the common part and wants zeros after it
            assertThat(cmp.out()).as(cmp.out()).contains("Images are identical.");
            assertThat(cmp.rc()).isZero();

            // odd offsets and lengths, FUA on
            Run io = run(dir, "qemu-io", "-f", "raw", "-c", "write -f -P 0xa5 536883457 7777", "-c",
                    "write -f -P 0x5a 536941313 131073", "-c", "read -P 0xa5 536883457 7777", "-c",
                    "read -P 0x5a 536941313 131073", "-c", "read -P 0x00 1073741000 824", s.uri);
            assertThat(io.out()).as(io.out()).doesNotContain("Pattern verification failed").doesNotContain("error");

            Run status = jdmcache("status", "--control", control.toString());
            assertThat(status.rc()).as(status.out()).isZero();
            String[] f = status.out().trim().split(" ");
            assertThat(f[2]).isEqualTo("cache");
            assertThat(f[5]).as("cache block size in sectors").isEqualTo("128");
            assertThat(f[6].split("/")[1]).as("2048 cache blocks of 64 KiB").isEqualTo("2048");
            assertThat(Long.parseLong(f[6].split("/")[0])).isPositive();
            assertThat(status.out()).contains("metadata2 writeback").endsWith("rw -\n");
            assertThat(jdmcache("status", "--human", "--control", control.toString()).out())
                    .contains("cache blocks").contains("hit ratio");
            assertThat(jdmcache("message", "--control", control.toString(), "migration_threshold", "4096").rc())
                    .isZero();
            assertThat(jdmcache("status", "--control", control.toString()).out())
                    .contains("migration_threshold 4096");
            Run map = jdmcache("status", "--map", "--columns", "32", "--rows", "4", "--control", control.toString());
            assertThat(map.rc()).as(map.out()).isZero();
            assertThat(map.out()).startsWith("origin 1 GiB in 128 cells of 8 MiB").contains("|");
            assertThat(map.out().lines().filter(l -> l.endsWith("|")).count()).isEqualTo(4);
            Run metrics = jdmcache("metrics", "--control", control.toString());
            assertThat(metrics.rc()).as(metrics.out()).isZero();
            assertThat(metrics.out()).contains("# TYPE jdmcache_read_hits_total counter\n")
                    .contains("jdmcache_cache_blocks{volume=\"default\"} 2048.0\n")
                    .contains("jdmcache_metadata_mode{mode=\"rw\",volume=\"default\"} 1.0\n")
                    .contains("jdmcache_nbd_connections{volume=\"default\"} ")
                    .doesNotContain("jdmcache_nbd_requests_total{command=\"read\",volume=\"default\"} 0.0\n")
                    .doesNotContain("jdmcache_nbd_requests_total{command=\"write\",volume=\"default\"} 0.0\n")
                    .doesNotContain("jdmcache_nbd_connections_accepted_total{volume=\"default\"} 0.0\n");
            Run bad = jdmcache("message", "--control", control.toString(), "no_such_thing", "1");
            assertThat(bad.rc()).isEqualTo(1);
            assertThat(bad.out()).contains("no_such_thing");

            assertThat(s.terminate()).as("SIGTERM ends serve with rc 0").isZero();
            assertThat(s.errors()).contains("committed with the clean-shutdown flag");
        }
        byte[] sb = Files.readAllBytes(dir.resolve("jdmcache-data/metadata.img"));
        assertThat(sb[4] & 1).as("clean-shutdown flag").isEqualTo(1);
        assertThat(jdmcache("check", dir.resolve("jdmcache-data/metadata.img").toString()).rc()).isZero();
        assertThat(jdmcache("status", "--control", control.toString()).rc()).as("no server any more").isEqualTo(1);

        // the next run reuses the files: the data is still there
        try (ServerProcess s = ServerProcess.start(dir)) {
            Path again = dir.resolve("again.bin");
            assertThat(run(dir, "nbdcopy", s.uri, again.toString()).rc()).isZero();
            assertThat(mismatch(in, again, 256L << 20)).isEqualTo(-1);
            Run io = run(dir, "qemu-io", "-f", "raw", "-c", "read -P 0xa5 536883457 7777", "-c",
                    "read -P 0x5a 536941313 131073", s.uri);
            assertThat(io.out()).as(io.out()).doesNotContain("Pattern verification failed").contains("read 7777/7777");
            assertThat(s.terminate()).isZero();
        }
    }

    @Test
    void fioVerifiesRandomWritesFromSeveralConnections(@TempDir Path dir) throws Exception {
        need("fio");
        assumeTrue(run(dir, "fio", "--enghelp=nbd").rc() == 0, "this fio has no nbd ioengine");
        try (ServerProcess s = ServerProcess.start(dir, "--data-dir", "d")) {
            Run r = run(dir, "fio", "--name=verify", "--ioengine=nbd", "--uri=" + s.uri, "--rw=randwrite",
                    "--bs=4k", "--iodepth=16", "--numjobs=4", "--size=32m", "--offset_increment=64m",
                    "--verify=crc32c", "--do_verify=1", "--verify_fatal=1", "--randrepeat=0",
                    "--verify_state_save=0");
            assertThat(r.rc()).as(r.out() + s.errors()).isZero();
            assertThat(r.out()).doesNotContain("verify: bad");
            assertThat(r.out().split("err= 0", -1).length - 1).as(r.out()).isEqualTo(4);
            assertThat(s.terminate()).isZero();
        }
    }

    /** Writes 64 KiB blocks, flushing after every fourth and saying so; the server is killed mid-way. */
    static final String WRITER = String.join("\n",
            "import nbd, sys",
            "h = nbd.NBD(); h.connect_uri(sys.argv[1])",
            "blk = 65536",
            "for i in range(100000):",
            "    off = (i * 40961 % 16384) * blk",
            "    h.pwrite(((b'%08d' % i) * (blk // 8)), off)",
            "    if i % 4 == 3:",
            "        h.flush()",
            "        print('FLUSHED', i, flush=True)",
            "");

    static final String CHECKER = String.join("\n",
            "import nbd, sys",
            "h = nbd.NBD(); h.connect_uri(sys.argv[1])",
            "blk = 65536; last = int(sys.argv[2]); bad = 0",
            "seen = {}",
            "for i in range(last + 1):",
            "    seen[(i * 40961 % 16384) * blk] = i",
            "for off, i in seen.items():",
            "    if h.pread(blk, off) != (b'%08d' % i) * (blk // 8):",
            "        bad += 1; print('BAD', i, off)",
            "print('CHECKED', len(seen), 'BAD', bad)",
            "");

    @Test
    void kill9DuringWritesAndFlushesLosesNothingFlushed(@TempDir Path dir) throws Exception {
        need("python3");
        // Debian's python3, where python3-libnbd installs its module (not a python3 earlier in PATH)
        String python = "/usr/bin/python3";
        assumeTrue(run(dir, python, "-c", "import nbd").rc() == 0, "python3-libnbd is not installed");
        Path writer = dir.resolve("writer.py");
        Files.writeString(writer, WRITER);
        Path checker = dir.resolve("checker.py");
        Files.writeString(checker, CHECKER);
        int lastFlushed = -1;
        try (ServerProcess s = ServerProcess.start(dir, "--data-dir", "d")) {
            Process w = new ProcessBuilder(python, writer.toString(), s.uri).redirectErrorStream(true).start();
            var lines = new java.io.BufferedReader(new java.io.InputStreamReader(w.getInputStream(),
                    StandardCharsets.UTF_8));
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.startsWith("FLUSHED ")) {
                    lastFlushed = Integer.parseInt(line.substring(8).trim());
                    if (lastFlushed >= 2000) {
                        break;
                    }
                }
            }
            s.kill();
            w.destroyForcibly();
            w.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(lastFlushed).as("the writer got going").isGreaterThanOrEqualTo(2000);
        // after the crash every mapped block is dirty and the cache opens in recovery
        try (ServerProcess s = ServerProcess.start(dir, "--data-dir", "d")) {
            Run check = run(dir, python, checker.toString(), s.uri, String.valueOf(lastFlushed));
            assertThat(check.out()).as(check.out()).contains("BAD 0").doesNotContain("Traceback");
            assertThat(s.terminate()).isZero();
        }
    }

    @Test
    void ext4OnTopThroughNbdfuseAndALoopDevice(@TempDir Path dir) throws Exception {
        need("nbdfuse", "mkfs.ext4", "e2fsck", "losetup", "mount", "umount");
        assumeTrue(Files.isReadable(Path.of("/dev/fuse")), "no /dev/fuse here (FUSE is needed for nbdfuse)");
        assumeTrue(Files.exists(Path.of("/dev/loop-control")), "no loop devices here");
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting needs root");
        Path fuse = Files.createDirectory(dir.resolve("fuse"));
        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        try (ServerProcess s = ServerProcess.start(dir, "--data-dir", "d")) {
            Process nbdfuse = new ProcessBuilder("nbdfuse", fuse.toString(), s.uri).redirectErrorStream(true).start();
            try {
                Path disk = fuse.resolve("nbd");
                for (int i = 0; i < 100 && !Files.exists(disk); i++) {
                    Thread.sleep(100);
                }
                assumeTrue(Files.exists(disk), "nbdfuse could not mount here");
                Run mkfs = run(dir, "mkfs.ext4", "-q", "-F", disk.toString());
                assertThat(mkfs.rc()).as(mkfs.out()).isZero();
                Run loop = run(dir, "losetup", "-f", "--show", disk.toString());
                assumeTrue(loop.rc() == 0, "no free loop device: " + loop.out());
                String dev = loop.out().trim();
                try {
                    Run mount = run(dir, "mount", dev, mnt.toString());
                    assumeTrue(mount.rc() == 0, "cannot mount here: " + mount.out());
                    Path data = randomFile(mnt, "file.bin", 20 << 20, 5);
                    Path copy = randomFile(dir, "file.bin", 20 << 20, 5);
                    assertThat(mismatch(data, copy, 20 << 20)).isEqualTo(-1);
                    assertThat(run(dir, "umount", mnt.toString()).rc()).isZero();
                } finally {
                    run(dir, "losetup", "-d", dev);
                }
                Run fsck = run(dir, "e2fsck", "-fn", disk.toString());
                assertThat(fsck.rc()).as(fsck.out()).isZero();
            } finally {
                run(dir, "umount", fuse.toString());
                nbdfuse.waitFor(30, TimeUnit.SECONDS);
                nbdfuse.destroyForcibly();
            }
            assertThat(s.terminate()).isZero();
        }
    }

    @Test
    void readOnlyExportOnAUnixSocket(@TempDir Path dir) throws Exception {
        need("nbdinfo", "qemu-io");
        Path sock = dir.resolve("nbd.sock");
        try (ServerProcess s = ServerProcess.start(dir, "--data-dir", "d", "--listen", "unix:" + sock,
                "--read-only", "--export-name", "vol", "--metrics-listen", "0")) {
            assertThat(s.uri).isEqualTo("nbd+unix:///vol?socket=" + sock);
            Run info = run(dir, "nbdinfo", s.uri);
            assertThat(info.rc()).as(info.out()).isZero();
            assertThat(info.out()).contains("is_read_only: true").contains("export=\"vol\"");
            Run write = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x11 0 4096", s.uri);
            // qemu-io refuses to open a read-only export for writing, or the write fails
            assertThat(write.out()).as(write.out()).containsAnyOf("Permission denied", "Operation not permitted");
            assertThat(write.out()).doesNotContain("wrote 4096/4096");
            Run read = run(dir, "qemu-io", "-r", "-f", "raw", "-c", "read -P 0 0 4096", s.uri);
            assertThat(read.out()).as(read.out()).contains("read 4096/4096").doesNotContain("verification failed");
            // --metrics-listen PORT: Prometheus' /metrics on the loopback address, the read timed
            String url = s.awaitOutput(java.util.regex.Pattern.compile("curl (http://127\\.0\\.0\\.1:\\d+/metrics)"));
            java.net.http.HttpResponse<String> m = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.body()).containsPattern("jdmcache_request_duration_seconds_count\\{op=\"read\",outcome=\""
                            + "(hit|miss)\",volume=\"default\"} [1-9]")
                    .contains("jdmcache_nbd_connections_accepted_total{volume=\"default\"}")
                    .contains("jvm_memory_used_bytes{area=\"heap\"}");
            assertThat(s.terminate()).isZero();
        }
        assertThat(sock).as("the socket file is removed at stop").doesNotExist();
    }

    @Test
    void badArgumentsGetOneLineAndRc1(@TempDir Path dir) {
        Run both = jdmcache("serve", "--table", "a b c 128 0 smq 0", "--origin", dir.resolve("o").toString());
        assertThat(both.rc()).isEqualTo(1);
        assertThat(both.out()).contains("either --table or");
        Run table = jdmcache("serve", "--table", "a b c 100 0 smq 0");
        assertThat(table.rc()).isEqualTo(1);
        assertThat(table.out()).contains("block size");
        Run listen = jdmcache("serve", "--data-dir", dir.resolve("d").toString(), "--listen", "localhost:99999");
        assertThat(listen.rc()).isEqualTo(1);
        assertThat(listen.out()).contains("out of range");
        Run missing = jdmcache("serve", "--metadata", dir.resolve("m").toString(), "--cache",
                dir.resolve("c").toString(), "--origin", dir.resolve("o").toString());
        assertThat(missing.rc()).isEqualTo(1);
        assertThat(missing.out()).contains("metadata").doesNotContain("Exception");
        Run spin = jdmcache("serve", "--data-dir", dir.resolve("d").toString(), "--busy-poll", "-5");
        assertThat(spin.rc()).isEqualTo(1);
        assertThat(spin.out()).contains("--busy-poll must be 0 to 1000000 microseconds").doesNotContain("Exception");
        Run metricsPort = jdmcache("serve", "--data-dir", dir.resolve("d").toString(), "--metrics-listen", "99999");
        assertThat(metricsPort.rc()).isEqualTo(1);
        assertThat(metricsPort.out()).contains("--metrics-listen 99999: port 99999 is out of range")
                .doesNotContain("Exception");
        Run metricsUnix = jdmcache("serve", "--data-dir", dir.resolve("d").toString(), "--metrics-listen", "unix:/x");
        assertThat(metricsUnix.rc()).isEqualTo(1);
        assertThat(metricsUnix.out()).contains("--metrics-listen unix:/x: HOST:PORT expected");
        Run nobody = jdmcache("status", "--control", dir.resolve("none.sock").toString());
        assertThat(nobody.rc()).isEqualTo(1);
        assertThat(nobody.out()).contains("no server answers");
    }

    /** The first byte offset where the two files differ within {@code n} bytes, or -1. */
    static long mismatch(Path a, Path b, long n) throws IOException {
        try (InputStream x = Files.newInputStream(a); InputStream y = Files.newInputStream(b)) {
            byte[] bx = new byte[1 << 20];
            byte[] by = new byte[1 << 20];
            long off = 0;
            while (off < n) {
                int want = (int) Math.min(bx.length, n - off);
                int rx = x.readNBytes(bx, 0, want);
                int ry = y.readNBytes(by, 0, want);
                int m = java.util.Arrays.mismatch(bx, 0, rx, by, 0, ry);
                if (m >= 0) {
                    return off + m;
                }
                if (rx < want) {
                    return rx == ry ? -1 : off + rx;
                }
                off += want;
            }
            return -1;
        }
    }
}
