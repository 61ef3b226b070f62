package io.jdmcache.cli.serve;

import io.jdmcache.cli.serve.ServeTest.Run;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Linux kernel's own NBD client against {@code jdmcache serve}: Debian's kernel in a qemu guest
 * ({@code kernel-nbd/run-kernel-nbd.sh}) attaches the export as /dev/nbd0 with Debian's {@code nbd-client},
 * reads what the host wrote, writes with O_DIRECT and through the page cache at odd offsets, flushes, trims,
 * reconnects with two connections and 4 KiB blocks, makes and fills an ext2 file system, and prints md5 sums. The host then reads the export back, compares it
 * byte for byte with its own model of every write, checks the file system, stops the server with SIGTERM,
 * starts it again and finds the same bytes. A 16 MiB cache in front of a 64 MiB origin, so the guest's I/O
 * both hits and misses.
 */
@Tag("kernel")
class KernelNbdClientTest {
    static final int MIB = 1 << 20;
    static final int SIZE = 64 * MIB;

    @Test
    void kernelClientReadsWritesAndTheDataSurvivesARestart(@TempDir Path dir) throws Exception {
        ServeTest.need("nbdcopy", "e2fsck", "debugfs");
        Path origin = sparse(dir.resolve("origin.img"), SIZE);
        Path cache = sparse(dir.resolve("cache.img"), 16 * MIB);
        Path meta = sparse(dir.resolve("metadata.img"), 8 * MIB);
        Path control = dir.resolve("control.sock");
        String[] serve = {"--metadata", meta.toString(), "--cache", cache.toString(), "--origin", origin.toString(),
                "--control", control.toString()};

        // what the export must hold afterwards, write by write
        byte[] model = new byte[SIZE];
        byte[] host = bytes(24 * MIB, 1);
        System.arraycopy(host, 0, model, 16 * MIB, host.length);
        Path hostFile = dir.resolve("host.bin");
        Files.write(hostFile, Arrays.copyOf(model, 40 * MIB));
        Path files = Files.createDirectory(dir.resolve("files"));
        List<String> fileArgs = new ArrayList<>();
        long[][] writes = {{8 * MIB, 44L * MIB}, {MIB, 38L * MIB}, {100_000, 52L * MIB + 12345},
                {777, 17L * MIB + 3}, {5000, SIZE - 5000}};
        String[] names = {"w1.bin", "w2.bin", "u1.bin", "u2.bin", "u3.bin"};
        byte[] w1 = null;
        for (int i = 0; i < writes.length; i++) {
            byte[] b = bytes((int) writes[i][0], 10 + i);
            w1 = i == 0 ? b : w1;
            System.arraycopy(b, 0, model, (int) writes[i][1], b.length);
            Path f = files.resolve(names[i]);
            Files.write(f, b);
            fileArgs.addAll(List.of("--file", f.toString()));
        }

        List<String> out;
        Path copy = dir.resolve("copy.img");
        try (ServerProcess s = ServerProcess.start(dir, serve)) {
            Run put = ServeTest.run(dir, "nbdcopy", hostFile.toString(), s.uri);
            assertThat(put.rc()).as(put.out()).isZero();

            List<String> cmd = new ArrayList<>(List.of("bash", resource("run-kernel-nbd.sh").toString(),
                    "--port", String.valueOf(s.port), "--script", resource("roundtrip-guest.sh").toString(),
                    "--timeout", "240"));
            cmd.addAll(fileArgs);
            Run vm = runVm(dir, cmd);
            assumeTrue(vm.rc() != 6, () -> "the kernel NBD client cannot run here: " + lastLine(vm.out()));
            assertThat(vm.rc()).as(vm.out() + "\n--- serve stderr ---\n" + s.errors()).isZero();
            out = List.of(vm.out().split("\n"));
            assertThat(out).as(vm.out()).contains("NBD_CONNECT: ok", "NBD_SIZE: " + SIZE, "NBD_BLOCK: 512",
                    "NBD_BLOCK: 4096", "SCRIPT_RC: 0", "NBD_DISCONNECT: ok");
            assertThat(vm.out()).doesNotContain("Call Trace").doesNotContain("I/O error")
                    .doesNotContain("Receive control failed").doesNotContain("Other side returned error");
            assertThat(field(out, "READ_HOST")).as("the guest read what the host wrote").isEqualTo(md5(host));
            assertThat(field(out, "FS_W1")).isEqualTo(md5(w1) + " small file 8");

            String[] status = ServeTest.jdmcache("status", "--control", control.toString()).out().trim().split(" ");
            assertThat(Long.parseLong(status[7])).as("read hits").isPositive();
            assertThat(Long.parseLong(status[8])).as("read misses").isPositive();
            assertThat(Long.parseLong(status[6].split("/")[0])).as("cache blocks in use").isPositive();

            Run get = ServeTest.run(dir, "nbdcopy", s.uri, copy.toString());
            assertThat(get.rc()).as(get.out()).isZero();
            assertThat(s.terminate()).as("SIGTERM ends serve with rc 0").isZero();
            assertThat(s.errors()).contains("committed with the clean-shutdown flag");
        }
        byte[] back = Files.readAllBytes(copy);
        assertThat(back.length).isEqualTo(SIZE);
        // [0, 16 MiB) holds the guest's file system, [60 MiB, 62 MiB) was trimmed (undefined content)
        for (int[] r : new int[][] {{16 * MIB, 60 * MIB}, {62 * MIB, SIZE}}) {
            assertThat(Arrays.mismatch(back, r[0], r[1], model, r[0], r[1]))
                    .as("first differing byte from %d between the export and the host's model", r[0]).isEqualTo(-1);
        }
        assertThat(md5(back)).as("the host reads what the guest read last").isEqualTo(field(out, "READ_ALL"));

        // the file system the guest made in the first 16 MiB
        Run fsck = ServeTest.run(dir, "e2fsck", "-fn", copy.toString());
        assertThat(fsck.rc()).as(fsck.out()).isZero();
        Path dumped = dir.resolve("w1.dumped");
        Run dump = ServeTest.run(dir, "debugfs", "-R", "dump /w1.bin " + dumped, copy.toString());
        assertThat(dump.rc()).as(dump.out()).isZero();
        assertThat(Files.readAllBytes(dumped)).isEqualTo(w1);

        // a clean stop and a new server on the same files: the same bytes
        try (ServerProcess s = ServerProcess.start(dir, serve)) {
            Path again = dir.resolve("again.img");
            Run get = ServeTest.run(dir, "nbdcopy", s.uri, again.toString());
            assertThat(get.rc()).as(get.out()).isZero();
            assertThat(ServeTest.mismatch(copy, again, SIZE)).as("first differing byte after the restart")
                    .isEqualTo(-1);
            assertThat(s.terminate()).isZero();
        }
    }

    static Run runVm(Path dir, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("run-kernel-nbd.sh did not finish in 300 s");
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Path resource(String name) throws URISyntaxException {
        URL u = KernelNbdClientTest.class.getResource("/kernel-nbd/" + name);
        assertThat(u).as("test resource kernel-nbd/" + name).isNotNull();
        return Path.of(u.toURI());
    }

    static String field(List<String> lines, String key) {
        for (String l : lines) {
            if (l.startsWith(key + " ")) {
                return l.substring(key.length() + 1).trim();
            }
        }
        throw new AssertionError("the guest printed no " + key + " line:\n" + String.join("\n", lines));
    }

    static String lastLine(String s) {
        String[] l = s.trim().split("\n");
        return l[l.length - 1];
    }

    static Path sparse(Path p, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static String md5(byte[] b) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }
}
