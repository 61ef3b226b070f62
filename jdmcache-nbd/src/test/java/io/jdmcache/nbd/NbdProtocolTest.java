package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdTestClient.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Drives the server with the pure-Java wire client: handshake, every command, and hostile input. */
class NbdProtocolTest {
    static final int SIZE = 8 << 20;

    @TempDir
    Path dir;
    Path file;
    byte[] initial;
    NbdServer server;
    SocketAddress addr;

    @BeforeEach
    void setUp() throws IOException {
        file = dir.resolve("disk.img");
        initial = new byte[SIZE];
        new Random(42).nextBytes(initial);
        Files.write(file, initial);
    }

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            server.stop();
        }
    }

    void start(NbdBackend backend, NbdServer.Options options) throws IOException {
        server = new NbdServer(backend, options);
        addr = server.start(loopback(0));
    }

    void start() throws IOException {
        start(FileBackend.open(file, false), NbdServer.Options.defaults().withExportName("disk1")
                .withDescription("test disk"));
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    // ------------------------------------------------------------------ handshake

    @Test
    void greetingAndOptionHaggling() throws IOException {
        start();
        try (NbdTestClient c = connect(addr)) {
            assertThat(c.handshakeFlags & 1).as("FIXED_NEWSTYLE").isEqualTo(1);
            c.option(0x1234, "junk".getBytes(StandardCharsets.US_ASCII));
            OptReply r = c.optReply();
            assertThat(r.option()).isEqualTo(0x1234);
            assertThat(r.type()).isEqualTo(ERR_UNSUP);
            for (int opt : new int[] {OPT_PEEK_EXPORT, OPT_EXTENDED_HEADERS, 12, 0x7fffffff}) {
                c.option(opt, new byte[0]);
                assertThat(c.optReply().type()).as("option %d", opt).isEqualTo(ERR_UNSUP);
            }
            c.option(OPT_STARTTLS, new byte[0]);
            assertThat(c.optReply().type()).isEqualTo(ERR_POLICY);
            c.option(OPT_LIST, new byte[] {1, 2, 3, 4});
            assertThat(c.optReply().type()).isEqualTo(ERR_INVALID);
            c.option(OPT_LIST, new byte[0]);
            List<OptReply> list = c.optReplies();
            assertThat(list).hasSize(2);
            assertThat(list.get(0).type()).isEqualTo(REP_SERVER);
            ByteBuffer s = ByteBuffer.wrap(list.get(0).data());
            int nl = s.getInt();
            assertThat(new String(list.get(0).data(), 4, nl, StandardCharsets.UTF_8)).isEqualTo("disk1");
            assertThat(list.get(1).type()).isEqualTo(REP_ACK);
            // GO whose name length exceeds the option
            c.option(OPT_GO, ByteBuffer.allocate(6).putInt(100).putShort((short) 0).array());
            assertThat(c.optReply().type()).isEqualTo(ERR_INVALID);
            // INFO with a wrong info-request count
            byte[] bad = namePayload("disk1", 3);
            c.option(OPT_INFO, Arrays.copyOf(bad, bad.length - 1));
            assertThat(c.optReply().type()).isEqualTo(ERR_INVALID);
            // SET_META_CONTEXT before structured replies
            c.option(OPT_SET_META_CONTEXT, metaPayload("disk1", "base:allocation"));
            assertThat(c.optReplies()).last().extracting(OptReply::type).isEqualTo(ERR_INVALID);
            c.option(OPT_STRUCTURED_REPLY, new byte[] {0});
            assertThat(c.optReply().type()).isEqualTo(ERR_INVALID);
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            assertThat(c.optReply().type()).isEqualTo(REP_ACK);
            c.option(OPT_INFO, namePayload("nope"));
            assertThat(c.optReplies()).last().extracting(OptReply::type).isEqualTo(ERR_UNKNOWN);
            // INFO then GO for the same export give the same data
            List<OptReply> info = c.go(OPT_INFO, "disk1", 3, 1, 2);
            int infoFlags = c.transmissionFlags;
            List<OptReply> go = c.go(OPT_GO, "disk1", 3, 1, 2);
            assertThat(go).hasSameSizeAs(info);
            for (int i = 0; i < go.size(); i++) {
                assertThat(go.get(i).data()).isEqualTo(info.get(i).data());
            }
            assertThat(c.transmissionFlags).isEqualTo(infoFlags);
            assertThat(go).last().extracting(OptReply::type).isEqualTo(REP_ACK);
            assertThat(c.size).isEqualTo(SIZE);
            // HAS_FLAGS SEND_FLUSH SEND_FUA SEND_TRIM SEND_WRITE_ZEROES SEND_DF MULTI_CONN SEND_CACHE FAST_ZERO
            assertThat(c.transmissionFlags).isEqualTo(0x0ded);
            boolean sawBlockSize = false;
            boolean sawName = false;
            boolean sawDescription = false;
            for (OptReply r2 : go) {
                if (r2.type() != REP_INFO) {
                    continue;
                }
                ByteBuffer b = ByteBuffer.wrap(r2.data());
                int t = b.getShort();
                if (t == 3) {
                    sawBlockSize = true;
                    assertThat(b.getInt()).isEqualTo(1);
                    assertThat(b.getInt()).isEqualTo(4096);
                    assertThat(b.getInt()).isEqualTo(32 << 20);
                } else if (t == 1) {
                    sawName = new String(r2.data(), 2, r2.data().length - 2, StandardCharsets.UTF_8).equals("disk1");
                } else if (t == 2) {
                    sawDescription = new String(r2.data(), 2, r2.data().length - 2, StandardCharsets.UTF_8)
                            .equals("test disk");
                }
            }
            assertThat(sawBlockSize).isTrue();
            assertThat(sawName).isTrue();
            assertThat(sawDescription).isTrue();
            // no padding after the GO ACK: the first reply parses
            c.structured = true;
            assertThat(c.read(0, 4096).data()).isEqualTo(Arrays.copyOf(initial, 4096));
        }
    }

    @Test
    void metaContextNegotiation() throws IOException {
        start();
        try (NbdTestClient c = connect(addr)) {
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            c.optReply();
            c.option(OPT_LIST_META_CONTEXT, metaPayload("disk1", "base:"));
            List<OptReply> l = c.optReplies();
            assertThat(l).hasSize(2);
            assertThat(l.get(0).type()).isEqualTo(REP_META_CONTEXT);
            assertThat(new String(l.get(0).data(), 4, l.get(0).data().length - 4, StandardCharsets.UTF_8))
                    .isEqualTo("base:allocation");
            c.option(OPT_LIST_META_CONTEXT, metaPayload("disk1"));
            assertThat(c.optReplies()).extracting(OptReply::type).containsExactly(REP_META_CONTEXT, REP_ACK);
            c.option(OPT_LIST_META_CONTEXT, metaPayload("disk1", "qemu:dirty-bitmap:x"));
            assertThat(c.optReplies()).extracting(OptReply::type).containsExactly(REP_ACK);
            c.option(OPT_SET_META_CONTEXT, metaPayload("disk1", "base:"));
            assertThat(c.optReplies()).extracting(OptReply::type).containsExactly(REP_ACK);
            c.option(OPT_SET_META_CONTEXT, metaPayload("nope", "base:allocation"));
            assertThat(c.optReplies()).extracting(OptReply::type).containsExactly(ERR_UNKNOWN);
            byte[] m = metaPayload("disk1", "base:allocation");
            c.option(OPT_SET_META_CONTEXT, Arrays.copyOf(m, m.length - 3));
            assertThat(c.optReplies()).extracting(OptReply::type).containsExactly(ERR_INVALID);
            c.option(OPT_SET_META_CONTEXT, m);
            List<OptReply> set = c.optReplies();
            assertThat(set).extracting(OptReply::type).containsExactly(REP_META_CONTEXT, REP_ACK);
            int id = ByteBuffer.wrap(set.get(0).data()).getInt();
            assertThat(id).isNotZero();
            c.go(OPT_GO, "disk1");
            c.structured = true;
            long ck = c.request(CMD_BLOCK_STATUS, 0, 0, 1 << 20, null);
            Reply r = c.reply(0);
            assertThat(r.cookie()).isEqualTo(ck);
            assertThat(r.error()).isZero();
            ByteBuffer b = ByteBuffer.wrap(r.data());
            assertThat(b.getInt()).isEqualTo(id);
            assertThat(b.getInt()).isEqualTo(1 << 20);
            assertThat(b.getInt()).isEqualTo(0);
        }
    }

    @Test
    void abortAndUnknownClientFlagsAndExportName() throws IOException {
        start();
        try (NbdTestClient c = connect(addr)) {
            c.option(OPT_ABORT, new byte[0]);
            assertThat(c.optReply().type()).isEqualTo(REP_ACK);
            assertThat(c.closedByServer(5000)).isTrue();
        }
        try (NbdTestClient c = NbdTestClient.open(addr)) {
            c.clientFlags(0x80);
            assertThat(c.closedByServer(5000)).isTrue();
        }
        try (NbdTestClient c = connect(addr)) {
            c.option(OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));
            assertThat(c.closedByServer(5000)).as("EXPORT_NAME of an unknown export drops").isTrue();
        }
        for (int flags : new int[] {1, 3}) {
            try (NbdTestClient c = NbdTestClient.open(addr)) {
                c.clientFlags(flags);
                c.option(OPT_EXPORT_NAME, "disk1".getBytes(StandardCharsets.UTF_8));
                byte[] head = c.readRaw(flags == 3 ? 10 : 134);
                ByteBuffer b = ByteBuffer.wrap(head);
                assertThat(b.getLong()).isEqualTo(SIZE);
                assertThat(b.getShort() & 0xffff).isEqualTo(0x0d6d); // no DF without structured replies
                while (b.hasRemaining()) {
                    assertThat(b.get()).isZero();
                }
                assertThat(c.read(8192, 512).data()).isEqualTo(Arrays.copyOfRange(initial, 8192, 8192 + 512));
            }
        }
    }

    @Test
    void oversizedOptionIsRefusedAndHagglingGoesOn() throws IOException {
        start();
        try (NbdTestClient c = connect(addr)) {
            c.option(OPT_LIST, new byte[100_000]);
            assertThat(c.optReply().type()).isEqualTo(ERR_TOO_BIG);
            c.option(OPT_LIST, new byte[0]);
            assertThat(c.optReplies()).last().extracting(OptReply::type).isEqualTo(REP_ACK);
        }
        try (NbdTestClient c = connect(addr)) {
            c.rawOption(OPT_LIST, 0x7fffffff, new byte[0]);
            assertThat(c.closedByServer(5000)).as("a 2 GiB option drops the connection").isTrue();
        }
    }

    // ------------------------------------------------------------------ commands

    @Test
    void readWriteAtAnyAlignmentBothReplyModes() throws IOException {
        start();
        for (boolean structured : new boolean[] {false, true}) {
            try (NbdTestClient c = ready(addr, structured, false)) {
                int seed = structured ? 2 : 1;
                long[] offsets = {1, 511, 4095, 65537, SIZE - 3};
                int[] lengths = {3, 513, 8194, 100_001, 3};
                for (int i = 0; i < offsets.length; i++) {
                    byte[] d = bytes(lengths[i], seed * 100 + i);
                    assertThat(c.write(offsets[i], d, i % 2 == 0 ? FLAG_FUA : 0).error()).isZero();
                    Reply r = c.read(offsets[i], lengths[i]);
                    assertThat(r.error()).isZero();
                    assertThat(r.structured()).isEqualTo(structured);
                    assertThat(r.data()).isEqualTo(d);
                    System.arraycopy(d, 0, initial, (int) offsets[i], d.length);
                }
                assertThat(c.command(CMD_FLUSH, 0, 0, 0).error()).isZero();
                assertThat(Files.readAllBytes(file)).isEqualTo(initial);
                // a 32 MiB-limited big read is served whole
                assertThat(c.read(0, SIZE).data()).isEqualTo(initial);
            }
        }
    }

    @Test
    void largeStructuredReadsComeInPiecesUnlessDontFragment() throws IOException {
        start();
        int piece = NbdConnection.READ_PIECE;
        int len = 2 * piece + 5;
        long off = 3;
        byte[] want = java.util.Arrays.copyOfRange(initial, (int) off, (int) off + len);
        try (NbdTestClient c = ready(addr, true, false)) {
            Reply r = c.read(off, len);
            assertThat(r.error()).isZero();
            assertThat(r.chunks()).isEqualTo(3);
            assertThat(r.data()).isEqualTo(want);
            long cookie = c.request(CMD_READ, FLAG_DF, off, len, null);
            Reply df = c.reply(len);
            assertThat(df.cookie()).isEqualTo(cookie);
            assertThat(df.chunks()).isEqualTo(1);
            assertThat(df.data()).isEqualTo(want);
            // exactly one piece is one chunk
            assertThat(c.read(0, piece).chunks()).isEqualTo(1);
        }
        try (NbdTestClient c = ready(addr, false, false)) { // simple replies: always whole
            Reply r = c.read(off, len);
            assertThat(r.structured()).isFalse();
            assertThat(r.data()).isEqualTo(want);
        }
    }

    @Test
    void aReadFailingAfterSomePiecesEndsWithAnErrorChunk() throws IOException {
        int piece = NbdConnection.READ_PIECE;
        GatedBackend failing = new GatedBackend(FileBackend.open(file, false), -1);
        failing.failReadsFrom = 2L * piece;
        start(failing, NbdServer.Options.defaults());
        try (NbdTestClient c = ready(addr, true, false)) {
            Reply r = c.read(0, 3 * piece);
            assertThat(r.error()).isEqualTo(5); // EIO
            assertThat(r.chunks()).isEqualTo(3); // two data chunks, then the error
            assertThat(r.data()).isEqualTo(java.util.Arrays.copyOf(initial, 2 * piece));
            // the connection is still in step
            assertThat(c.read(7, 100).data()).isEqualTo(java.util.Arrays.copyOfRange(initial, 7, 107));
        }
    }

    @Test
    void pipelinedRequestsAreServedWithBusyPollingOffAndLong() throws IOException {
        for (int micros : new int[] {0, 5000}) {
            if (server != null) {
                server.stop();
            }
            start(FileBackend.open(file, false), NbdServer.Options.defaults().withBusyPollMicros(micros));
            try (NbdTestClient c = ready(addr, true, false)) {
                for (int i = 0; i < 20; i++) {
                    int off = i * 4099;
                    assertThat(c.read(off, 4096).data()).isEqualTo(Arrays.copyOfRange(initial, off, off + 4096));
                }
            }
        }
        assertThatThrownBy(() -> NbdServer.Options.defaults().withBusyPollMicros(-1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void manyRequestsInOneSegmentGetEveryReplyWithItsData() throws IOException {
        start();
        try (NbdTestClient c = ready(addr, true, false)) {
            // 300 writes and reads in one send: the reader finds each next request already buffered, serves
            // them itself and holds their replies back until it would wait for more input
            java.io.ByteArrayOutputStream batch = new java.io.ByteArrayOutputStream();
            java.util.Map<Long, byte[]> wantRead = new java.util.HashMap<>();
            Set<Long> writes = new HashSet<>();
            byte[] model = initial.clone();
            for (int i = 0; i < 300; i++) {
                long cookie = 10_000 + i;
                // writes in the first half, reads in the second: NBD does not order requests in flight
                int off = (i * 7919) % (SIZE / 2 - 8192) + (i % 3 == 0 ? 0 : SIZE / 2);
                ByteBuffer h = ByteBuffer.allocate(28);
                if (i % 3 == 0) {
                    byte[] d = bytes(1000 + i, i);
                    h.putInt(0x25609513).putShort((short) 0).putShort((short) CMD_WRITE).putLong(cookie)
                            .putLong(off).putInt(d.length);
                    batch.write(h.array());
                    batch.write(d);
                    System.arraycopy(d, 0, model, off, d.length);
                    writes.add(cookie);
                } else {
                    int len = 1 + (i * 31) % 6000;
                    h.putInt(0x25609513).putShort((short) 0).putShort((short) CMD_READ).putLong(cookie)
                            .putLong(off).putInt(len);
                    batch.write(h.array());
                    wantRead.put(cookie, Arrays.copyOfRange(model, off, off + len));
                }
            }
            c.rawBytes(batch.toByteArray());
            Set<Long> gotWrites = new HashSet<>();
            for (int i = 0; i < 300; i++) {
                Reply r = c.reply(0);
                assertThat(r.error()).isZero();
                if (writes.contains(r.cookie())) {
                    gotWrites.add(r.cookie());
                } else {
                    assertThat(r.data()).as("read %d", r.cookie()).isEqualTo(wantRead.remove(r.cookie()));
                }
            }
            assertThat(gotWrites).isEqualTo(writes);
            assertThat(wantRead).isEmpty();
            assertThat(c.read(0, SIZE).data()).isEqualTo(model);
        }
    }

    @Test
    void trimZeroesCacheAndFastZero() throws IOException {
        start();
        try (NbdTestClient c = ready(addr, true, false)) {
            assertThat(c.command(CMD_TRIM, 0, 4096, 8192).error()).isZero();
            assertThat(c.command(CMD_TRIM, FLAG_FUA, 3, 5).error()).isZero();
            assertThat(c.command(CMD_CACHE, 0, 0, 1 << 20).error()).isZero();
            assertThat(c.command(CMD_WRITE_ZEROES, 0, 1001, 70_000).error()).isZero();
            assertThat(c.read(1001, 70_000).data()).isEqualTo(new byte[70_000]);
            assertThat(c.read(1000, 1).data()[0]).isEqualTo(initial[1000]);
            assertThat(c.read(71_001, 1).data()[0]).isEqualTo(initial[71_001]);
            assertThat(c.command(CMD_WRITE_ZEROES, FLAG_NO_HOLE | FLAG_FUA, 3 << 20, 3 << 20).error()).isZero();
            assertThat(c.read(3 << 20, 3 << 20).data()).isEqualTo(new byte[3 << 20]);
            // FAST_ZERO on a backend that cannot zero fast: ENOTSUP, data untouched
            Reply r = c.command(CMD_WRITE_ZEROES, FLAG_FAST_ZERO, 7 << 20, 4096);
            assertThat(r.error()).isEqualTo(ENOTSUP);
            assertThat(c.read(7 << 20, 4096).data())
                    .isEqualTo(Arrays.copyOfRange(initial, 7 << 20, (7 << 20) + 4096));
        }
    }

    @Test
    void blockStatusExtentsAndReqOne() throws IOException {
        GatedBackend g = new GatedBackend(FileBackend.open(file, false), -1);
        g.extents = List.of(new Extent(1 << 20, 0), new Extent(2 << 20, NbdBackend.STATE_HOLE
                | NbdBackend.STATE_ZERO), new Extent(5 << 20, NbdBackend.STATE_ZERO));
        start(g, NbdServer.Options.defaults());
        try (NbdTestClient c = ready(addr, true, true)) {
            Reply r = c.command(CMD_BLOCK_STATUS, 0, 0, SIZE);
            ByteBuffer b = ByteBuffer.wrap(r.data());
            assertThat(b.getInt()).isEqualTo(c.baseAllocationId);
            assertThat(new int[] {b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getInt()})
                    .containsExactly(1 << 20, 0, 2 << 20, 3, 5 << 20, 2);
            r = c.command(CMD_BLOCK_STATUS, FLAG_REQ_ONE, 0, 4096);
            b = ByteBuffer.wrap(r.data());
            assertThat(r.data()).hasSize(12);
            b.getInt();
            assertThat(b.getInt()).as("REQ_ONE extent no longer than the request").isEqualTo(4096);
            r = c.command(CMD_BLOCK_STATUS, 0, 0, 2 << 20);
            assertThat(r.data()).hasSize(4 + 16);
            assertThat(ByteBuffer.wrap(r.data()).getInt(12)).isEqualTo(1 << 20);
            assertThat(c.command(CMD_BLOCK_STATUS, 0, SIZE - 4096, 8192).error()).isEqualTo(EINVAL);
        }
        try (NbdTestClient c = ready(addr, true, false)) {
            assertThat(c.command(CMD_BLOCK_STATUS, 0, 0, 4096).error()).as("no context selected")
                    .isEqualTo(EINVAL);
        }
    }

    @Test
    void invalidRequestsGetErrorsAndTheStreamStaysInSync() throws IOException {
        start();
        for (boolean structured : new boolean[] {false, true}) {
            try (NbdTestClient c = ready(addr, structured, false)) {
                assertThat(c.command(CMD_READ, 0, SIZE - 4096, 8192).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_READ, 0, -4096L, 4096).error()).isEqualTo(EINVAL);
                assertThat(c.write(SIZE - 4096, new byte[8192], 0).error()).isEqualTo(ENOSPC);
                assertThat(c.command(CMD_WRITE_ZEROES, 0, SIZE, 1).error()).isEqualTo(ENOSPC);
                assertThat(c.command(CMD_TRIM, 0, SIZE - 1, 2).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_CACHE, 0, SIZE, 1).error()).isEqualTo(EINVAL);
                assertThat(c.command(99, 0, 0, 512).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_READ, 0x8000, 0, 512).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_READ, FLAG_NO_HOLE, 0, 512).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_FLUSH, 0, 4096, 0).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_READ, 0, 0, 0).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_READ, 0, 0, (32 << 20) + 1).error()).isEqualTo(EINVAL);
                assertThat(c.command(CMD_READ, 0, 0, (64 << 20) + 4096).error()).isEqualTo(EINVAL);
                assertThat(c.read(4096, 4096).data()).isEqualTo(Arrays.copyOfRange(initial, 4096, 8192));
            }
        }
        assertThat(Files.readAllBytes(file)).as("no invalid request changed the file").isEqualTo(initial);
    }

    @Test
    void statsCountRequestsBytesErrorsAndConnections() throws IOException {
        start();
        try (NbdTestClient c = ready(addr, true, false)) {
            c.read(0, 4096);
            c.read(8192, 100);
            assertThat(c.write(0, new byte[512], 0).error()).isZero();
            assertThat(c.command(CMD_FLUSH, 0, 0, 0).error()).isZero();
            assertThat(c.command(CMD_READ, 0, SIZE, 512).error()).isEqualTo(EINVAL);
            assertThat(c.command(99, 0, 0, 0).error()).isEqualTo(EINVAL);
        }
        try (NbdTestClient c = ready(addr, false, false)) {
            assertThat(c.command(CMD_TRIM, 0, 0, 4096).error()).isZero();
        }
        NbdStats s = server.stats();
        assertThat(s.requests()).containsEntry("read", 3L).containsEntry("write", 1L).containsEntry("flush", 1L)
                .containsEntry("trim", 1L).containsEntry("other", 1L).containsEntry("write_zeroes", 0L);
        assertThat(s.readBytes()).as("the refused read is not counted").isEqualTo(4196);
        assertThat(s.writtenBytes()).isEqualTo(512);
        assertThat(s.errors()).isEqualTo(2);
        assertThat(s.connectionsAccepted()).isEqualTo(2);
    }

    @Test
    void protocolViolationsCloseOnlyThatConnection() throws IOException {
        start();
        try (NbdTestClient other = ready(addr, true, false)) {
            try (NbdTestClient c = ready(addr, true, false)) {
                c.rawRequest(0xdeadbeef, CMD_READ, 0, 1, 0, 512, null);
                assertThat(c.closedByServer(5000)).as("bad magic").isTrue();
            }
            try (NbdTestClient c = ready(addr, true, false)) {
                c.rawRequest(REQUEST_MAGIC, CMD_WRITE, 0, 1, 0, (64 << 20), new byte[100]);
                assertThat(c.closedByServer(5000)).as("64 MiB write payload").isTrue();
            }
            try (NbdTestClient c = ready(addr, true, false)) { // vanishes mid-payload
                c.rawRequest(REQUEST_MAGIC, CMD_WRITE, 0, 7, 0, 1 << 20, new byte[1000]);
            }
            try (NbdTestClient c = ready(addr, true, false)) { // vanishes with a big read in flight
                c.request(CMD_READ, 0, 0, SIZE, null);
            }
            try (NbdTestClient c = NbdTestClient.open(addr)) { // vanishes mid-handshake
                c.rawBytes(new byte[] {0, 0});
            }
            assertThat(other.read(0, 4096).data()).isEqualTo(Arrays.copyOf(initial, 4096));
            try (NbdTestClient c = ready(addr, true, false)) {
                assertThat(c.read(0, 4096).data()).isEqualTo(Arrays.copyOf(initial, 4096));
            }
        }
        assertThat(Files.readAllBytes(file)).as("the half-sent write was not applied").isEqualTo(initial);
    }

    @Test
    void readOnlyExportRefusesWrites() throws IOException {
        start(FileBackend.open(file, true), NbdServer.Options.defaults());
        try (NbdTestClient c = ready(addr, true, false)) {
            assertThat(c.transmissionFlags & 2).as("READ_ONLY flag").isEqualTo(2);
            assertThat(c.write(0, new byte[4096], 0).error()).isEqualTo(EPERM);
            assertThat(c.write(0, new byte[4096], FLAG_FUA).error()).isEqualTo(EPERM);
            assertThat(c.command(CMD_TRIM, 0, 0, 4096).error()).isEqualTo(EPERM);
            assertThat(c.command(CMD_WRITE_ZEROES, FLAG_NO_HOLE, 0, 4096).error()).isEqualTo(EPERM);
            assertThat(c.command(CMD_WRITE_ZEROES, FLAG_FAST_ZERO, 0, 4096).error()).isEqualTo(EPERM);
            assertThat(c.command(CMD_FLUSH, 0, 0, 0).error()).isZero();
            assertThat(c.read(0, 4096).data()).isEqualTo(Arrays.copyOf(initial, 4096));
        }
        assertThat(Files.readAllBytes(file)).isEqualTo(initial);
    }

    @Test
    void pipelinedRequestsAllAnswered() throws IOException {
        start();
        try (NbdTestClient c = ready(addr, true, false)) {
            Set<Long> sent = new HashSet<>();
            for (int i = 0; i < 64; i++) {
                byte[] d = bytes(4096, 1000 + i);
                sent.add(c.request(CMD_WRITE, 0, i * 4096L, 4096, d));
                System.arraycopy(d, 0, initial, i * 4096, 4096);
            }
            Set<Long> got = new HashSet<>();
            for (int i = 0; i < 64; i++) {
                Reply r = c.reply(0);
                assertThat(r.error()).isZero();
                got.add(r.cookie());
            }
            assertThat(got).isEqualTo(sent);
            assertThat(c.read(0, 64 * 4096).data()).isEqualTo(Arrays.copyOf(initial, 64 * 4096));
        }
    }

    @Test
    void repliesMayOvertakeASlowRequest() throws Exception {
        GatedBackend g = new GatedBackend(FileBackend.open(file, false), 0);
        start(g, NbdServer.Options.defaults().withInlineIdle(false));
        try (NbdTestClient c = ready(addr, true, false)) {
            long slow = c.request(CMD_READ, 0, 0, 4096, null);
            assertThat(g.entered.await(30, TimeUnit.SECONDS)).isTrue();
            long fast = c.request(CMD_READ, 0, 4096, 4096, null);
            Reply first = c.reply(4096);
            assertThat(first.cookie()).isEqualTo(fast);
            assertThat(first.data()).isEqualTo(Arrays.copyOfRange(initial, 4096, 8192));
            g.open();
            Reply second = c.reply(4096);
            assertThat(second.cookie()).isEqualTo(slow);
            assertThat(second.data()).isEqualTo(Arrays.copyOf(initial, 4096));
        }
    }

    @Test
    void backPressureAtTheInFlightLimitLosesNothing() throws Exception {
        GatedBackend g = new GatedBackend(FileBackend.open(file, false), 0);
        start(g, NbdServer.Options.defaults().withInlineIdle(false));
        int n = 400; // more than the 256 requests a connection may have in flight
        try (NbdTestClient c = ready(addr, true, false)) {
            byte[] d = bytes(4096, 3);
            Throwable[] sendFailure = new Throwable[1];
            Thread sender = new Thread(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        c.request(CMD_WRITE, 0, 0, 4096, d);
                    }
                } catch (Throwable e) {
                    sendFailure[0] = e;
                }
            });
            sender.start();
            assertThat(g.entered.await(30, TimeUnit.SECONDS)).isTrue();
            g.open();
            Set<Long> got = new HashSet<>();
            for (int i = 0; i < n; i++) {
                Reply r = c.reply(0);
                assertThat(r.error()).isZero();
                got.add(r.cookie());
            }
            sender.join();
            assertThat(sendFailure[0]).isNull();
            assertThat(got).hasSize(n);
            assertThat(c.read(0, 4096).data()).isEqualTo(d);
        }
    }

    @Test
    void multiConnWriteAndFlushVisibleOnOtherConnection() throws IOException {
        start();
        try (NbdTestClient a = ready(addr, true, false); NbdTestClient b = ready(addr, false, false)) {
            assertThat(a.transmissionFlags & 0x100).isEqualTo(0x100);
            byte[] d = bytes(4096, 7);
            a.write(8 * 4096, d, 0);
            assertThat(a.command(CMD_FLUSH, 0, 0, 0).error()).isZero();
            assertThat(b.read(8 * 4096, 4096).data()).isEqualTo(d);
        }
    }

    @Test
    void discFinishesWritesFlushesAndCloses() throws IOException {
        GatedBackend g = new GatedBackend(FileBackend.open(file, false), -1);
        start(g, NbdServer.Options.defaults());
        byte[] d = bytes(1 << 20, 9);
        try (NbdTestClient c = ready(addr, true, false)) {
            c.request(CMD_WRITE, 0, 12345, d.length, d);
            c.request(CMD_DISC, 0, 0, 0, null);
            assertThat(c.reply(0).error()).isZero();
            assertThat(c.closedByServer(10_000)).isTrue();
        }
        System.arraycopy(d, 0, initial, 12345, d.length);
        assertThat(Files.readAllBytes(file)).isEqualTo(initial);
        server.stop();
        assertThat(g.flushes.get()).as("flush on DISC and on stop").isGreaterThanOrEqualTo(1);
    }

    @Test
    void gracefulStopFinishesInFlightRequestsThenClosesTheBackend() throws Exception {
        GatedBackend g = new GatedBackend(FileBackend.open(file, false), 4096);
        start(g, NbdServer.Options.defaults().withInlineIdle(false));
        byte[] d = bytes(4096, 11);
        try (NbdTestClient c = ready(addr, true, false)) {
            long ck = c.request(CMD_WRITE, 0, 4096, 4096, d);
            assertThat(g.entered.await(30, TimeUnit.SECONDS)).isTrue();
            Thread stopper = new Thread(() -> {
                try {
                    server.stop();
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            stopper.start();
            stopper.join(300);
            assertThat(stopper.isAlive()).as("stop waits for the request in flight").isTrue();
            assertThat(g.closes.get()).isZero();
            g.open();
            Reply r = c.reply(0);
            assertThat(r.cookie()).isEqualTo(ck);
            assertThat(r.error()).isZero();
            stopper.join(60_000);
            assertThat(stopper.isAlive()).isFalse();
            assertThat(g.closes.get()).isEqualTo(1);
            assertThat(g.flushes.get()).isGreaterThanOrEqualTo(1);
            assertThat(c.closedByServer(5000)).isTrue();
        }
        System.arraycopy(d, 0, initial, 4096, 4096);
        assertThat(Files.readAllBytes(file)).isEqualTo(initial);
        assertThatThrownBy(() -> NbdTestClient.connect(addr)).isInstanceOf(ConnectException.class);
        server = null;
    }

    @Test
    void unixSocket() throws IOException {
        Path sock = dir.resolve("nbd.sock");
        server = new NbdServer(FileBackend.open(file, false), NbdServer.Options.defaults());
        addr = server.start(UnixDomainSocketAddress.of(sock));
        assertThat(Files.exists(sock)).isTrue();
        try (NbdTestClient c = ready(addr, true, false)) {
            byte[] d = bytes(5000, 5);
            assertThat(c.write(77, d, FLAG_FUA).error()).isZero();
            assertThat(c.read(77, 5000).data()).isEqualTo(d);
        }
        server.stop();
        server = null;
        assertThat(Files.exists(sock)).as("socket file removed on stop").isFalse();
    }

    @Test
    void manyConnectionsAtOnce() throws Exception {
        start();
        int n = 8;
        Thread[] t = new Thread[n];
        Throwable[] failure = new Throwable[n];
        for (int i = 0; i < n; i++) {
            int id = i;
            t[i] = new Thread(() -> {
                try (NbdTestClient c = ready(addr, id % 2 == 0, false)) {
                    for (int k = 0; k < 50; k++) {
                        byte[] d = bytes(3000, id * 1000 + k);
                        long off = id * (SIZE / n) + k * 3001L;
                        c.write(off, d, 0);
                        assertThat(c.read(off, d.length).data()).isEqualTo(d);
                    }
                } catch (Throwable e) {
                    failure[id] = e;
                }
            });
            t[i].start();
        }
        for (Thread x : t) {
            x.join();
        }
        for (Throwable f : failure) {
            assertThat(f).isNull();
        }
    }
}
