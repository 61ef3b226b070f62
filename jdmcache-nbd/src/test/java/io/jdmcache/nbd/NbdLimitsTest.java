package io.jdmcache.nbd;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.jdmcache.nbd.NbdTestClient.loopback;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The handshake timeout, the connection limit, and the Unix socket path's safety. */
class NbdLimitsTest {
    @TempDir
    Path dir;
    NbdServer server;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.stop();
        }
    }

    private java.net.SocketAddress start(NbdServer.Options options) throws IOException {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[1 << 20]);
        server = new NbdServer(FileBackend.open(file, false), options);
        return server.start(loopback(0));
    }

    /** Reads until the server closes the connection; true if it did within the test's time. */
    private static boolean closedByServer(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(256);
        while (true) {
            b.clear();
            if (c.read(b) < 0) {
                return true;
            }
        }
    }

    @Test
    void clientsThatNeverFinishTheHandshakeAreDisconnected() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            var addr = start(NbdServer.Options.defaults().withHandshakeTimeoutMillis(300));
            List<SocketChannel> idle = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                idle.add(SocketChannel.open(addr));
            }
            long t0 = System.nanoTime();
            for (SocketChannel c : idle) {
                assertThat(closedByServer(c)).isTrue();
                c.close();
            }
            assertThat((System.nanoTime() - t0) / 1_000_000).as("all closed by the 300 ms timeout").isLessThan(20_000);
            assertThat(server.handshakeTimeouts()).isEqualTo(20);
            // a client that does finish its handshake is not cut off by the timer afterwards
            try (NbdTestClient c = NbdTestClient.ready(addr, true, false)) {
                Thread.sleep(600);
                assertThat(c.read(0, 4096).error()).isZero();
            }
            while (server.connectionCount() > 0) {
                Thread.sleep(10);
            }
        });
    }

    @Test
    void clientsBeyondTheLimitAreToldWhy() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            var addr = start(NbdServer.Options.defaults().withMaxConnections(2));
            try (NbdTestClient a = NbdTestClient.ready(addr, true, false);
                 NbdTestClient b = NbdTestClient.ready(addr, false, false)) {
                NbdTestClient c = NbdTestClient.connect(addr);
                c.option(NbdTestClient.OPT_GO, NbdTestClient.namePayload(""));
                NbdTestClient.OptReply r = c.optReplies().get(0);
                assertThat(r.type()).isEqualTo(NbdTestClient.ERR_POLICY);
                assertThat(new String(r.data(), StandardCharsets.UTF_8))
                        .isEqualTo("too many connections: this server serves at most 2 at once (--max-connections)");
                c.close();
                assertThat(server.refusedConnections()).isEqualTo(1);
                assertThat(a.read(0, 512).error()).isZero();
                assertThat(b.read(0, 512).error()).isZero();
            }
            while (server.connectionCount() > 0) {
                Thread.sleep(10);
            }
            try (NbdTestClient again = NbdTestClient.ready(addr, true, false)) {
                assertThat(again.read(0, 512).error()).as("served once the others left").isZero();
            }
        });
    }

    @Test
    void aUnixSocketPathIsOnlyEverReplacedWhenItIsAStaleSocket() throws Exception {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[1 << 20]);
        // a regular file there is refused and kept
        Path taken = dir.resolve("taken");
        Files.writeString(taken, "precious");
        NbdServer s1 = new NbdServer(FileBackend.open(file, false), NbdServer.Options.defaults());
        assertThatThrownBy(() -> s1.start(UnixDomainSocketAddress.of(taken)))
                .hasMessageContaining("a regular file is already there and is not a socket");
        assertThat(Files.readString(taken)).isEqualTo("precious");
        Path emptyDir = Files.createDirectory(dir.resolve("emptydir"));
        assertThatThrownBy(() -> s1.start(UnixDomainSocketAddress.of(emptyDir)))
                .hasMessageContaining("a directory is already there");
        assertThat(emptyDir).isDirectory();
        // a socket somebody answers on is refused and kept
        Path live = dir.resolve("live.sock");
        try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            other.bind(UnixDomainSocketAddress.of(live));
            assertThatThrownBy(() -> s1.start(UnixDomainSocketAddress.of(live)))
                    .hasMessageContaining("a running server already answers on it");
        }
        s1.stop();
        // a stale socket (its server gone, as after kill -9) is replaced
        Path stale = dir.resolve("stale.sock");
        ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        gone.bind(UnixDomainSocketAddress.of(stale));
        gone.close(); // the JDK does not remove the file: as a crash leaves it
        assertThat(stale).exists();
        server = new NbdServer(FileBackend.open(file, false), NbdServer.Options.defaults());
        server.start(UnixDomainSocketAddress.of(stale));
        try (NbdTestClient c = NbdTestClient.ready(UnixDomainSocketAddress.of(stale), true, false)) {
            assertThat(c.read(0, 512).error()).isZero();
        }
    }

    @Test
    void anIpv4WildcardBindsIpv4Only() throws IOException {
        Path file = dir.resolve("disk.img");
        Files.write(file, new byte[1 << 20]);
        server = new NbdServer(FileBackend.open(file, false), NbdServer.Options.defaults());
        var bound = (InetSocketAddress) server.start(new InetSocketAddress("0.0.0.0", 0));
        assertThat(bound.getAddress().getHostAddress()).isEqualTo("0.0.0.0");
        assertThatThrownBy(() -> SocketChannel.open(new InetSocketAddress("::1", bound.getPort())).close())
                .as("IPv6 loopback is not served by an IPv4 wildcard").isInstanceOf(IOException.class);
        SocketChannel.open(new InetSocketAddress("127.0.0.1", bound.getPort())).close();
        assertThatThrownBy(() -> new NbdServer(FileBackend.open(file, true), NbdServer.Options.defaults())
                .start(InetSocketAddress.createUnresolved("no-such-host.invalid", 1)))
                .hasMessageContaining("does not resolve");
    }
}
