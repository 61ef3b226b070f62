package io.jdmcache.cli.serve;

import io.jdmcache.cli.serve.ServeTest.Run;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The reproductions of issue 16, each of which lost data or misled before: every one must now be refused (or
 * handled) with one clear line, and leave every device as it was.
 */
class MisconfigurationTest {
    @TempDir
    Path dir;
    Path m;
    Path c;
    Path o;

    @BeforeEach
    void files() throws IOException {
        m = sparse("meta", 8L << 20);
        c = sparse("cache", 16L << 20);
        o = sparse("origin", 64L << 20);
    }

    private Path sparse(String name, long bytes) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    private List<String> devices(Path md, Path cd, Path od) {
        return List.of("--metadata", md.toString(), "--cache", cd.toString(), "--origin", od.toString());
    }

    private String[] serve(List<String> devs, String... more) {
        List<String> a = new ArrayList<>(List.of("serve", "--listen", "127.0.0.1:0"));
        a.addAll(devs);
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private static String sha(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** Runs jdmcache in a JVM of its own that the operating system's file permissions apply to, even as root. */
    private Run unprivileged(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (root()) {
            // root without capabilities (no CAP_DAC_OVERRIDE) is refused files it does not own, like any user
            cmd.addAll(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"));
        }
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "io.jdmcache.cli.Main"));
        cmd.addAll(List.of(args));
        return run(dir, cmd.toArray(new String[0]));
    }

    /** Takes {@code p} out of reach: owned by nobody with mode 0600 as root, mode 000 otherwise. */
    private static void outOfReach(Path p) throws IOException {
        if (root()) {
            UserPrincipal nobody = p.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
            Files.setOwner(p, nobody);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        } else {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("---------"));
        }
    }

    // 1. no exclusive open
    @Test
    void aSecondServerOrAWritingToolOnDevicesAServerHoldsIsRefused() throws Exception {
        Path ctl = dir.resolve("s1.sock");
        Path xml = dir.resolve("in.xml");
        Files.writeString(xml, "<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"256\" policy=\"smq\" "
                + "hint_width=\"4\">\n  <mappings>\n  </mappings>\n</superblock>\n");
        Path other = sparse("other-meta", 8L << 20);
        try (ServerProcess s1 = ServerProcess.start(dir, withControl(devices(m, c, o), ctl))) {
            String pid = "process " + s1.process.pid();
            String before = sha(m);
            Run second = jdmcache(serve(devices(m, c, o), "--control", dir.resolve("s2.sock").toString()));
            assertThat(second.rc()).isEqualTo(1);
            assertThat(second.out()).contains("Error opening metadata device " + m + ": the metadata device " + m
                    + " is in use by " + pid).doesNotContain("Exception").hasLineCount(2);
            // the same three devices through other spellings are still the same devices
            Run spelled = jdmcache(serve(devices(other, Path.of(dir + "/./cache"), o), "--control",
                    dir.resolve("s3.sock").toString()));
            assertThat(spelled.rc()).isEqualTo(1);
            assertThat(spelled.out()).contains("cache device " + dir + "/./cache is in use by " + pid);
            assertThat(Files.exists(dir.resolve("s2.sock"))).isFalse();

            Run restore = jdmcache("restore", "-i", xml.toString(), "-o", m.toString());
            assertThat(restore.rc()).isEqualTo(1);
            assertThat(restore.out()).contains("is in use by " + pid).contains("live metadata");
            Run repairIn = jdmcache("repair", "-i", m.toString(), "-o", other.toString());
            assertThat(repairIn.rc()).isEqualTo(1);
            assertThat(repairIn.out()).contains("in use by " + pid);
            Run repairOut = jdmcache("repair", "-i", other.toString(), "-o", m.toString());
            assertThat(repairOut.rc()).isEqualTo(1);
            assertThat(repairOut.out()).contains("in use by " + pid);
            Run wb = jdmcache("writeback", "--metadata-device", m.toString(), "--origin-device", o.toString(),
                    "--fast-device", c.toString());
            assertThat(wb.rc()).isEqualTo(1);
            assertThat(wb.out()).contains("in use by " + pid);
            Run check = jdmcache("check", m.toString());
            assertThat(check.rc()).isEqualTo(1);
            assertThat(check.out()).contains("in use by " + pid).contains("--live");
            Run dump = jdmcache("dump", m.toString());
            assertThat(dump.rc()).isEqualTo(1);
            assertThat(dump.out()).contains("in use by " + pid);
            Run liveCheck = jdmcache("check", "--live", m.toString());
            assertThat(liveCheck.rc()).as(liveCheck.out()).isZero();
            assertThat(liveCheck.out()).contains("warning: ").contains("reading it live");
            Run liveDump = jdmcache("dump", "--live", m.toString());
            assertThat(liveDump.out()).contains("warning: ").contains("<superblock");
            assertThat(sha(m)).as("nothing was written to the server's metadata").isEqualTo(before);
            assertThat(s1.terminate()).isZero();
        }
        assertThat(jdmcache("check", m.toString()).rc()).isZero();
        // released at stop: the next server and the tools may have the devices
        assertThat(jdmcache("dump", m.toString()).rc()).isZero();
        try (ServerProcess s = ServerProcess.start(dir, withControl(devices(m, c, o), ctl))) {
            assertThat(s.terminate()).isZero();
        }
    }

    private static String[] withControl(List<String> devs, Path ctl) {
        List<String> a = new ArrayList<>(devs);
        a.addAll(List.of("--control", ctl.toString()));
        return a.toArray(new String[0]);
    }

    // 2. one file in two roles
    @Test
    void oneFileInTwoRolesIsRefusedWhateverItsSpelling() throws Exception {
        String md = sha(m);
        String cd = sha(c);
        Path link = Files.createSymbolicLink(dir.resolve("link-to-meta"), m);
        List<List<String>> cases = List.of(devices(m, m, o), devices(m, c, c), devices(m, c, link),
                devices(m, Path.of(dir + "/./meta"), o), devices(m, dir.resolve("sub/../cache"), c));
        Files.createDirectory(dir.resolve("sub"));
        for (List<String> devs : cases) {
            Run r = jdmcache(serve(devs, "--control", dir.resolve("x.sock").toString()));
            assertThat(r.rc()).as(devs.toString()).isEqualTo(1);
            assertThat(r.out()).as(devs.toString()).contains("are the same file; each role needs its own")
                    .doesNotContain("Exception").hasLineCount(2);
        }
        Run table = jdmcache("serve", "--listen", "127.0.0.1:0", "--control", dir.resolve("x.sock").toString(),
                "--table", m + " " + c + " " + link + " 128 0 smq 0");
        assertThat(table.rc()).isEqualTo(1);
        assertThat(table.out()).contains("the metadata device " + m + " and the origin device " + link
                + " are the same file");
        Run wb = jdmcache("writeback", "--metadata-device", m.toString(), "--origin-device", link.toString(),
                "--fast-device", c.toString());
        assertThat(wb.rc()).isEqualTo(1);
        assertThat(wb.out()).contains("are the same file");
        Run repair = jdmcache("repair", "-i", m.toString(), "-o", link.toString());
        assertThat(repair.rc()).isEqualTo(1);
        assertThat(repair.out()).contains("are the same file");
        assertThat(sha(m)).isEqualTo(md);
        assertThat(sha(c)).isEqualTo(cd);
    }

    // 3. --control deleting whatever is at its path
    @Test
    void socketPathsNeverReplaceAFileADirectoryOrALiveSocket() throws Exception {
        String md = sha(m);
        Run onMeta = jdmcache(serve(devices(m, c, o), "--control", m.toString()));
        assertThat(onMeta.rc()).isEqualTo(1);
        assertThat(onMeta.out()).contains("control socket " + m + ": a regular file is already there and is not a "
                + "socket").hasLineCount(1);
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Run onDir = jdmcache(serve(devices(m, c, o), "--control", empty.toString()));
        assertThat(onDir.rc()).isEqualTo(1);
        assertThat(onDir.out()).contains("a directory is already there");
        assertThat(empty).isDirectory();
        Run nbdOnMeta = jdmcache("serve", "--listen", "unix:" + m, "--control", dir.resolve("x.sock").toString(),
                "--metadata", m.toString(), "--cache", c.toString(), "--origin", o.toString());
        assertThat(nbdOnMeta.rc()).isEqualTo(1);
        assertThat(nbdOnMeta.out()).contains("NBD socket " + m + ": a regular file is already there");
        Run samePath = jdmcache("serve", "--listen", "unix:" + dir.resolve("a.sock"), "--control",
                dir.resolve("a.sock").toString(), "--metadata", m.toString(), "--cache", c.toString(), "--origin",
                o.toString());
        assertThat(samePath.rc()).isEqualTo(1);
        assertThat(samePath.out()).contains("are the same path");
        assertThat(sha(m)).as("the metadata file is still there, untouched").isEqualTo(md);
    }

    // 4. --listen 0.0.0.0 with no warning and an unusable hint
    @Test
    void aNetworkListenerWarnsAndItsHintIsAnAddressClientsTake() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.jdmcache.cli.Main", "serve", "--listen",
                "0.0.0.0:0", "--control", dir.resolve("w.sock").toString()));
        cmd.addAll(devices(m, c, o));
        Path err = dir.resolve("w.err");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertThat(line).as(Files.readString(err)).contains("serving nbd://").doesNotContain("0:0:0:0")
                    .doesNotContain("0.0.0.0").doesNotContain("[");
            Matcher mm = Pattern.compile("nbd://([^/:]+):(\\d+)/").matcher(line);
            assertThat(mm.find()).isTrue();
            int port = Integer.parseInt(mm.group(2));
            assertThat(Files.readString(err)).contains("warning: the export listens on")
                    .contains("every address of this machine").contains("no TLS, no authentication");
            SocketChannel.open(new InetSocketAddress("127.0.0.1", port)).close();
        } finally {
            p.destroy();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(p.exitValue()).isZero();
    }

    // 5. undersized metadata
    @Test
    void metadataTooSmallForTheCacheIsRefusedWithTheSizeNeeded() throws Exception {
        Path small = sparse("small-meta", 256 << 10);
        Path big = sparse("big-cache", 1L << 30); // 16384 blocks of 64 KiB
        Run r = jdmcache(serve(devices(small, big, o), "--control", dir.resolve("x.sock").toString()));
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.out()).contains("is too small").contains("9088 sectors").doesNotContain("Exception");
        assertThat(Files.readAllBytes(small)).as("nothing written").containsOnly(0);
    }

    // 6. unclear messages
    @Test
    void operatingSystemErrorsNameThePathTheOperationAndTheReason() throws Exception {
        outOfReach(c);
        Run denied = unprivileged(serve(devices(m, c, o), "--control", dir.resolve("x.sock").toString()));
        assertThat(denied.rc()).isEqualTo(1);
        assertThat(denied.out()).contains("Error opening cache device " + c + ": " + c
                + ": cannot open for reading and writing: Permission denied").doesNotContain("Exception");
        Run host = jdmcache("serve", "--listen", "no-such-host.invalid:10809", "--control",
                dir.resolve("x.sock").toString(), "--metadata", m.toString(), "--cache", o.toString(), "--origin",
                c.toString());
        assertThat(host.rc()).isEqualTo(1);
        assertThat(host.out()).contains("the host name no-such-host.invalid does not resolve")
                .doesNotContain("UnresolvedAddressException");
    }

    @Test
    void statusOnAControlSocketOutOfReachSaysPermissionDenied() throws Exception {
        Path ctl = dir.resolve("s.sock");
        try (ServerProcess s = ServerProcess.start(dir, withControl(devices(m, c, o), ctl))) {
            outOfReach(ctl);
            Run status = unprivileged("status", "--control", ctl.toString());
            assertThat(status.rc()).isEqualTo(1);
            assertThat(status.out()).contains("cannot connect to the control socket " + ctl)
                    .contains("Permission denied").doesNotContain("start one");
            assertThat(s.terminate()).isZero();
        }
    }

    // 7. a stale NBD socket after kill -9; 8. message words with a newline
    @Test
    void aStaleNbdSocketFromACrashIsReplacedAndControlCharactersInMessagesRefused() throws Exception {
        Path nbd = dir.resolve("nbd.sock");
        Path ctl = dir.resolve("c.sock");
        List<String> args = new ArrayList<>(List.of("--listen", "unix:" + nbd, "--control", ctl.toString()));
        args.addAll(devices(m, c, o));
        ServerProcess crashed = ServerProcess.start(dir, args.toArray(new String[0]));
        crashed.kill();
        assertThat(nbd).as("kill -9 leaves the socket file").exists();
        try (ServerProcess s = ServerProcess.start(dir, args.toArray(new String[0]))) {
            Run bad = jdmcache("message", "--control", ctl.toString(), "migration_threshold\n4096");
            assertThat(bad.rc()).isEqualTo(1);
            assertThat(bad.out()).contains("contains a control character (0x0a at 19)").hasLineCount(1);
            assertThat(jdmcache("status", "--control", ctl.toString()).out())
                    .doesNotContain("migration_threshold 4096");
            assertThat(ControlServer.request(ctl, "message migration_threshold \u0001"))
                    .startsWith("error: message words must be printable text");
            assertThat(s.terminate()).isZero();
        }
        assertThat(nbd).as("removed at a clean stop").doesNotExist();
    }

    // 9. idle connections held forever, a thread each
    @Test
    void idleConnectionsTimeOutAndTheirNumberIsBounded() throws Exception {
        try (ServerProcess s = ServerProcess.start(dir, serveArgs("--handshake-timeout", "0.5",
                "--max-connections", "4"))) {
            int before = threads(s.process.pid());
            List<SocketChannel> idle = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                idle.add(SocketChannel.open(new InetSocketAddress("127.0.0.1", s.port)));
            }
            Thread.sleep(200);
            int during = threads(s.process.pid());
            assertThat(during).as("threads: %d before, %d with 300 idle connections", before, during)
                    .isLessThan(before + 4 + 4 + 8);
            long t0 = System.nanoTime();
            ByteBuffer b = ByteBuffer.allocate(4096);
            for (SocketChannel ch : idle) {
                while (true) {
                    b.clear();
                    if (ch.read(b) < 0) {
                        break;
                    }
                }
                ch.close();
            }
            assertThat((System.nanoTime() - t0) / 1_000_000_000).as("every idle client cut off").isLessThan(20);
            assertThat(jdmcache("metrics", "--control", dir.resolve("i.sock").toString()).rc()).isZero();
            if (Files.isExecutable(Path.of("/usr/bin/nbdinfo"))) {
                Run info = run(dir, "nbdinfo", s.uri);
                assertThat(info.rc()).as(info.out()).isZero();
            }
            assertThat(s.terminate()).isZero();
        }
    }

    private String[] serveArgs(String... more) {
        List<String> a = new ArrayList<>(devices(m, c, o));
        a.addAll(List.of("--control", dir.resolve("i.sock").toString()));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private static int threads(long pid) throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (l.startsWith("Threads:")) {
                return Integer.parseInt(l.substring(8).trim());
            }
        }
        throw new IOException("no thread count for " + pid);
    }
}
