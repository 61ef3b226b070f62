package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdTestClient.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random sessions against one long-running server: well-formed handshakes and requests mixed with mutated
 * fields, lying lengths, garbage and truncation. Whatever a client sends, the server must
 * <ul>
 *   <li>answer only in well-formed frames: option replies to the option asked, transmission replies with a
 *       known magic, a cookie that was sent and not yet answered, chunks of known types inside the request;</li>
 *   <li>answer every request of a session that broke no rule, and never hang (the session's connection is
 *       gone soon after the client half-closes);</li>
 *   <li>never apply a write that it refused: the last {@value #GUARD} bytes are never a legal target of any
 *       session, and mutated writes aimed across the end of the export must leave them as they were;</li>
 *   <li>go on serving: after every session a fresh client reads, writes and flushes.</li>
 * </ul>
 * A failing try prints its seed; the generator is a plain {@link Random} over it, so the session is replayed
 * from the seed alone.
 */
class NbdFuzzTest {
    static final int SIZE = 4 << 20;
    static final int GUARD = 64 << 10;
    static final int LIMIT = SIZE - GUARD;

    static Path dir;
    static Path file;
    static byte[] guard;
    static NbdServer server;
    static InetSocketAddress addr;

    @BeforeContainer
    static void start() throws IOException {
        dir = Files.createTempDirectory("nbd-fuzz");
        file = dir.resolve("disk.img");
        byte[] initial = new byte[SIZE];
        new Random(7).nextBytes(initial);
        Files.write(file, initial);
        guard = Arrays.copyOfRange(initial, LIMIT, SIZE);
        server = new NbdServer(FileBackend.open(file, false), NbdServer.Options.defaults().withWorkers(4));
        addr = (InetSocketAddress) server.start(loopback(0));
    }

    @AfterContainer
    static void stop() throws IOException {
        if (server != null) {
            server.stop();
        }
        if (dir != null) {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    /** What the reader must see: the option replies in order, then the transmission replies. */
    static final class Session {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<String> steps = new ArrayList<>();
        int clientFlags;
        /** The well-framed options sent, in order; the reader matches their replies one by one. */
        final List<Integer> options = new ArrayList<>();
        /** How transmission was entered: 0 not at all, OPT_GO, OPT_EXPORT_NAME, or OPT_ABORT (none). */
        int entry;
        /** Every request with a valid magic, by cookie. */
        final Map<Long, long[]> requests = new HashMap<>();
        /** True until a frame breaks a rule: then the server may close at any point after it. */
        boolean clean = true;

        void put(byte[] b, String step) {
            bytes.writeBytes(b);
            steps.add(step);
        }

        @Override
        public String toString() {
            return String.join(", ", steps);
        }
    }

    static Session generate(long seed) {
        Random r = new Random(seed);
        Session s = new Session();
        // half the sessions only ever frame their messages honestly (their fields may still be wrong)
        boolean hostile = r.nextBoolean();
        if (hostile && r.nextInt(8) == 0) {
            s.clientFlags = r.nextInt();
            s.clean = (s.clientFlags & ~3) == 0 && (s.clientFlags & 1) != 0;
        } else {
            s.clientFlags = r.nextBoolean() ? 3 : 1;
        }
        s.put(ByteBuffer.allocate(4).putInt(s.clientFlags).array(), "flags " + Integer.toHexString(s.clientFlags));
        if (!s.clean) {
            return s;
        }
        int options = r.nextInt(5);
        for (int i = 0; i < options && s.clean; i++) {
            switch (r.nextInt(hostile ? 8 : 6)) {
                case 0 -> option(s, OPT_STRUCTURED_REPLY, new byte[0]);
                case 1 -> option(s, OPT_SET_META_CONTEXT, metaPayload("", "base:allocation"));
                case 2 -> option(s, OPT_LIST_META_CONTEXT, metaPayload("", r.nextBoolean() ? "base:" : "qemu:x"));
                case 3 -> option(s, OPT_LIST, new byte[0]);
                case 4 -> option(s, OPT_INFO, namePayload(r.nextBoolean() ? "" : "nope", 0, 1, 2, 3));
                case 5 -> { // any option number, any payload, framed honestly
                    byte[] p = new byte[r.nextInt(80)];
                    r.nextBytes(p);
                    int code = r.nextBoolean() ? r.nextInt(16) : r.nextInt();
                    if (code == OPT_EXPORT_NAME || code == OPT_ABORT || code == OPT_GO) {
                        code = OPT_LIST; // these end the haggling; they have their own cases
                    }
                    option(s, code, p);
                }
                case 6 -> { // a header whose length lies about what follows
                    int len = r.nextBoolean() ? r.nextInt(1 << 16) : r.nextInt() & 0x7fffffff;
                    byte[] p = new byte[r.nextInt(64)];
                    r.nextBytes(p);
                    s.put(ByteBuffer.allocate(16 + p.length).putLong(IHAVEOPT).putInt(OPT_INFO).putInt(len).put(p)
                            .array(), "option with length " + len + " and " + p.length + " bytes");
                    s.clean = p.length == len;
                    if (s.clean) {
                        s.options.add(OPT_INFO);
                    }
                }
                default -> garbage(s, r);
            }
        }
        if (!s.clean) {
            return s;
        }
        switch (r.nextInt(8)) {
            case 0 -> {
                s.entry = OPT_EXPORT_NAME;
                byte[] n = new byte[0];
                s.put(ByteBuffer.allocate(16).putLong(IHAVEOPT).putInt(OPT_EXPORT_NAME).putInt(n.length).array(),
                        "EXPORT_NAME");
            }
            case 1 -> {
                s.entry = OPT_ABORT;
                option(s, OPT_ABORT, new byte[0]);
                return s;
            }
            case 2 -> {
                return s; // the client leaves during the haggling
            }
            default -> {
                s.entry = OPT_GO;
                option(s, OPT_GO, namePayload("", 3));
            }
        }
        long cookie = 0;
        int frames = r.nextInt(60);
        for (int i = 0; i < frames && s.clean; i++) {
            cookie++;
            int pick = r.nextInt(hostile ? 100 : 88);
            if (pick < 70) {
                validRequest(s, r, cookie);
            } else if (pick < 88) {
                mutatedRequest(s, r, cookie);
            } else if (pick < 95) {
                garbage(s, r);
            } else {
                byte[] whole = ByteBuffer.allocate(28).putInt(REQUEST_MAGIC).putShort((short) 0)
                        .putShort((short) CMD_READ).putLong(cookie).putLong(0).putInt(512).array();
                byte[] part = Arrays.copyOf(whole, 1 + r.nextInt(27));
                s.put(part, "a request cut after " + part.length + " bytes");
                s.clean = false;
            }
        }
        if (s.clean && r.nextInt(4) == 0) {
            request(s, CMD_DISC, 0, ++cookie, 0, 0, null);
            s.requests.remove(cookie); // DISC has no reply
        }
        return s;
    }

    static void option(Session s, int code, byte[] payload) {
        s.put(ByteBuffer.allocate(16 + payload.length).putLong(IHAVEOPT).putInt(code).putInt(payload.length)
                .put(payload).array(), "option " + code + " (" + payload.length + " bytes)");
        s.options.add(code);
    }

    static void garbage(Session s, Random r) {
        byte[] g = new byte[1 + r.nextInt(40)];
        r.nextBytes(g);
        s.put(g, g.length + " bytes of garbage");
        s.clean = false;
    }

    static void request(Session s, int type, int flags, long cookie, long offset, long length, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(REQUEST_MAGIC).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                .putInt((int) length);
        if (payload != null) {
            b.put(payload);
        }
        s.put(b.array(), "cmd " + type + " flags " + Integer.toHexString(flags) + " at " + offset + " len "
                + Integer.toUnsignedLong((int) length) + (payload == null ? "" : " +" + payload.length));
        s.requests.put(cookie, new long[] {type, offset, Integer.toUnsignedLong((int) length)});
    }

    static void validRequest(Session s, Random r, long cookie) {
        int len = 1 + r.nextInt(r.nextBoolean() ? 4096 : 128 << 10);
        long off = r.nextInt(LIMIT - len + 1);
        switch (r.nextInt(8)) {
            case 0, 1 -> {
                byte[] p = new byte[len];
                r.nextBytes(p);
                request(s, CMD_WRITE, r.nextInt(3) == 0 ? FLAG_FUA : 0, cookie, off, len, p);
            }
            case 2 -> request(s, CMD_FLUSH, 0, cookie, 0, 0, null);
            case 3 -> request(s, CMD_TRIM, r.nextBoolean() ? FLAG_FUA : 0, cookie, off, len, null);
            case 4 -> request(s, CMD_WRITE_ZEROES, (r.nextBoolean() ? FLAG_NO_HOLE : 0)
                    | (r.nextBoolean() ? FLAG_FAST_ZERO : 0) | (r.nextInt(4) == 0 ? FLAG_FUA : 0),
                    cookie, off, len, null);
            case 5 -> request(s, CMD_BLOCK_STATUS, r.nextBoolean() ? FLAG_REQ_ONE : 0, cookie, off, len, null);
            case 6 -> request(s, CMD_CACHE, 0, cookie, off, len, null);
            default -> { // reads, some of them of the guard (which nothing may change)
                long at = r.nextInt(4) == 0 ? LIMIT + r.nextInt(GUARD - 512) : off;
                int n = (int) Math.min(len, SIZE - at);
                request(s, CMD_READ, r.nextBoolean() ? FLAG_DF : 0, cookie, at, n, null);
            }
        }
    }

    /**
     * A request with a good magic and some fields gone wrong: any command number, any flags, offsets that are
     * huge, negative as signed numbers, or across the end of the export. Commands that write are only ever
     * aimed below the guard or across the end of the export, so a write the server wrongly applied in part
     * would show in the guard.
     */
    static void mutatedRequest(Session s, Random r, long cookie) {
        int type = r.nextInt(4) == 0 ? r.nextInt(1 << 16) : r.nextInt(10);
        int flags = r.nextInt(3) == 0 ? r.nextInt(1 << 16) : r.nextInt(0x20);
        long off;
        long len;
        switch (r.nextInt(4)) {
            case 0 -> { // huge or negative offsets; some wrap round to small numbers when the length is added
                off = r.nextBoolean() ? r.nextLong() : -1 - r.nextInt(1 << 20);
                len = r.nextBoolean() ? r.nextInt(1 << 21) : Integer.toUnsignedLong(r.nextInt());
            }
            case 1 -> { // across the end of the export
                off = SIZE - r.nextInt(GUARD);
                len = SIZE - off + 1 + r.nextInt(1 << 16);
            }
            case 2 -> { // a zero or odd length below the guard
                off = r.nextInt(LIMIT);
                len = r.nextInt(4) == 0 ? 0 : r.nextInt((int) (LIMIT - off) + 1);
            }
            default -> { // past the end altogether
                off = SIZE + r.nextInt(1 << 20);
                len = r.nextInt(1 << 16);
            }
        }
        byte[] payload = null;
        if (type == CMD_WRITE) {
            if (len <= 256 << 10) {
                payload = new byte[(int) len];
                r.nextBytes(payload);
            } else {
                s.clean = false; // the server takes what follows as the payload, or hangs up
            }
        }
        if (type == CMD_DISC) {
            s.clean = false; // the server stops reading: what follows is never answered
        }
        request(s, type, flags, cookie, off, len, payload);
        if (type == CMD_DISC) {
            s.requests.remove(cookie);
        }
    }

    @Property(tries = 400)
    void whateverAClientSendsTheServerAnswersInFormAndGoesOn(@ForAll long seed) throws Exception {
        Session s = generate(seed);
        Statistics.label("session").collect(s.clean ? "broke no rule" : "broke a rule",
                switch (s.entry) {
                    case OPT_GO -> "GO";
                    case OPT_EXPORT_NAME -> "EXPORT_NAME";
                    case OPT_ABORT -> "ABORT";
                    default -> "left while haggling";
                });
        int before = server.connectionCount();
        try (Socket sock = new Socket()) {
            sock.connect(addr, 5000);
            sock.setTcpNoDelay(true);
            sock.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(new BufferedInputStream(sock.getInputStream(), 1 << 16));
            byte[] all = s.bytes.toByteArray();
            Thread writer = new Thread(() -> {
                try {
                    sock.getOutputStream().write(all);
                    sock.shutdownOutput();
                } catch (IOException e) {
                    // the server hung up first; the reader decides whether it was allowed to
                }
            }, "fuzz-writer");
            writer.start();
            try {
                readSession(s, in);
            } finally {
                writer.join(20_000);
            }
            assertThat(writer.isAlive()).as("the server stopped reading without closing: %s", s).isFalse();
        }
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (server.connectionCount() > before && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(server.connectionCount()).as("the session's connection ended: %s", s).isLessThanOrEqualTo(before);
        try (NbdTestClient c = ready(addr, (seed & 1) == 0, false)) {
            checkGuard(c.read(LIMIT, GUARD).data(), LIMIT, s);
            byte[] d = new byte[4096];
            new Random(seed).nextBytes(d);
            assertThat(c.write(0, d, 0).error()).isZero();
            assertThat(c.command(CMD_FLUSH, 0, 0, 0).error()).isZero();
            assertThat(c.read(0, 4096).data()).isEqualTo(d);
        }
    }

    /** Reads and checks everything the server sends in the session, up to its end of stream. */
    static void readSession(Session s, DataInputStream in) throws IOException {
        assertThat(in.readLong()).isEqualTo(NBDMAGIC);
        assertThat(in.readLong()).isEqualTo(IHAVEOPT);
        in.readUnsignedShort();
        boolean structured = false;
        boolean transmitting = false;
        try {
            for (int opt : s.options) {
                while (true) {
                    long magic = in.readLong();
                    assertThat(magic).as("option reply magic in %s", s).isEqualTo(OPT_REPLY_MAGIC);
                    int o = in.readInt();
                    int type = in.readInt();
                    int len = in.readInt();
                    assertThat(o).as("the option answered in %s", s).isEqualTo(opt);
                    assertThat(len).as("option reply length").isBetween(0, 1 << 16);
                    in.readFully(new byte[len]);
                    if (type == REP_ACK || (type & 0x80000000) != 0) {
                        structured |= opt == OPT_STRUCTURED_REPLY && type == REP_ACK;
                        transmitting = opt == OPT_GO && type == REP_ACK;
                        break;
                    }
                    assertThat(type).as("reply type to option %d in %s", opt, s)
                            .isIn(REP_SERVER, REP_INFO, REP_META_CONTEXT);
                }
                if (opt == OPT_ABORT) {
                    assertThat(in.read()).as("the server hangs up after ABORT").isEqualTo(-1);
                    return;
                }
            }
            if (s.entry == OPT_EXPORT_NAME) {
                assertThat(in.readLong()).as("export size").isEqualTo(SIZE);
                in.readUnsignedShort();
                if ((s.clientFlags & 2) == 0) {
                    assertThat(in.readNBytes(124)).isEqualTo(new byte[124]);
                }
                transmitting = true;
            }
            if (s.clean && s.entry == OPT_GO) {
                assertThat(transmitting).as("GO accepted in %s", s).isTrue();
            }
            if (!transmitting) {
                // after a frame that broke a rule, the server may still answer it (as an option) before it
                // hangs up; a session that broke none gets nothing more
                while (true) {
                    long magic;
                    try {
                        magic = in.readLong();
                    } catch (EOFException e) {
                        return;
                    }
                    assertThat(s.clean).as("more replies than options in %s", s).isFalse();
                    assertThat(magic).as("option reply magic in %s", s).isEqualTo(OPT_REPLY_MAGIC);
                    in.readInt();
                    in.readInt();
                    int len = in.readInt();
                    assertThat(len).as("option reply length").isBetween(0, 1 << 16);
                    in.readFully(new byte[len]);
                }
            }
            Map<Long, long[]> pending = new HashMap<>(s.requests);
            while (true) {
                int magic;
                try {
                    magic = in.readInt();
                } catch (EOFException e) {
                    break;
                }
                if (magic == SIMPLE) {
                    int err = in.readInt();
                    long[] req = pending.remove(in.readLong());
                    assertThat(req).as("a simple reply to a cookie sent and not yet answered, in %s", s).isNotNull();
                    if (err == 0 && req[0] == CMD_READ) {
                        assertThat(structured).as("a simple READ reply after structured replies were agreed")
                                .isFalse();
                        byte[] d = in.readNBytes((int) req[2]);
                        if (d.length < req[2]) {
                            throw new EOFException("the stream ended inside READ data");
                        }
                        checkGuard(d, req[1], s);
                    }
                } else {
                    assertThat(magic).as("reply magic in %s", s).isEqualTo(STRUCTURED);
                    assertThat(structured).as("a structured reply that was not agreed").isTrue();
                    readStructured(in, pending, s);
                }
            }
            if (s.clean) {
                assertThat(pending.keySet()).as("requests never answered in %s", s).isEmpty();
            }
        } catch (SocketException | EOFException e) {
            // a reset or a cut mid-frame: only allowed once the session broke a rule
            assertThat(s.clean).as("the server cut a session that broke no rule (%s): %s", e, s).isFalse();
        }
    }

    static void readStructured(DataInputStream in, Map<Long, long[]> pending, Session s) throws IOException {
        boolean first = true;
        while (true) {
            if (!first) {
                assertThat(in.readInt()).as("chunk magic in %s", s).isEqualTo(STRUCTURED);
            }
            first = false;
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            long cookie = in.readLong();
            int len = in.readInt();
            long[] req = pending.get(cookie);
            assertThat(req).as("a chunk for cookie %d, sent and not yet answered, in %s", cookie, s).isNotNull();
            assertThat(len).as("chunk length").isBetween(0, (32 << 20) + 8);
            byte[] p = in.readNBytes(len);
            if (p.length < len) {
                throw new EOFException("the stream ended inside a chunk");
            }
            ByteBuffer b = ByteBuffer.wrap(p);
            switch (type) {
                case 0 -> assertThat(len).isZero();
                case 1 -> { // OFFSET_DATA inside the request
                    assertThat(req[0]).isEqualTo(CMD_READ);
                    long off = b.getLong();
                    assertThat(off).isGreaterThanOrEqualTo(req[1]);
                    assertThat(off + len - 8).isLessThanOrEqualTo(req[1] + req[2]);
                    checkGuard(Arrays.copyOfRange(p, 8, len), off, s);
                }
                case 2 -> { // OFFSET_HOLE inside the request
                    assertThat(req[0]).isEqualTo(CMD_READ);
                    long off = b.getLong();
                    int n = b.getInt();
                    assertThat(off).isGreaterThanOrEqualTo(req[1]);
                    assertThat(off + n).isLessThanOrEqualTo(req[1] + req[2]);
                }
                case 5 -> { // BLOCK_STATUS: a context id and (length, flags) pairs
                    assertThat(req[0]).isEqualTo(CMD_BLOCK_STATUS);
                    assertThat((len - 4) % 8).isZero();
                    assertThat(len).isGreaterThanOrEqualTo(12);
                }
                case 0x8001, 0x8002 -> {
                    assertThat(b.getInt()).as("an error chunk's error").isNotZero();
                    int msg = b.getShort() & 0xffff;
                    assertThat(len).isGreaterThanOrEqualTo(6 + msg + (type == 0x8002 ? 8 : 0));
                }
                default -> throw new AssertionError("unknown chunk type " + type + " in " + s);
            }
            if ((flags & 1) != 0) {
                pending.remove(cookie);
                return;
            }
        }
    }

    /** Data the server returns from inside the guard must be the guard's bytes. */
    static void checkGuard(byte[] d, long off, Session s) {
        for (int i = 0; i < d.length; i++) {
            long at = off + i;
            if (at >= LIMIT && at < SIZE && d[i] != guard[(int) (at - LIMIT)]) {
                throw new AssertionError("guard byte " + at + " changed, in " + s);
            }
        }
    }
}
