package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdTestClient.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several exports on one server: listed, described and selected by name; added and removed while serving. */
class NbdExportsTest {
    @TempDir
    Path dir;
    NbdServer server;
    SocketAddress addr;

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.stop();
        }
    }

    byte[] content(int size, int seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    Path file(String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, content);
        return f;
    }

    /** The names and descriptions NBD_OPT_LIST gives, as "name=description". */
    static List<String> list(NbdTestClient c) throws IOException {
        c.option(OPT_LIST, new byte[0]);
        List<OptReply> reps = c.optReplies();
        assertThat(reps).last().extracting(OptReply::type).isEqualTo(REP_ACK);
        List<String> out = new ArrayList<>();
        for (OptReply r : reps.subList(0, reps.size() - 1)) {
            assertThat(r.type()).isEqualTo(REP_SERVER);
            ByteBuffer b = ByteBuffer.wrap(r.data());
            int n = b.getInt();
            out.add(new String(r.data(), 4, n, StandardCharsets.UTF_8) + "="
                    + new String(r.data(), 4 + n, r.data().length - 4 - n, StandardCharsets.UTF_8));
        }
        return out;
    }

    /** The name and description NBD_OPT_INFO reports for {@code name}, or the error type as hex. */
    static String info(NbdTestClient c, String name) throws IOException {
        List<OptReply> reps = c.go(OPT_INFO, name, 1, 2);
        OptReply last = reps.get(reps.size() - 1);
        if (last.type() != REP_ACK) {
            return Integer.toHexString(last.type());
        }
        String n = null;
        String d = "";
        for (OptReply r : reps) {
            if (r.type() == REP_INFO) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                int t = b.getShort();
                String v = new String(r.data(), 2, r.data().length - 2, StandardCharsets.UTF_8);
                if (t == 1) {
                    n = v;
                } else if (t == 2) {
                    d = v;
                }
            }
        }
        return n + "=" + d + " size " + c.size;
    }

    @Test
    void exportsAreListedDescribedAndSelectedByName() throws IOException {
        byte[] a = content(1 << 20, 1);
        byte[] b = content(2 << 20, 2);
        server = new NbdServer(NbdServer.Options.defaults());
        NbdExport ea = server.addExport("alpha", "first volume", FileBackend.open(file("a.img", a), false));
        NbdExport eb = server.addExport("beta", "second, read-only", FileBackend.open(file("b.img", b), true));
        addr = server.start(loopback(0));
        try (NbdTestClient c = connect(addr)) {
            assertThat(list(c)).containsExactly("alpha=first volume", "beta=second, read-only");
            assertThat(info(c, "alpha")).isEqualTo("alpha=first volume size " + (1 << 20));
            assertThat(info(c, "beta")).isEqualTo("beta=second, read-only size " + (2 << 20));
            assertThat(c.transmissionFlags & 2).as("beta is read-only").isEqualTo(2);
            assertThat(info(c, "")).as("no default export").isEqualTo(Integer.toHexString(ERR_UNKNOWN));
            assertThat(info(c, "gamma")).isEqualTo(Integer.toHexString(ERR_UNKNOWN));
        }
        try (NbdTestClient ca = ready(addr, "alpha", true, false);
                NbdTestClient cb = ready(addr, "beta", false, false)) {
            assertThat(ca.size).isEqualTo(1 << 20);
            assertThat(cb.size).isEqualTo(2 << 20);
            assertThat(ca.read(4096, 4096).data()).isEqualTo(Arrays.copyOfRange(a, 4096, 8192));
            assertThat(cb.read(4096, 4096).data()).isEqualTo(Arrays.copyOfRange(b, 4096, 8192));
            assertThat(cb.write(0, new byte[512], 0).error()).isEqualTo(EPERM);
            assertThat(ca.write(0, new byte[512], 0).error()).isZero();
            assertThat(ea.connectionCount()).isEqualTo(1);
            assertThat(eb.connectionCount()).isEqualTo(1);
        }
        assertThatThrownBy(() -> ready(addr, "", false, false)).hasMessageContaining("GO refused");
        server.setDefaultExport("beta");
        try (NbdTestClient c = ready(addr, false, false)) {
            assertThat(c.size).as("the empty name selects the default export").isEqualTo(2 << 20);
            assertThat(c.read(0, 512).data()).isEqualTo(Arrays.copyOf(b, 512));
        }
        try (NbdTestClient c = connect(addr)) {
            assertThat(info(c, "")).isEqualTo("beta=second, read-only size " + (2 << 20));
        }
        try (NbdTestClient c = connect(addr)) { // the old EXPORT_NAME way
            c.option(OPT_EXPORT_NAME, "gamma".getBytes(StandardCharsets.UTF_8));
            assertThat(c.closedByServer(5000)).as("EXPORT_NAME of an unknown export").isTrue();
        }
        assertThat(ea.stats().requests()).containsEntry("read", 1L).containsEntry("write", 1L);
        assertThat(ea.stats().readBytes()).isEqualTo(4096);
        assertThat(eb.stats().requests()).containsEntry("read", 2L).containsEntry("write", 1L);
        assertThat(eb.stats().errors()).isEqualTo(1);
        assertThat(ea.stats().connectionsAccepted()).isEqualTo(1);
        assertThat(eb.stats().connectionsAccepted()).isEqualTo(2);
        assertThat(server.stats().requests()).as("the server's counters sum its exports'")
                .containsEntry("read", 3L).containsEntry("write", 2L);
        assertThat(server.stats().readBytes()).isEqualTo(4096 + 4096 + 512);
        assertThat(server.stats().connectionsAccepted()).isEqualTo(7);
        try (FileBackend dup = FileBackend.open(file("c.img", a), false)) {
            assertThatThrownBy(() -> server.addExport("alpha", "", dup))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alpha");
        }
        byte[] written = a.clone();
        Arrays.fill(written, 0, 512, (byte) 0);
        server.stop();
        assertThat(Files.readAllBytes(dir.resolve("a.img"))).isEqualTo(written);
        assertThat(server.exports()).isEmpty();
    }

    @Test
    void exportsAreAddedAndRemovedWhileServing() throws Exception {
        byte[] a = content(1 << 20, 3);
        byte[] b = content(1 << 20, 4);
        GatedBackend ga = new GatedBackend(FileBackend.open(file("a.img", a), false), -1);
        GatedBackend gb = new GatedBackend(FileBackend.open(file("b.img", b), false), 8192);
        server = new NbdServer(NbdServer.Options.defaults().withInlineIdle(false));
        server.addExport("alpha", "", ga);
        addr = server.start(loopback(0));
        try (NbdTestClient ca = ready(addr, "alpha", true, false)) {
            try (NbdTestClient c = connect(addr)) {
                assertThat(list(c)).containsExactly("alpha=");
            }
            NbdExport eb = server.addExport("beta", "added later", gb);
            byte[] d = content(4096, 5);
            try (NbdTestClient cb = ready(addr, "beta", true, false);
                    NbdTestClient lister = connect(addr)) {
                assertThat(list(lister)).containsExactly("alpha=", "beta=added later");
                long ck = cb.request(CMD_WRITE, 0, 8192, 4096, d);
                assertThat(gb.entered.await(30, TimeUnit.SECONDS)).isTrue();
                boolean[] removed = new boolean[1];
                Thread remover = new Thread(() -> {
                    try {
                        removed[0] = server.removeExport("beta");
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                remover.start();
                remover.join(300);
                assertThat(remover.isAlive()).as("removal waits for the request in flight").isTrue();
                assertThat(gb.closes.get()).isZero();
                // while beta drains, it is gone for new clients, and alpha serves on
                assertThat(list(lister)).containsExactly("alpha=");
                assertThat(info(lister, "beta")).isEqualTo(Integer.toHexString(ERR_UNKNOWN));
                assertThat(ca.read(0, 4096).data()).isEqualTo(Arrays.copyOf(a, 4096));
                gb.open();
                Reply r = cb.reply(0);
                assertThat(r.cookie()).isEqualTo(ck);
                assertThat(r.error()).isZero();
                remover.join(60_000);
                assertThat(remover.isAlive()).isFalse();
                assertThat(removed[0]).isTrue();
                assertThat(gb.closes.get()).as("beta's backend closed").isEqualTo(1);
                assertThat(gb.flushes.get()).as("and flushed first").isGreaterThanOrEqualTo(1);
                assertThat(cb.closedByServer(5000)).as("beta's client was disconnected").isTrue();
                assertThat(eb.connectionCount()).isZero();
            }
            assertThat(server.removeExport("beta")).as("already removed").isFalse();
            assertThat(ca.read(8192, 4096).data()).isEqualTo(Arrays.copyOfRange(a, 8192, 8192 + 4096));
            assertThat(ga.closes.get()).as("alpha untouched").isZero();
            System.arraycopy(d, 0, b, 8192, 4096);
            assertThat(Files.readAllBytes(dir.resolve("b.img"))).isEqualTo(b);
            // the name can be used again, for another backend
            byte[] c2 = content(1 << 20, 6);
            server.addExport("beta", "again", FileBackend.open(file("b2.img", c2), false));
            try (NbdTestClient cb = ready(addr, "beta", false, false)) {
                assertThat(cb.read(0, 4096).data()).isEqualTo(Arrays.copyOf(c2, 4096));
            }
        }
        server.stop();
        assertThat(ga.closes.get()).isEqualTo(1);
        try (FileBackend g = FileBackend.open(file("g.img", a), false)) {
            assertThatThrownBy(() -> server.addExport("gamma", "", g)).isInstanceOf(IllegalStateException.class);
        }
    }
}
