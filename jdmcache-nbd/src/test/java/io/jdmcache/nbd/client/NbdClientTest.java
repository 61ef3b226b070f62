package io.jdmcache.nbd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jdmcache.nbd.Extent;
import io.jdmcache.nbd.FileBackend;
import io.jdmcache.nbd.NbdBackend;
import io.jdmcache.nbd.NbdErrorException;
import io.jdmcache.nbd.NbdServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The NBD client against real servers started by the test: jdmcache's own NbdServer, nbdkit (memory and file
 * plugins, with filters that change what it advertises or inject failures) and qemu-nbd. A test needing a
 * program that is not installed is skipped, naming the package.
 */
class NbdClientTest {
    @TempDir
    Path dir;
    final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    <T extends AutoCloseable> T later(T c) {
        toClose.add(c);
        return c;
    }

    NbdClient connect(String uri, NbdClient.Options o) throws IOException {
        return later(NbdClient.connect(uri, o));
    }

    NbdClient connect(String uri) throws IOException {
        return connect(uri, NbdClient.Options.defaults());
    }

    ServerProcess nbdkit(String... args) throws IOException {
        return later(ServerProcess.nbdkit(dir, "nbdkit" + toClose.size(), args));
    }

    static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static byte[] read(NbdClient c, long off, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        c.read(off, b);
        assertThat(b.hasRemaining()).isFalse();
        return b.array();
    }

    /** Random writes and reads at any offset and length, checked against a model of the export. */
    static void randomIo(NbdClient c, long seed, int ops, int maxLen) throws IOException {
        int size = (int) c.size();
        byte[] model = read(c, 0, size);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < ops; i++) {
            int len = 1 + r.nextInt(maxLen);
            int off = r.nextInt(size - len + 1);
            if (r.nextBoolean()) {
                byte[] data = random(r.nextLong(), len);
                c.write(off, ByteBuffer.wrap(data), r.nextInt(8) == 0);
                System.arraycopy(data, 0, model, off, len);
            } else {
                assertThat(read(c, off, len)).as("read %d at %d", len, off)
                        .isEqualTo(Arrays.copyOfRange(model, off, off + len));
            }
        }
        c.flush();
        assertThat(read(c, 0, size)).isEqualTo(model);
    }

    NbdServer ownServer(Path file, NbdServer.Options o) throws IOException {
        NbdServer s = new NbdServer(FileBackend.open(file, false), o);
        toClose.add(s::stop);
        s.start(new InetSocketAddress("127.0.0.1", 0));
        return s;
    }

    static String uriOf(NbdServer s, String export) {
        return "nbd://127.0.0.1:" + ((InetSocketAddress) s.address()).getPort() + "/" + export;
    }

    Path file(String name, int size, long seed) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, random(seed, size));
        return f;
    }

    // ---------------------------------------------------------------- jdmcache's own server

    @Test
    void ownServerEveryCommand() throws Exception {
        Path f = file("disk.img", 4 << 20, 1);
        NbdServer s = ownServer(f, NbdServer.Options.defaults().withExportName("disk"));
        NbdClient c = connect(uriOf(s, "disk"));
        assertThat(c.size()).isEqualTo(4 << 20);
        assertThat(c.structuredReplies()).isTrue();
        assertThat(c.canBlockStatus()).isTrue();
        assertThat(c.canFlush()).isTrue();
        assertThat(c.canFua()).isTrue();
        assertThat(c.canTrim()).isTrue();
        assertThat(c.canWriteZeroes()).isTrue();
        assertThat(c.canMultiConn()).isTrue();
        assertThat(c.isReadOnly()).isFalse();
        assertThat(c.blockSizesAdvertised()).isTrue();
        assertThat(c.minimumBlockSize()).isEqualTo(1);
        assertThat(c.preferredBlockSize()).isEqualTo(4096);
        assertThat(c.maximumPayload()).isEqualTo(32 << 20);
        assertThat(read(c, 0, 4 << 20)).isEqualTo(Files.readAllBytes(f));

        randomIo(c, 2, 300, 200_000);
        c.writeZeroes(100_001, 70_000, true);
        assertThat(read(c, 100_001, 70_000)).isEqualTo(new byte[70_000]);
        c.trim(0, 1 << 20);
        assertThat(c.blockStatus(0, 4 << 20)).containsExactly(new Extent(4 << 20, 0));
        c.flush();
        byte[] now = read(c, 0, 4 << 20);
        c.close();
        assertThat(Files.readAllBytes(f)).isEqualTo(now);
        assertThat(s.stats().connectionsAccepted()).isEqualTo(1);
    }

    @Test
    void multiConnOpensTheConnectionsAskedFor() throws Exception {
        Path f = file("disk.img", 2 << 20, 3);
        NbdServer s = ownServer(f, NbdServer.Options.defaults());
        NbdClient c = connect(uriOf(s, ""), NbdClient.Options.defaults().withConnections(4));
        assertThat(c.connectionCount()).isEqualTo(4);
        assertThat(s.connectionCount()).isEqualTo(4);
        // many threads at once: the requests spread over the connections and stay matched to their replies
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> fs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int base = t * (256 << 10);
                long seed = 10 + t;
                fs.add(pool.submit(() -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    byte[] model = read(c, base, 256 << 10);
                    for (int i = 0; i < 200; i++) {
                        int len = 1 + r.nextInt(8192);
                        int off = r.nextInt((256 << 10) - len);
                        if (r.nextBoolean()) {
                            byte[] d = random(r.nextLong(), len);
                            c.write(base + off, ByteBuffer.wrap(d), false);
                            System.arraycopy(d, 0, model, off, len);
                        } else {
                            assertThat(read(c, base + off, len)).isEqualTo(Arrays.copyOfRange(model, off, off + len));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> x : fs) {
                x.get();
            }
        } finally {
            pool.shutdown();
        }
        c.flush();
        byte[] all = read(c, 0, 2 << 20);
        c.close();
        assertThat(Files.readAllBytes(f)).isEqualTo(all);
    }

    @Test
    void unknownExportIsRefusedByName() throws Exception {
        NbdServer s = ownServer(file("disk.img", 1 << 20, 4), NbdServer.Options.defaults().withExportName("disk"));
        assertThatThrownBy(() -> connect(uriOf(s, "nope")))
                .isInstanceOf(NbdHandshakeException.class)
                .hasMessageContaining("no export named 'nope'");
    }

    @Test
    void notAnNbdServerIsNamedAsSuch() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = ss.accept(); OutputStream o = s.getOutputStream()) {
                    o.write("HTTP/1.0 400 Bad Request\r\n\r\n".getBytes());
                    o.flush();
                    s.getInputStream().read();
                } catch (IOException e) {
                    // the client hung up
                }
            });
            t.start();
            assertThatThrownBy(() -> connect("nbd://127.0.0.1:" + ss.getLocalPort() + "/"))
                    .isInstanceOf(NbdHandshakeException.class)
                    .hasMessageContaining("not an NBD server");
            t.join(5000);
        }
    }

    @Test
    void aSilentServerTimesOutTheHandshake() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                try (Socket s = ss.accept(); InputStream in = s.getInputStream()) {
                    in.read();
                } catch (IOException e) {
                    // closed by the client
                }
            });
            t.start();
            assertThatThrownBy(() -> connect("nbd://127.0.0.1:" + ss.getLocalPort() + "/",
                    NbdClient.Options.defaults().withConnectTimeoutMillis(300)))
                    .isInstanceOf(NbdTimeoutException.class)
                    .hasMessageContaining("no answer within 300 ms");
            t.join(5000);
        }
    }

    @Test
    void nothingListeningIsAOneLineError() throws Exception {
        int port = ServerProcess.freePort();
        assertThatThrownBy(() -> connect("nbd://127.0.0.1:" + port + "/"))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith("nbd://127.0.0.1:" + port + "/: cannot connect");
    }

    @Test
    void readOnlyExportRefusesWrites() throws Exception {
        Path f = file("disk.img", 1 << 20, 5);
        NbdServer s = new NbdServer(FileBackend.open(f, true), NbdServer.Options.defaults());
        toClose.add(s::stop);
        s.start(new InetSocketAddress("127.0.0.1", 0));
        NbdClient c = connect(uriOf(s, ""));
        assertThat(c.isReadOnly()).isTrue();
        assertThatThrownBy(() -> c.write(0, ByteBuffer.allocate(10), false))
                .isInstanceOfSatisfying(NbdErrorException.class, e -> assertThat(e.error()).isEqualTo(1));
        assertThat(read(c, 0, 1 << 20)).isEqualTo(Files.readAllBytes(f));
    }

    // ---------------------------------------------------------------- nbdkit

    @Test
    void nbdkitMemoryBlockStatusAndZeroes() throws Exception {
        ServerProcess k = nbdkit("memory", "size=8M");
        NbdClient c = connect(k.uri());
        assertThat(c.canBlockStatus()).isTrue();
        assertThat(c.blockStatus(0, 8 << 20)).containsExactly(new Extent(8 << 20, NbdBackend.STATE_HOLE
                | NbdBackend.STATE_ZERO));
        c.write(1 << 20, ByteBuffer.wrap(random(6, 65536)), false);
        List<Extent> bs = c.blockStatus(0, 8 << 20);
        long pos = 0;
        boolean sawData = false;
        for (Extent e : bs) {
            boolean inData = pos < (1 << 20) + 65536 && pos + e.length() > 1 << 20;
            if (e.flags() == 0) {
                sawData = true;
                assertThat(inData).as("data extent at %d", pos).isTrue();
            }
            pos += e.length();
        }
        assertThat(sawData).isTrue();
        assertThat(pos).isLessThanOrEqualTo(8 << 20);
        // an unaligned question gets an answer starting where it was asked
        List<Extent> mid = c.blockStatus((1 << 20) + 100, 1000);
        assertThat(mid.get(0).flags()).isZero();
        assertThat(mid.stream().mapToLong(Extent::length).sum()).isBetween(1L, 1000L);
        c.writeZeroes(1 << 20, 65536, false);
        assertThat(read(c, 1 << 20, 65536)).isEqualTo(new byte[65536]);
        randomIo(c, 7, 300, 300_000);
    }

    @Test
    void nbdkitMinimumBlockSizeIsHonoured() throws Exception {
        // the filter fails any request not aligned to 4 KiB or longer than 64 KiB: only a client that keeps
        // to the advertised constraints passes
        ServerProcess k = nbdkit("--filter=blocksize-policy", "memory", "size=4M", "blocksize-minimum=4096",
                "blocksize-preferred=16384", "blocksize-maximum=65536", "blocksize-error-policy=error");
        NbdClient c = connect(k.uri());
        assertThat(c.minimumBlockSize()).isEqualTo(4096);
        assertThat(c.preferredBlockSize()).isEqualTo(16384);
        assertThat(c.maximumPayload()).isEqualTo(65536);
        randomIo(c, 8, 400, 300_000);
        c.writeZeroes(5, 20_000, true);
        assertThat(read(c, 5, 20_000)).isEqualTo(new byte[20_000]);
        c.trim(3, 100_000);
        assertThat(c.blockStatus(4097, 10).stream().mapToLong(Extent::length).sum()).isEqualTo(10);
    }

    @Test
    void nbdkitWithoutStructuredReplies() throws Exception {
        ServerProcess k = nbdkit("--no-sr", "memory", "size=2M");
        NbdClient c = connect(k.uri());
        assertThat(c.structuredReplies()).isFalse();
        assertThat(c.canBlockStatus()).isFalse();
        assertThat(c.blockStatus(0, 2 << 20)).containsExactly(new Extent(2 << 20, 0));
        randomIo(c, 9, 200, 100_000);
    }

    @Test
    void nbdkitWithoutZeroesOrFua() throws Exception {
        ServerProcess k = nbdkit("--filter=nozero", "--filter=fua", "memory", "size=2M", "zeromode=none");
        NbdClient c = connect(k.uri());
        assertThat(c.canWriteZeroes()).isFalse();
        assertThat(c.canFua()).isFalse();
        c.write(0, ByteBuffer.wrap(random(10, 1 << 20)), true);
        c.writeZeroes(1000, 500_000, false);
        byte[] got = read(c, 0, 1 << 20);
        assertThat(Arrays.copyOfRange(got, 1000, 501_000)).isEqualTo(new byte[500_000]);
        assertThat(Arrays.copyOfRange(got, 0, 1000)).isEqualTo(Arrays.copyOfRange(random(10, 1 << 20), 0, 1000));
    }

    @Test
    void nbdkitErrorRepliesFailOnlyTheirRequest() throws Exception {
        ServerProcess k = nbdkit("--filter=error", "memory", "size=1M", "error-pread=EIO",
                "error-pread-rate=100%");
        NbdClient c = connect(k.uri());
        c.write(0, ByteBuffer.wrap(random(11, 4096)), false);
        assertThatThrownBy(() -> read(c, 0, 4096))
                .isInstanceOfSatisfying(NbdErrorException.class, e -> assertThat(e.error()).isEqualTo(5))
                .hasMessageContaining("EIO");
        assertThat(c.isAlive()).isTrue();
        c.write(4096, ByteBuffer.wrap(random(12, 4096)), false);
        c.flush();
    }

    @Test
    void nbdkitMultiConnOnlyWhenAdvertised() throws Exception {
        ServerProcess on = nbdkit("memory", "size=1M");
        assertThat(connect(on.uri(), NbdClient.Options.defaults().withConnections(3)).connectionCount())
                .isEqualTo(3);
        ServerProcess off = nbdkit("--filter=multi-conn", "memory", "size=1M", "multi-conn-mode=disable");
        NbdClient c = connect(off.uri(), NbdClient.Options.defaults().withConnections(3));
        assertThat(c.canMultiConn()).isFalse();
        assertThat(c.connectionCount()).isEqualTo(1);
    }

    @Test
    void nbdkitFilePluginOverTcp() throws Exception {
        Path f = file("disk.img", 4 << 20, 13);
        int port = ServerProcess.freePort();
        later(ServerProcess.nbdkitTcp(dir, "file", port, "file", f.toString()));
        NbdClient c = connect("nbd://127.0.0.1:" + port + "/");
        assertThat(read(c, 0, 4 << 20)).isEqualTo(Files.readAllBytes(f));
        randomIo(c, 14, 200, 1 << 20);
        byte[] now = read(c, 0, 4 << 20);
        c.close();
        assertThat(Files.readAllBytes(f)).isEqualTo(now);
    }

    @Test
    void slowServerTimesOutAndTheConnectionIsClosed() throws Exception {
        ServerProcess k = nbdkit("--filter=delay", "memory", "size=1M", "rdelay=5");
        NbdClient c = connect(k.uri(), NbdClient.Options.defaults().withRequestTimeoutMillis(300));
        c.write(0, ByteBuffer.wrap(random(15, 4096)), false);
        assertThatThrownBy(() -> read(c, 0, 4096))
                .isInstanceOf(NbdTimeoutException.class)
                .hasMessageContaining("no reply within 300 ms");
        assertThat(c.isAlive()).isFalse();
        assertThatThrownBy(() -> c.flush()).isInstanceOf(NbdTimeoutException.class);
    }

    @Test
    void killedServerFailsTheRequestsInsteadOfHanging() throws Exception {
        ServerProcess k = nbdkit("--filter=delay", "memory", "size=1M", "wdelay=2");
        NbdClient c = connect(k.uri());
        Thread killer = new Thread(() -> {
            try {
                Thread.sleep(300);
                k.kill();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        killer.start();
        assertThatThrownBy(() -> c.write(0, ByteBuffer.wrap(random(16, 4096)), false))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("connection lost");
        killer.join();
        assertThat(c.isAlive()).isFalse();
    }

    // ---------------------------------------------------------------- qemu-nbd

    @Test
    void qemuNbd() throws Exception {
        Path f = file("disk.img", 4 << 20, 17);
        ServerProcess q = later(ServerProcess.qemuNbd(dir, "qemu", f, "--cache=writeback"));
        NbdClient c = connect(q.uri(), NbdClient.Options.defaults().withConnections(2));
        assertThat(c.size()).isEqualTo(4 << 20);
        assertThat(c.structuredReplies()).isTrue();
        assertThat(c.canBlockStatus()).isTrue();
        assertThat(c.canFlush()).isTrue();
        assertThat(c.connectionCount()).isEqualTo(c.canMultiConn() ? 2 : 1);
        assertThat(read(c, 0, 4 << 20)).isEqualTo(Files.readAllBytes(f));
        randomIo(c, 18, 300, 300_000);
        c.writeZeroes(0, 1 << 20, false);
        assertThat(read(c, 0, 1 << 20)).isEqualTo(new byte[1 << 20]);
        byte[] now = read(c, 0, 4 << 20);
        c.close();
        assertThat(Files.readAllBytes(f)).isEqualTo(now);
    }

    @Test
    void qemuNbdReadOnlyNamedExport() throws Exception {
        Path f = file("disk.img", 1 << 20, 19);
        ServerProcess q = later(ServerProcess.qemuNbd(dir, "qemu", f, "-r", "-x", "vol1"));
        String uri = q.uri().replace("nbd+unix:///", "nbd+unix:///vol1");
        NbdClient c = connect(uri);
        assertThat(c.isReadOnly()).isTrue();
        assertThat(read(c, 12345, 5000)).isEqualTo(Arrays.copyOfRange(Files.readAllBytes(f), 12345, 17345));
        assertThatThrownBy(() -> connect(q.uri())).isInstanceOf(NbdHandshakeException.class);
    }

    static void sparse(Path f, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[1]), size - 1);
        }
    }
}
