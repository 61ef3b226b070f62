package io.jdmcache.cli.serve;

import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.need;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.cli.serve.ServeTest.Run;
import io.jdmcache.nbd.client.NbdClient;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve --origin nbd://...}: a remote origin (nbdkit started by the test) behind a local cache. */
class RemoteOriginServeTest {
    @TempDir
    Path dir;

    Path sparse(String name, long bytes) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static byte[] remote(String uri, long off, int n) throws Exception {
        try (NbdClient c = NbdClient.connect(uri, NbdClient.Options.defaults())) {
            ByteBuffer b = ByteBuffer.allocate(n);
            c.read(off, b);
            return b.array();
        }
    }

    @Test
    void writethroughOverNbdkitMemory() throws Exception {
        need("qemu-io", "nbdinfo");
        try (io.jdmcache.nbd.client.ServerProcess k = io.jdmcache.nbd.client.ServerProcess.nbdkit(dir, "remote",
                "memory", "size=64M")) {
            Path control = dir.resolve("ctl.sock");
            try (ServerProcess s = ServerProcess.start(dir, "--origin", k.uri(), "--cache",
                    sparse("cache.img", 16 << 20).toString(), "--metadata", sparse("md.img", 8 << 20).toString(),
                    "--mode", "writethrough", "--origin-connections", "2", "--origin-timeout", "10",
                    "--control", control.toString())) {
                Run info = run(dir, "nbdinfo", s.uri);
                assertThat(info.out()).as(info.out()).contains("export-size: 67108864").contains("is_read_only: false");
                Run io = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x6b 1048576 300000", "-c",
                        "read -P 0x6b 1048576 300000", "-c", "write -P 0x11 33 4000", s.uri);
                assertThat(io.out()).as(io.out()).doesNotContain("Pattern verification failed").doesNotContain("error");
                // writethrough: on the remote at once
                byte[] got = remote(k.uri(), 1048576, 300000);
                assertThat(got).containsOnly((byte) 0x6b);
                assertThat(remote(k.uri(), 33, 4000)).containsOnly((byte) 0x11);
                Run human = jdmcache("status", "--human", "--control", control.toString());
                assertThat(human.out()).as(human.out()).contains("origin:").contains(k.uri()).contains("connected since");
                Run metrics = jdmcache("metrics", "--control", control.toString());
                assertThat(metrics.out()).contains("jdmcache_origin_state{state=\"connected\",volume=\"default\"} 1");
                assertThat(s.terminate()).isZero();
            }
        }
    }

    @Test
    void tableLineWithARemoteOriginAndItsReadOnlyExport() throws Exception {
        need("nbdinfo");
        try (io.jdmcache.nbd.client.ServerProcess k = io.jdmcache.nbd.client.ServerProcess.nbdkit(dir, "ro", "-r",
                "pattern", "size=32M")) {
            String table = sparse("md.img", 8 << 20) + " " + sparse("cache.img", 8 << 20) + " " + k.uri()
                    + " 128 2 metadata2 writethrough smq 0";
            try (ServerProcess s = ServerProcess.start(dir, "--table", table, "--control",
                    dir.resolve("c.sock").toString())) {
                assertThat(run(dir, "nbdinfo", "--is", "read-only", s.uri).rc()).isZero();
                assertThat(run(dir, "nbdinfo", "--size", s.uri).out().trim()).isEqualTo(String.valueOf(32 << 20));
                assertThat(s.errors()).contains("is read-only: serving a read-only export");
                assertThat(s.terminate()).isZero();
            }
        }
    }

    static String lastLine(Run r) {
        String[] lines = r.out().trim().split("\n");
        return lines[lines.length - 1];
    }

    @Test
    void unreachableOriginAndBadOptionsAreOneLine() throws Exception {
        String md = sparse("md.img", 8 << 20).toString();
        String cache = sparse("cache.img", 8 << 20).toString();
        int port = io.jdmcache.nbd.client.ServerProcess.freePort();
        Run r = jdmcache("serve", "--origin", "nbd://127.0.0.1:" + port + "/", "--cache", cache, "--metadata", md,
                "--listen", "127.0.0.1:0", "--control", dir.resolve("x.sock").toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(lastLine(r)).startsWith("serve: ").contains("nbd://127.0.0.1:" + port + "/")
                .contains("cannot connect");
        assertThat(r.out()).doesNotContain("\tat ").doesNotContain("Exception");
        Run bad = jdmcache("serve", "--origin", "nbd+unix:///x", "--cache", cache, "--metadata", md);
        assertThat(bad.rc()).isEqualTo(1);
        assertThat(lastLine(bad)).startsWith("serve: ").contains("needs ?socket=PATH");
        assertThat(bad.out()).doesNotContain("\tat ");
        Run t = jdmcache("serve", "--origin-timeout", "-1", "--origin", "nbd://h/", "--cache", cache, "--metadata", md);
        assertThat(t.rc()).isEqualTo(1);
        assertThat(t.out().trim()).isEqualTo("serve: --origin-timeout must be 0 to 86400 seconds, got -1.0");
    }
}
