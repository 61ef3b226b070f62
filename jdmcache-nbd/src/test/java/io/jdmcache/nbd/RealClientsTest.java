package io.jdmcache.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server against the real NBD clients (libnbd's nbdinfo/nbdcopy/Python binding, qemu-img/qemu-io, fio's
 * nbd engine). A test is skipped, with the reason, only when its client is not installed
 * (apt-get install libnbd-bin python3-libnbd qemu-utils fio).
 */
class RealClientsTest {
    @TempDir
    Path dir;
    NbdServer server;
    GatedBackend backend;
    String uri;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.stop();
        }
    }

    Path makeFile(String name, long size, long seed) throws IOException {
        Path f = dir.resolve(name);
        SplittableRandom r = new SplittableRandom(seed);
        byte[] chunk = new byte[1 << 20];
        try (OutputStream o = Files.newOutputStream(f)) {
            for (long done = 0; done < size; done += chunk.length) {
                for (int i = 0; i < chunk.length; i += 8) {
                    long v = r.nextLong();
                    for (int k = 0; k < 8; k++) {
                        chunk[i + k] = (byte) (v >>> (8 * k));
                    }
                }
                o.write(chunk, 0, (int) Math.min(chunk.length, size - done));
            }
        }
        return f;
    }

    void serve(Path file, boolean readOnly) throws IOException {
        backend = new GatedBackend(FileBackend.open(file, readOnly), -1);
        server = new NbdServer(backend, NbdServer.Options.defaults());
        InetSocketAddress a = (InetSocketAddress) server.start(new InetSocketAddress("127.0.0.1", 0));
        uri = "nbd://127.0.0.1:" + a.getPort() + "/";
    }

    static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    static void need(String tool, String pkg) {
        assumeTrue(onPath(tool), tool + " is not installed (apt-get install " + pkg + ")");
    }

    record Run(int rc, String out) {
    }

    /** Runs a client in the test's temp dir (fio, for one, drops state files into its working directory). */
    Run run(String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(dir.toFile());
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

    static String sha256(Path f) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            try (InputStream in = Files.newInputStream(f)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    md.update(buf, 0, n);
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static String json(String out, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*([^,\\s}]+)").matcher(out);
        return m.find() ? m.group(1) : null;
    }

    @Test
    void nbdinfoReportsSizeFlagsAndMap() throws Exception {
        need("nbdinfo", "libnbd-bin");
        serve(makeFile("disk.img", 64 << 20, 1), false);
        Run info = run("nbdinfo", "--json", uri);
        assertThat(info.rc()).as(info.out()).isZero();
        assertThat(json(info.out(), "export-size")).isEqualTo(String.valueOf(64 << 20));
        assertThat(json(info.out(), "protocol")).isEqualTo("\"newstyle-fixed\"");
        for (String can : new String[] {"can_flush", "can_fua", "can_trim", "can_zero", "can_fast_zero",
                "can_cache", "can_multi_conn", "can_df"}) {
            assertThat(json(info.out(), can)).as(can).isEqualTo("true");
        }
        assertThat(json(info.out(), "is_read_only")).isEqualTo("false");
        assertThat(json(info.out(), "block_size_minimum")).isEqualTo("1");
        assertThat(json(info.out(), "block_size_preferred")).isEqualTo("4096");
        assertThat(json(info.out(), "block_size_maximum")).isEqualTo(String.valueOf(32 << 20));
        assertThat(info.out()).contains("base:allocation");
        assertThat(run("nbdinfo", "--size", uri).out().trim()).isEqualTo(String.valueOf(64 << 20));
        assertThat(run("nbdinfo", "--can", "flush", uri).rc()).isZero();
        assertThat(run("nbdinfo", "--can", "multi-conn", uri).rc()).isZero();
        assertThat(run("nbdinfo", "--is", "read-only", uri).rc()).isEqualTo(2);
        Run map = run("nbdinfo", "--map", uri);
        assertThat(map.rc()).as(map.out()).isZero();
        assertThat(map.out().trim().split("\\s+")).containsExactly("0", String.valueOf(64 << 20), "0", "data");
        Run list = run("nbdinfo", "--list", uri);
        assertThat(list.rc()).as(list.out()).isZero();
        assertThat(list.out()).contains("export=\"\"");
    }

    @Test
    void nbdinfoListsEveryExportWithItsDescription() throws Exception {
        need("nbdinfo", "libnbd-bin");
        server = new NbdServer(NbdServer.Options.defaults());
        server.addExport("home", "home directories", FileBackend.open(makeFile("a.img", 4 << 20, 11), false));
        server.addExport("scratch", "scratch space", FileBackend.open(makeFile("b.img", 8 << 20, 12), true));
        int port = ((InetSocketAddress) server.start(new InetSocketAddress("127.0.0.1", 0))).getPort();
        Run list = run("nbdinfo", "--list", "nbd://127.0.0.1:" + port + "/");
        assertThat(list.rc()).as(list.out()).isZero();
        assertThat(list.out()).contains("export=\"home\"", "export=\"scratch\"", "description: home directories",
                "description: scratch space", "export-size: " + (4 << 20), "export-size: " + (8 << 20));
        Run json = run("nbdinfo", "--json", "nbd://127.0.0.1:" + port + "/scratch");
        assertThat(json.rc()).as(json.out()).isZero();
        assertThat(json(json.out(), "export-size")).isEqualTo(String.valueOf(8 << 20));
        assertThat(json(json.out(), "is_read_only")).isEqualTo("true");
        server.addExport("later", "added while serving", FileBackend.open(makeFile("c.img", 1 << 20, 13), false));
        assertThat(server.removeExport("home")).isTrue();
        list = run("nbdinfo", "--list", "nbd://127.0.0.1:" + port + "/");
        assertThat(list.rc()).as(list.out()).isZero();
        assertThat(list.out()).contains("export=\"scratch\"", "export=\"later\"", "description: added while serving")
                .doesNotContain("export=\"home\"");
        assertThat(run("nbdinfo", "--size", "nbd://127.0.0.1:" + port + "/home").rc()).as("a removed export")
                .isNotZero();
    }

    @Test
    void nbdinfoMapShowsBackendExtents() throws Exception {
        need("nbdinfo", "libnbd-bin");
        serve(makeFile("disk.img", 8 << 20, 2), false);
        backend.extents = List.of(new Extent(1 << 20, 0), new Extent(7 << 20, 3));
        Run map = run("nbdinfo", "--map", uri);
        assertThat(map.rc()).as(map.out()).isZero();
        List<String> lines = map.out().lines().map(String::trim).map(l -> l.replaceAll("\\s+", " ")).toList();
        assertThat(lines).containsExactly("0 1048576 0 data", "1048576 7340032 3 hole,zero");
    }

    @Test
    void nbdinfoOverUnixSocketAndReadOnly() throws Exception {
        need("nbdinfo", "libnbd-bin");
        Path file = makeFile("disk.img", 4 << 20, 3);
        server = new NbdServer(FileBackend.open(file, true), NbdServer.Options.defaults());
        Path sock = dir.resolve("s.sock");
        server.start(UnixDomainSocketAddress.of(sock));
        String u = "nbd+unix:///?socket=" + sock;
        Run size = run("nbdinfo", "--size", u);
        assertThat(size.rc()).as(size.out()).isZero();
        assertThat(size.out().trim()).isEqualTo(String.valueOf(4 << 20));
        assertThat(run("nbdinfo", "--is", "read-only", u).rc()).isZero();
    }

    @Test
    void nbdcopy256MiBInAndOut() throws Exception {
        need("nbdcopy", "libnbd-bin");
        long size = 256L << 20;
        Path src = makeFile("src.img", size, 4);
        Path disk = dir.resolve("disk.img");
        try (var ch = java.nio.channels.FileChannel.open(disk, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[1]), size - 1);
        }
        serve(disk, false);
        Run in = run("nbdcopy", "--flush", src.toString(), uri);
        assertThat(in.rc()).as(in.out()).isZero();
        Path out = dir.resolve("out.img");
        Run o = run("nbdcopy", uri, out.toString());
        assertThat(o.rc()).as(o.out()).isZero();
        String want = sha256(src);
        assertThat(sha256(out)).isEqualTo(want);
        assertThat(sha256(disk)).isEqualTo(want);
        assertThat(backend.flushes.get()).as("--flush reached the backend").isPositive();
    }

    @Test
    void qemuIoOddOffsetsWithFua() throws Exception {
        need("qemu-io", "qemu-utils");
        Path disk = makeFile("disk.img", 16 << 20, 5);
        byte[] before = Files.readAllBytes(disk);
        serve(disk, false);
        List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", "raw", uri));
        String[] ops = {"write -P 0xab 1 3", "write -P 0xcd 4095 8194", "write -P 0x5a 1048577 65535",
            "read -P 0xab 1 3", "read -P 0xcd 4095 8194", "read -P 0x5a 1048577 65535",
            "write -z 200001 5000", "read -P 0 200001 5000", "discard 4M 64k", "flush"};
        for (String op : ops) {
            cmd.add("-c");
            cmd.add(op);
        }
        Run r = run(cmd.toArray(new String[0]));
        assertThat(r.rc()).as(r.out()).isZero();
        assertThat(r.out()).doesNotContain("Pattern verification failed").doesNotContain("error");
        assertThat(r.out()).contains("read 8194/8194 bytes at offset 4095", "read 65535/65535 bytes at offset 1048577");
        assertThat(backend.fuaWrites.get()).as("qemu-io's writethrough mode sends FUA").isGreaterThanOrEqualTo(3);
        server.stop();
        server = null;
        byte[] want = before.clone();
        Arrays.fill(want, 1, 4, (byte) 0xab);
        Arrays.fill(want, 4095, 4095 + 8194, (byte) 0xcd);
        Arrays.fill(want, 1048577, 1048577 + 65535, (byte) 0x5a);
        Arrays.fill(want, 200001, 205001, (byte) 0);
        assertThat(Files.readAllBytes(disk)).isEqualTo(want); // discard is a no-op for FileBackend
        Run img = run("qemu-img", "info", "-f", "raw", "--output=json", uri);
        assertThat(img.rc()).as("server is stopped: qemu-img cannot connect").isNotZero();
    }

    @Test
    void qemuImgInfoAndCompare() throws Exception {
        need("qemu-img", "qemu-utils");
        Path disk = makeFile("disk.img", 32 << 20, 6);
        Path copy = dir.resolve("copy.img");
        Files.copy(disk, copy);
        serve(disk, false);
        Run info = run("qemu-img", "info", "-f", "raw", "--output=json", uri);
        assertThat(info.rc()).as(info.out()).isZero();
        assertThat(json(info.out(), "virtual-size")).isEqualTo(String.valueOf(32 << 20));
        Run cmp = run("qemu-img", "compare", "-f", "raw", "-F", "raw", copy.toString(), uri);
        assertThat(cmp.rc()).as(cmp.out()).isZero();
        assertThat(cmp.out()).contains("Images are identical");
    }

    @Test
    void fioRandomWriteVerifyWithSeveralJobs() throws Exception {
        need("fio", "fio");
        Run eng = run("fio", "--enghelp=nbd");
        assumeTrue(eng.rc() == 0, "this fio has no nbd ioengine");
        Path disk = makeFile("disk.img", 64 << 20, 7);
        serve(disk, false);
        Run r = run("fio", "--name=verify", "--ioengine=nbd", "--uri=" + uri, "--rw=randwrite", "--bs=4k",
                "--iodepth=16", "--numjobs=4", "--size=16m", "--offset_increment=16m", "--verify=crc32c",
                "--do_verify=1", "--verify_fatal=1", "--verify_state_save=0", "--randrepeat=0");
        assertThat(r.rc()).as(r.out()).isZero();
        Matcher m = Pattern.compile("err= 0").matcher(r.out());
        int ok = 0;
        while (m.find()) {
            ok++;
        }
        assertThat(ok).as(r.out()).isEqualTo(4);
        assertThat(r.out()).doesNotContain("verify: bad");
    }

    @Test
    void libnbdSemanticErrors() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "/usr/bin/python3 is not installed");
        Run probe = run("/usr/bin/python3", "-c", "import nbd");
        assumeTrue(probe.rc() == 0, "python3-libnbd is not installed (apt-get install python3-libnbd)");
        serve(makeFile("disk.img", 8 << 20, 8), false);
        String py = String.join("\n",
                "import nbd, sys, errno",
                "h = nbd.NBD(); h.set_strict_mode(0); h.add_meta_context('base:allocation')",
                "h.connect_uri(sys.argv[1]); size = h.get_size()",
                "def e(f):",
                "    try:",
                "        f(); return 'ok'",
                "    except nbd.Error as x:",
                "        return errno.errorcode.get(x.errno, str(x.errno))",
                "print('read-past-end', e(lambda: h.pread(4096, size - 2048)))",
                "print('write-past-end', e(lambda: h.pwrite(b'x' * 4096, size - 2048)))",
                "print('trim-past-end', e(lambda: h.trim(4096, size - 2048)))",
                "print('zero-past-end', e(lambda: h.zero(4096, size - 2048)))",
                "print('unaligned-read', e(lambda: h.pread(1, 1)))",
                "print('bad-flag', e(lambda: h.pread(4096, 0, nbd.CMD_FLAG_NO_HOLE)))",
                "print('fast-zero', e(lambda: h.zero(4096, 0, nbd.CMD_FLAG_FAST_ZERO)))",
                "print('fua-write', e(lambda: h.pwrite(b'y' * 513, 511, nbd.CMD_FLAG_FUA)))",
                "print('readback', h.pread(513, 511) == b'y' * 513)",
                "print('cache', e(lambda: h.cache(65536, 0)))",
                "print('meta', h.can_meta_context('base:allocation'))",
                "h.shutdown()");
        Path script = dir.resolve("sem.py");
        Files.writeString(script, py + "\n");
        Run r = run("/usr/bin/python3", script.toString(), uri);
        assertThat(r.rc()).as(r.out()).isZero();
        assertThat(r.out().lines().toList()).containsExactly("read-past-end EINVAL", "write-past-end ENOSPC",
                "trim-past-end EINVAL", "zero-past-end ENOSPC", "unaligned-read ok", "bad-flag EINVAL",
                "fast-zero ENOTSUP", "fua-write ok", "readback True", "cache ok", "meta True");
    }

    @Test
    void specConformanceProbe() throws Exception {
        String shared = System.getProperty("jdmcache.shared");
        assumeTrue(shared != null, "system property jdmcache.shared is not set");
        Path spec = Path.of(shared, "spec", "nbd.md");
        assumeTrue(Files.isRegularFile(spec), spec + " is missing");
        assumeTrue(onPath("python3"), "python3 is not installed");
        String md = Files.readString(spec);
        int a = md.indexOf("## Appendix A");
        int start = md.indexOf("```python\n", a);
        int end = md.indexOf("\n```\n", start);
        assertThat(a).as("the spec's Appendix A").isPositive();
        Path probe = dir.resolve("nbdprobe.py");
        Files.writeString(probe, md.substring(start + "```python\n".length(), end + 1));
        Path disk = makeFile("disk.img", 8 << 20, 9);
        backend = new GatedBackend(FileBackend.open(disk, false), -1);
        server = new NbdServer(backend, NbdServer.Options.defaults().withExportName("disk1"));
        int port = ((InetSocketAddress) server.start(new InetSocketAddress("127.0.0.1", 0))).getPort();
        Run r = run("python3", probe.toString(), "127.0.0.1", String.valueOf(port), "disk1");
        assertThat(r.rc()).as(r.out()).isZero();
        assertThat(r.out()).contains("39 passed, 0 failed").doesNotContain("FAIL ");
        Path ro = makeFile("ro.img", 8 << 20, 10);
        server.stop();
        server = new NbdServer(FileBackend.open(ro, true), NbdServer.Options.defaults().withExportName("disk1"));
        port = ((InetSocketAddress) server.start(new InetSocketAddress("127.0.0.1", 0))).getPort();
        r = run("python3", probe.toString(), "127.0.0.1", String.valueOf(port), "disk1", "--ro");
        assertThat(r.rc()).as(r.out()).isZero();
        assertThat(r.out()).contains("0 failed").doesNotContain("FAIL ");
        assertThat(Files.readAllBytes(ro)).as("read-only file untouched")
                .isEqualTo(bytesOf(10, 8 << 20));
    }

    private byte[] bytesOf(long seed, int size) throws IOException {
        return Files.readAllBytes(makeFile("expect-" + seed + ".img", size, seed));
    }

}
