package io.jdmcache.cli.serve;

import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.need;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jdmcache.cli.serve.ServeTest.Run;
import io.jdmcache.nbd.client.ServerProcess;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jdmcache serve} in front of real NBD servers started by the tests: nbdkit's file plugin killed and
 * started again under a verified fio write load, jdmcache itself killed with SIGKILL under a pattern-log write
 * load (the restart writes back only the blocks that were dirty, counted by nbdkit's stats filter), a stop while
 * the origin is away, qemu-nbd as an origin, and nbdkit's curl plugin over a local HTTP server with byte ranges
 * as a read-only origin.
 */
class RemoteOriginServersTest {
    static final int BLOCK = 64 * 1024;

    @TempDir
    Path dir;

    Path sparse(String name, long bytes) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static String[] statusFields(Path control) {
        return jdmcache("status", "--control", control.toString()).out().trim().split(" ");
    }

    static long dirty(Path control) {
        return Long.parseLong(statusFields(control)[13]);
    }

    static long used(Path control) {
        return Long.parseLong(statusFields(control)[6].split("/")[0]);
    }

    static void awaitClean(Path control) throws InterruptedException {
        for (int i = 0; i < 1200 && dirty(control) > 0; i++) {
            Thread.sleep(50);
        }
        assertThat(dirty(control)).as("every dirty block written back").isZero();
    }

    /** The bytes nbdkit's stats filter counted for writes (its file is written when nbdkit exits). */
    static long statsWriteBytes(Path stats) throws Exception {
        String s = Files.readString(stats);
        Matcher m = Pattern.compile("(?m)^write: (\\d+) ops, [0-9.]+ s, ([0-9.]+) (bytes|KiB|MiB|GiB)").matcher(s);
        if (!m.find()) {
            assertThat(s).as("no write line: the remote received no write").doesNotContain("write:");
            return 0;
        }
        double v = Double.parseDouble(m.group(2));
        long unit = switch (m.group(3)) {
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            case "GiB" -> 1L << 30;
            default -> 1;
        };
        return (long) (v * unit);
    }

    String[] serveArgs(String origin, Path control, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("--origin", origin, "--cache", dir.resolve("cache.img").toString(),
                "--metadata", dir.resolve("md.img").toString(), "--control", control.toString()));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    static void needFioNbd(Path dir) throws Exception {
        need("fio");
        assumeTrue(run(dir, "fio", "--enghelp=nbd").rc() == 0, "this fio has no nbd ioengine");
    }

    static List<String> fioJob(String... engine) {
        List<String> c = new ArrayList<>(List.of("fio", "--name=load"));
        c.addAll(List.of(engine));
        c.addAll(List.of("--rw=randwrite", "--bs=64k", "--size=48m", "--iodepth=8", "--verify=crc32c",
                "--verify_fatal=1", "--randrepeat=1", "--verify_state_save=0"));
        return c;
    }

    @Test
    void aStopWhileTheOriginIsAwayAndAnOriginKilledUnderAVerifiedWriteLoadLoseNothing() throws Exception {
        needFioNbd(dir);
        need("qemu-io", "nbdinfo");
        Path disk = sparse("origin.img", 64 << 20);
        sparse("cache.img", 16 << 20);
        Path md = sparse("md.img", 8 << 20);
        int port = ServerProcess.freePort();
        Path control = dir.resolve("ctl.sock");
        List<ServerProcess> remotes = new ArrayList<>();
        try {
            ServerProcess k = ServerProcess.nbdkitTcp(dir, "a", port, "file", disk.toString());
            remotes.add(k);
            // a stop while the origin is away: committed clean, the dirty blocks kept dirty
            try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                    serveArgs(k.uri(), control, "--origin-timeout", "1"))) {
                Run w = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x5a 60M 256k", "-c", "flush", s.uri);
                assertThat(w.out()).doesNotContain("error").doesNotContain("failed");
                assertThat(dirty(control)).as("whole blocks promoted dirty").isEqualTo(4);
                k.kill();
                assertThat(s.terminate()).as(s.errors()).isZero();
            }
            byte[] sb = new byte[8];
            try (RandomAccessFile f = new RandomAccessFile(md.toFile(), "r")) {
                f.readFully(sb);
            }
            assertThat(sb[4] & 1).as("the clean-shutdown flag").isEqualTo(1);
            Run check = jdmcache("check", md.toString());
            assertThat(check.rc()).as(check.out()).isZero();
            Run dump = jdmcache("dump", md.toString());
            assertThat(dump.out().split("dirty=\"true\"", -1).length - 1).as(dump.out()).isEqualTo(4);

            ServerProcess k2 = ServerProcess.nbdkitTcp(dir, "b", port, "file", disk.toString());
            remotes.add(k2);
            try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                    serveArgs(k2.uri(), control, "--origin-timeout", "30", "--origin-retry", "0.2"))) {
                assertThat(dirty(control)).as("the dirty blocks kept across the stop").isEqualTo(4);
                // 48 MiB of 64 KiB writes (a flush every 16) through a 16 MiB cache: many go to the origin
                // (at 200 writes a second: about 4 s of writes, so the origin goes away in the middle)
                List<String> job = fioJob("--ioengine=nbd", "--uri=" + s.uri, "--do_verify=1", "--fsync=16",
                        "--rate_iops=200");
                Process fio = new ProcessBuilder(job).directory(dir.toFile()).redirectErrorStream(true)
                        .redirectOutput(dir.resolve("fio.out").toFile()).start();
                Thread.sleep(1500);
                assertThat(fio.isAlive()).as("fio is still writing when the origin goes").isTrue();
                k2.kill(); // SIGKILL in the middle of the load
                Thread.sleep(2000);
                remotes.add(ServerProcess.nbdkitTcp(dir, "c", port, "file", disk.toString()));
                assertThat(fio.waitFor(300, TimeUnit.SECONDS)).as("fio finished").isTrue();
                String out = Files.readString(dir.resolve("fio.out"));
                assertThat(fio.exitValue()).as(out + s.errors()).isZero();
                assertThat(out).contains("err= 0").doesNotContain("verify: bad");
                assertThat(s.errors()).as("the origin was lost and came back").contains("connection lost")
                        .contains("reconnected after");
                awaitClean(control);
                assertThat(s.terminate()).isZero();
            }
            // every write fio had acknowledged is on the origin itself, and those written before the stop
            Run verify = run(dir, fioJob("--ioengine=psync", "--filename=" + disk, "--verify_only").toArray(
                    new String[0]));
            assertThat(verify.rc()).as(verify.out()).isZero();
            assertThat(verify.out()).doesNotContain("verify: bad");
            byte[] tail = new byte[256 << 10];
            try (RandomAccessFile f = new RandomAccessFile(disk.toFile(), "r")) {
                f.seek(60L << 20);
                f.readFully(tail);
            }
            byte[] want = new byte[tail.length];
            Arrays.fill(want, (byte) 0x5a);
            assertThat(tail).isEqualTo(want);
        } finally {
            for (ServerProcess p : remotes) {
                p.close();
            }
        }
    }

    /** 64 KiB blocks over {@code slots} block slots, a flush after every fourth, each flush reported. */
    static final String WRITER = String.join("\n",
            "import nbd, sys",
            "h = nbd.NBD(); h.connect_uri(sys.argv[1])",
            "blk = 65536; slots = int(sys.argv[2])",
            "for i in range(1000000):",
            "    off = (i * 7 % slots) * blk",
            "    h.pwrite(((b'%08d' % i) * (blk // 8)), off)",
            "    if i % 4 == 3:",
            "        h.flush()",
            "        print('FLUSHED', i, flush=True)",
            "");

    /** Every slot written up to write LAST must hold its last write, or a later one (written, maybe not flushed). */
    static final String CHECKER = String.join("\n",
            "import nbd, sys",
            "h = nbd.NBD(); h.connect_uri(sys.argv[1])",
            "blk = 65536; slots = int(sys.argv[2]); last = int(sys.argv[3]); bad = 0",
            "seen = {}",
            "for i in range(last + 1):",
            "    seen[(i * 7 % slots) * blk] = i",
            "for off, i in seen.items():",
            "    got = h.pread(blk, off)",
            "    n = int(got[:8])",
            "    if n < i or got != (b'%08d' % n) * (blk // 8):",
            "        bad += 1; print('BAD', i, off, got[:8])",
            "print('CHECKED', len(seen), 'BAD', bad)",
            "");

    @Test
    void afterKill9TheRestartWritesBackOnlyTheBlocksThatWereDirty() throws Exception {
        need("qemu-io");
        String python = "/usr/bin/python3";
        assumeTrue(run(dir, python, "-c", "import nbd").rc() == 0, "python3-libnbd is not installed");
        Path writer = dir.resolve("writer.py");
        Files.writeString(writer, WRITER);
        Path checker = dir.resolve("checker.py");
        Files.writeString(checker, CHECKER);
        Path disk = sparse("origin.img", 64 << 20);
        sparse("cache.img", 32 << 20);
        sparse("md.img", 8 << 20);
        Path control = dir.resolve("ctl.sock");
        int slots = 48;
        int lastFlushed = -1;
        long usedAtKill;
        ServerProcess k = ServerProcess.nbdkitTcp(dir, "a", ServerProcess.freePort(), "file", disk.toString());
        ServerProcess stats = null;
        try {
            try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                    serveArgs(k.uri(), control))) {
                // 24 MiB cached and written back: clean blocks that a restart must not send again
                Run warm = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x11 0 24M", "-c", "flush", s.uri);
                assertThat(warm.out()).doesNotContain("error").doesNotContain("failed");
                awaitClean(control);
                Process w = new ProcessBuilder(python, writer.toString(), s.uri, String.valueOf(slots))
                        .redirectErrorStream(true).start();
                BufferedReader lines = new BufferedReader(new InputStreamReader(w.getInputStream(),
                        StandardCharsets.UTF_8));
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("FLUSHED ")) {
                        lastFlushed = Integer.parseInt(line.substring(8).trim());
                        if (lastFlushed >= 400) {
                            break;
                        }
                    }
                }
                usedAtKill = used(control);
                s.kill(); // SIGKILL while the writer writes
                w.destroyForcibly();
                w.waitFor(30, TimeUnit.SECONDS);
            }
            assertThat(lastFlushed).as("the writer got going").isGreaterThanOrEqualTo(400);
            assertThat(usedAtKill).isGreaterThanOrEqualTo(384);
            k.close();

            // the same origin file behind nbdkit's stats filter: what the remote receives from now on
            Path statsFile = dir.resolve("stats.txt");
            stats = ServerProcess.nbdkitTcp(dir, "stats", ServerProcess.freePort(), "--filter=stats", "file",
                    disk.toString(), "statsfile=" + statsFile);
            long dirtyAfter;
            try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                    serveArgs(stats.uri(), control))) {
                dirtyAfter = dirty(control);
                assertThat(used(control)).isEqualTo(usedAtKill);
                // only the blocks the writer touched can be dirty, not the whole cache as after the kernel's crash
                assertThat(dirtyAfter).as("dirty after the restart").isPositive().isLessThanOrEqualTo(slots);
                // and the log says so, with the counts the status gives
                assertThat(s.errors()).contains("the last stop was not clean; the dirty bits of the last commit are "
                        + "exact, so " + dirtyAfter + " of " + usedAtKill + " cached blocks are dirty");
                Run c = run(dir, python, checker.toString(), s.uri, String.valueOf(slots),
                        String.valueOf(lastFlushed));
                assertThat(c.out()).as(c.out()).contains("BAD 0").doesNotContain("Traceback");
                awaitClean(control);
                assertThat(s.terminate()).isZero();
            }
            stats.close();
            long sent = statsWriteBytes(statsFile);
            System.out.printf("kill -9 restart: %d cached blocks, %d dirty after the restart, %d bytes written to the "
                    + "remote (%.2f of dirty x 64 KiB, %.3f of the cached bytes)%n", usedAtKill, dirtyAfter, sent,
                    sent / (double) (dirtyAfter * BLOCK), sent / (double) (usedAtKill * BLOCK));
            assertThat(sent).as("bytes written to the remote after the restart (%s dirty blocks): %s", dirtyAfter,
                    Files.readString(statsFile)).isLessThanOrEqualTo(dirtyAfter * BLOCK + 16384).isPositive(); // 16 KiB: the filter's rounding
            assertThat(sent).as("far less than the %s cached blocks", usedAtKill)
                    .isLessThan(usedAtKill * BLOCK / 4);

            // and the origin alone holds every flushed write
            try (ServerProcess direct = ServerProcess.nbdkit(dir, "direct", "-r", "file", disk.toString())) {
                Run c = run(dir, python, checker.toString(), direct.uri(), String.valueOf(slots),
                        String.valueOf(lastFlushed));
                assertThat(c.out()).as(c.out()).contains("BAD 0");
            }
        } finally {
            k.close();
            if (stats != null) {
                stats.close();
            }
        }
    }

    @Test
    void qemuNbdAsTheOrigin() throws Exception {
        need("qemu-io", "qemu-nbd");
        Path disk = sparse("origin.img", 48 << 20);
        sparse("cache.img", 8 << 20);
        sparse("md.img", 8 << 20);
        Path control = dir.resolve("ctl.sock");
        try (ServerProcess q = ServerProcess.qemuNbd(dir, "q", disk);
             io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                     serveArgs(q.uri(), control))) {
            assertThat(statusFields(control)[1]).as("the origin's size from the server").isEqualTo("98304");
            Run w = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x66 1M 2M", "-c", "write -P 0x67 40M 100k",
                    "-c", "flush", "-c", "read -P 0x66 1M 2M", "-c", "read -P 0x67 40M 100k", s.uri);
            assertThat(w.out()).as(w.out()).doesNotContain("error").doesNotContain("failed")
                    .doesNotContain("Pattern verification");
            awaitClean(control);
            assertThat(s.terminate()).isZero();
        }
        byte[] on = Files.readAllBytes(disk);
        for (int i = 1 << 20; i < 3 << 20; i++) {
            assertThat(on[i]).as("byte %s", i).isEqualTo((byte) 0x66);
        }
        for (int i = 40 << 20; i < (40 << 20) + 102400; i++) {
            assertThat(on[i]).as("byte %s", i).isEqualTo((byte) 0x67);
        }
    }

    @Test
    void nbdkitsCurlPluginOverALocalHttpServerIsAReadOnlyOrigin() throws Exception {
        need("qemu-io", "python3");
        Path file = ServeTest.randomFile(dir, "image.bin", 8 << 20, 17);
        Path script = dir.resolve("range-http-server.py");
        try (var in = Objects.requireNonNull(getClass().getResourceAsStream("/range-http-server.py"))) {
            Files.write(script, in.readAllBytes());
        }
        Path portFile = dir.resolve("http.port");
        Process http = new ProcessBuilder("python3", script.toString(), file.toString(), portFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("http.log").toFile()).start();
        try {
            for (int i = 0; i < 200 && !Files.exists(portFile); i++) {
                Thread.sleep(50);
            }
            String url = "http://127.0.0.1:" + Files.readString(portFile).trim() + "/image.bin";
            try (ServerProcess curl = ServerProcess.nbdkit(dir, "curl", "-r", "curl", "url=" + url)) {
                byte[] want = Files.readAllBytes(file);
                Path control = dir.resolve("ctl.sock");
                sparse("cache.img", 4 << 20);
                sparse("md.img", 8 << 20);
                // writethrough over a read-only origin: a read-only export
                try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                        serveArgs(curl.uri(), control, "--mode", "writethrough"))) {
                    Path copy = dir.resolve("copy.bin");
                    Run conv = run(dir, "qemu-img", "convert", "-f", "raw", "-O", "raw", s.uri, copy.toString());
                    assertThat(conv.rc()).as(conv.out()).isZero();
                    assertThat(Files.readAllBytes(copy)).isEqualTo(want);
                    assertThat(run(dir, "nbdinfo", "--is", "read-only", s.uri).rc()).isZero();
                    assertThat(s.errors()).contains("is read-only: serving a read-only export");
                    assertThat(s.terminate()).isZero();
                }
                // writeback: writable, the writes kept in the cache as dirty blocks that cannot be written back
                try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir,
                        serveArgs(curl.uri(), control, "--mode", "writeback"))) {
                    Run w = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x77 0 64k", "-c", "flush",
                            "-c", "read -P 0x77 0 64k", s.uri);
                    assertThat(w.out()).as(w.out()).doesNotContain("error").doesNotContain("failed")
                            .doesNotContain("Pattern verification");
                    assertThat(dirty(control)).isEqualTo(1);
                    Thread.sleep(2500); // idle: a write-back would run now, and fails
                    assertThat(dirty(control)).isEqualTo(1);
                    assertThat(s.terminate()).isZero();
                }
                assertThat(Files.readAllBytes(file)).as("the HTTP origin is unchanged").isEqualTo(want);
            }
        } finally {
            http.destroyForcibly();
            http.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aConfigurationFilesVolumesHaveTheirOwnOriginSettings() throws Exception {
        try (ServerProcess a = ServerProcess.nbdkit(dir, "a", "memory", "size=64M");
             ServerProcess b = ServerProcess.nbdkit(dir, "b", "memory", "size=64M")) {
            for (String v : new String[] {"a", "b"}) {
                Files.createDirectories(dir.resolve(v));
                sparse(v + "/cache.img", 4 << 20);
                sparse(v + "/md.img", 8 << 20);
            }
            Path yaml = dir.resolve("jdmcache.yaml");
            Files.writeString(yaml, String.join("\n",
                    "listen: 127.0.0.1:0",
                    "control: ctl.sock",
                    "volumes:",
                    "  a:",
                    "    metadata: a/md.img",
                    "    cache: a/cache.img",
                    "    origin: " + a.uri(),
                    "    origin_connections: 3",
                    "  b:",
                    "    metadata: b/md.img",
                    "    cache: b/cache.img",
                    "    origin: " + b.uri(),
                    ""));
            try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir, "--config",
                    yaml.toString(), "--origin-connections", "2")) {
                String human = jdmcache("status", "--human", "--control", dir.resolve("ctl.sock").toString()).out();
                assertThat(human).contains(a.uri() + " (NBD, 3 connections)").contains(b.uri()
                        + " (NBD, 2 connections)");
                assertThat(s.terminate()).isZero();
            }
        }
    }
}
