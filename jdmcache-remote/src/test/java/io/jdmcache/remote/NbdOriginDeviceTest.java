package io.jdmcache.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.jdmcache.nbd.NbdErrorException;
import io.jdmcache.nbd.client.ServerProcess;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.Devices;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The remote origin device against nbdkit started, killed and restarted by the test. */
class NbdOriginDeviceTest {
    @TempDir
    Path dir;
    final List<AutoCloseable> toClose = new ArrayList<>();
    final List<String> log = Collections.synchronizedList(new ArrayList<>());

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

    RemoteOptions options(long timeoutMs) {
        return RemoteOptions.defaults().withTimeoutMillis(timeoutMs).withRetryMaxMillis(200).withLog(log::add);
    }

    NbdOriginDevice open(String uri, RemoteOptions o) throws IOException {
        return later(NbdOriginDevice.open(uri, o));
    }

    static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    static byte[] read(BlockDevice d, long off, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        d.read(off, b);
        assertThat(b.hasRemaining()).isFalse();
        return b.array();
    }

    static void awaitState(NbdOriginDevice d, NbdOriginDevice.State s) throws InterruptedException {
        for (int i = 0; i < 1000 && d.state() != s; i++) {
            Thread.sleep(10);
        }
        assertThat(d.state()).isEqualTo(s);
    }

    @Test
    void sizeAndDataFromTheServer() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "mem", "memory", "size=3M"));
        NbdOriginDevice d = open(k.uri(), options(5000));
        assertThat(d.size()).isEqualTo(3 << 20);
        assertThat(d.isReadOnly()).isFalse();
        assertThat(d.name()).isEqualTo(k.uri());
        byte[] data = random(1, 100_000);
        d.write(12345, ByteBuffer.wrap(data));
        d.flush();
        assertThat(d.unflushedBytes()).isZero();
        assertThat(read(d, 12345, data.length)).isEqualTo(data);
        d.writeZeroes(20_000, 50_000);
        assertThat(read(d, 20_000, 50_000)).isEqualTo(new byte[50_000]);
        assertThat(d.state()).isEqualTo(NbdOriginDevice.State.CONNECTED);
        assertThatThrownBy(() -> d.read((3 << 20) - 10, ByteBuffer.allocate(20))).isInstanceOf(IOException.class);
    }

    /**
     * Unallocated ranges are answered from block status: nbdkit fails every data read here (error filter), so
     * a read succeeds only when it never reaches the server; once written, a range is read from the server.
     */
    @Test
    void readsOfUnallocatedRangesDoNotFetchData() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "holes", "--filter=error", "memory", "size=64M",
                "error-pread=EIO", "error-pread-rate=100%"));
        NbdOriginDevice d = open(k.uri(), options(5000));
        assertThat(read(d, 0, 1 << 20)).isEqualTo(new byte[1 << 20]);
        assertThat(read(d, (40 << 20) + 12345, 70_000)).isEqualTo(new byte[70_000]);
        assertThat(d.zeroReads()).isEqualTo(2);
        d.write((3 << 20) + 100, ByteBuffer.wrap(random(8, 1000)));
        assertThatThrownBy(() -> read(d, 3 << 20, 4096))
                .isInstanceOfSatisfying(NbdErrorException.class, e -> assertThat(e.error()).isEqualTo(5));
        assertThatThrownBy(() -> read(d, (4 << 20) - 10, 20)).as("a read reaching into the written granule")
                .isInstanceOf(NbdErrorException.class);
        assertThat(read(d, 4 << 20, 4096)).isEqualTo(new byte[4096]);
    }

    @Test
    void writtenDataIsReadBackNotTakenForZeroes() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "mem2", "memory", "size=8M"));
        NbdOriginDevice d = open(k.uri(), options(5000));
        assertThat(read(d, 0, 4096)).isEqualTo(new byte[4096]);
        byte[] data = random(9, 3 << 20);
        d.write(1 << 20, ByteBuffer.wrap(data));
        assertThat(read(d, 1 << 20, data.length)).isEqualTo(data);
        long z = d.zeroReads();
        assertThat(read(d, 6 << 20, 4096)).isEqualTo(new byte[4096]);
        assertThat(d.zeroReads()).isEqualTo(z + 1);
    }

    @Test
    void openedByNameThroughTheProvider() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "mem", "memory", "size=1M"));
        BlockDevice d = later(Devices.openNamed(k.uri(), false));
        assertThat(d).isInstanceOf(NbdOriginDevice.class);
        assertThat(d.size()).isEqualTo(1 << 20);
        assertThatThrownBy(() -> Devices.openNamed("nbds://127.0.0.1/", false))
                .hasMessageContaining("TLS (nbds://) is not supported");
        assertThatThrownBy(() -> Devices.openNamed("iscsi://h/x", false))
                .hasMessage("no support for iscsi:// devices here");
    }

    @Test
    void readOnlyExportIsAReadOnlyDevice() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "ro", "-r", "pattern", "size=1M"));
        NbdOriginDevice d = open(k.uri(), options(5000));
        assertThat(d.isReadOnly()).isTrue();
        assertThatThrownBy(() -> d.write(0, ByteBuffer.allocate(512)))
                .isInstanceOfSatisfying(NbdErrorException.class, e -> assertThat(e.error()).isEqualTo(1));
        assertThat(read(d, 0, 16)).isNotEqualTo(new byte[16]);
    }

    @Test
    void errorRepliesFailTheRequestAndKeepTheConnection() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "err", "--filter=error", "memory", "size=1M",
                "error-pread=EIO", "error-pread-rate=100%"));
        NbdOriginDevice d = open(k.uri(), options(5000));
        d.write(0, ByteBuffer.wrap(random(2, 4096))); // data, so the read goes to the server (not a known hole)
        assertThatThrownBy(() -> read(d, 0, 4096))
                .isInstanceOfSatisfying(NbdErrorException.class, e -> assertThat(e.error()).isEqualTo(5));
        assertThat(d.state()).isEqualTo(NbdOriginDevice.State.CONNECTED);
        d.write(0, ByteBuffer.wrap(random(2, 4096)));
        d.flush();
    }

    /**
     * nbdkit's cache filter in writeback mode keeps writes in a temporary file until a flush, and loses them
     * when killed: the device must write them again after reconnecting. Requests made while the server is away
     * wait and go through once it is back.
     */
    @Test
    void restartedServerGetsTheUnflushedWritesAgain() throws Exception {
        Path disk = dir.resolve("disk.img");
        Files.write(disk, new byte[4 << 20]);
        int port = ServerProcess.freePort();
        String[] args = {"--filter=cache", "file", disk.toString(), "cache=writeback"};
        ServerProcess k = ServerProcess.nbdkitTcp(dir, "a", port, args);
        NbdOriginDevice d = open(k.uri(), options(20_000));
        byte[] flushed = random(3, 256 << 10);
        d.write(0, ByteBuffer.wrap(flushed));
        d.flush();
        byte[] unflushed = random(4, 256 << 10);
        d.write(1 << 20, ByteBuffer.wrap(unflushed));
        assertThat(d.unflushedBytes()).isEqualTo(256 << 10);
        assertThat(Arrays.copyOfRange(Files.readAllBytes(disk), 1 << 20, (1 << 20) + (256 << 10)))
                .as("still only in nbdkit's cache").isNotEqualTo(unflushed);
        k.kill();

        byte[] during = random(5, 64 << 10);
        CompletableFuture<Void> w = CompletableFuture.runAsync(() -> {
            try {
                d.write(2 << 20, ByteBuffer.wrap(during));
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        });
        awaitState(d, NbdOriginDevice.State.RECONNECTING);
        Thread.sleep(300);
        assertThat(w).isNotDone();
        later(ServerProcess.nbdkitTcp(dir, "b", port, args));
        w.get();
        awaitState(d, NbdOriginDevice.State.CONNECTED);
        assertThat(d.reconnects()).isEqualTo(1);
        d.flush();
        byte[] onDisk = Files.readAllBytes(disk);
        assertThat(Arrays.copyOfRange(onDisk, 0, 256 << 10)).isEqualTo(flushed);
        assertThat(Arrays.copyOfRange(onDisk, 1 << 20, (1 << 20) + (256 << 10))).isEqualTo(unflushed);
        assertThat(Arrays.copyOfRange(onDisk, 2 << 20, (2 << 20) + (64 << 10))).isEqualTo(during);
        assertThat(log).anyMatch(l -> l.contains("connection lost"))
                .anyMatch(l -> l.contains("reconnected after") && l.contains("replayed"));
        d.close(); // before nbdkit, which waits for its clients when stopped
    }

    @Test
    void anOriginAwayLongerThanTheTimeoutFailsRequestsUntilItIsBack() throws Exception {
        int port = ServerProcess.freePort();
        ServerProcess k = ServerProcess.nbdkitTcp(dir, "a", port, "memory", "size=1M");
        NbdOriginDevice d = open(k.uri(), options(500));
        d.write(0, ByteBuffer.wrap(random(6, 4096)));
        k.kill();
        assertThatThrownBy(() -> read(d, 0, 4096))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("unreachable");
        awaitState(d, NbdOriginDevice.State.FAILED);
        assertThatThrownBy(() -> read(d, 0, 4096)).hasMessageContaining("unreachable since");
        later(ServerProcess.nbdkitTcp(dir, "b", port, "memory", "size=1M"));
        awaitState(d, NbdOriginDevice.State.CONNECTED);
        assertThat(read(d, 0, 4096)).as("the unflushed write was replayed").isEqualTo(random(6, 4096));
        d.close();
    }

    @Test
    void aSlowServerFailsTheRequestAtTheTimeoutAndIsReconnected() throws Exception {
        ServerProcess k = later(ServerProcess.nbdkit(dir, "slow", "--filter=delay", "memory", "size=1M",
                "rdelay=3"));
        NbdOriginDevice d = open(k.uri(), options(300));
        d.write(0, ByteBuffer.wrap(random(7, 4096))); // data, so the read goes to the server (not a known hole)
        assertThatThrownBy(() -> read(d, 0, 4096))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("did not answer within 300 ms");
        awaitState(d, NbdOriginDevice.State.CONNECTED);
        d.write(0, ByteBuffer.wrap(random(7, 4096)));
        assertThat(d.reconnects()).isEqualTo(1);
    }
}
