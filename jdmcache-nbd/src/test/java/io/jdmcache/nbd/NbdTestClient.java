package io.jdmcache.nbd;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A pure-Java NBD client for tests: speaks the wire protocol directly, so it can also send what is invalid. */
final class NbdTestClient implements Closeable {
    static final long NBDMAGIC = 0x4e42444d41474943L;
    static final long IHAVEOPT = 0x49484156454F5054L;
    static final long OPT_REPLY_MAGIC = 0x0003e889045565a9L;
    static final int REQUEST_MAGIC = 0x25609513;
    static final int SIMPLE = 0x67446698;
    static final int STRUCTURED = 0x668e33ef;

    static final int OPT_EXPORT_NAME = 1, OPT_ABORT = 2, OPT_LIST = 3, OPT_PEEK_EXPORT = 4, OPT_STARTTLS = 5,
            OPT_INFO = 6, OPT_GO = 7, OPT_STRUCTURED_REPLY = 8, OPT_LIST_META_CONTEXT = 9,
            OPT_SET_META_CONTEXT = 10, OPT_EXTENDED_HEADERS = 11;
    static final int REP_ACK = 1, REP_SERVER = 2, REP_INFO = 3, REP_META_CONTEXT = 4;
    static final int ERR_UNSUP = 0x80000001, ERR_POLICY = 0x80000002, ERR_INVALID = 0x80000003,
            ERR_UNKNOWN = 0x80000006, ERR_TOO_BIG = 0x80000009;
    static final int CMD_READ = 0, CMD_WRITE = 1, CMD_DISC = 2, CMD_FLUSH = 3, CMD_TRIM = 4, CMD_CACHE = 5,
            CMD_WRITE_ZEROES = 6, CMD_BLOCK_STATUS = 7;
    static final int FLAG_FUA = 1, FLAG_NO_HOLE = 2, FLAG_DF = 4, FLAG_REQ_ONE = 8, FLAG_FAST_ZERO = 0x10;
    static final int EPERM = 1, EIO = 5, EINVAL = 22, ENOSPC = 28, ENOTSUP = 95;

    record OptReply(int option, int type, byte[] data) {
        boolean isError() {
            return (type & 0x80000000) != 0;
        }
    }

    /**
     * A transmission reply; for READ the data, for BLOCK_STATUS the chunk payload; {@code chunks} is how many
     * chunks a structured reply came in (1 for a simple reply).
     */
    record Reply(long cookie, int error, byte[] data, boolean structured, int chunks) {
        Reply(long cookie, int error, byte[] data, boolean structured) {
            this(cookie, error, data, structured, 1);
        }
    }

    private final SocketChannel channel;
    private final Socket socket; // only for TCP: lets tests use a read timeout
    private final DataInputStream in;
    private final OutputStream out;
    final int handshakeFlags;
    long size;
    int transmissionFlags;
    int baseAllocationId = -1;
    boolean structured;
    private long nextCookie;

    private NbdTestClient(SocketAddress address) throws IOException {
        if (address instanceof UnixDomainSocketAddress) {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(address);
            socket = null;
            in = new DataInputStream(Channels.newInputStream(channel));
            out = Channels.newOutputStream(channel);
        } else {
            channel = null;
            socket = new Socket();
            socket.connect(address, 5000);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 1 << 16));
            out = socket.getOutputStream();
        }
        long magic = in.readLong();
        long opt = in.readLong();
        if (magic != NBDMAGIC || opt != IHAVEOPT) {
            throw new IOException("bad greeting");
        }
        handshakeFlags = in.readUnsignedShort();
    }

    /** Connects and reads the greeting; the client flags are not sent yet. */
    static NbdTestClient open(SocketAddress address) throws IOException {
        return new NbdTestClient(address);
    }

    /** Connects and sends client flags FIXED_NEWSTYLE|NO_ZEROES. */
    static NbdTestClient connect(SocketAddress address) throws IOException {
        NbdTestClient c = new NbdTestClient(address);
        c.clientFlags(3);
        return c;
    }

    /** Connects, negotiates structured replies (and base:allocation if asked) and GO. */
    static NbdTestClient ready(SocketAddress address, boolean structured, boolean baseAllocation)
            throws IOException {
        return ready(address, "", structured, baseAllocation);
    }

    /** As {@link #ready(SocketAddress, boolean, boolean)}, for the export named {@code name}. */
    static NbdTestClient ready(SocketAddress address, String name, boolean structured, boolean baseAllocation)
            throws IOException {
        NbdTestClient c = connect(address);
        if (structured) {
            c.option(OPT_STRUCTURED_REPLY, new byte[0]);
            if (c.optReply().type() != REP_ACK) {
                throw new IOException("structured replies refused");
            }
            c.structured = true;
        }
        if (baseAllocation) {
            c.option(OPT_SET_META_CONTEXT, metaPayload(name, "base:allocation"));
            for (OptReply r : c.optReplies()) {
                if (r.type() == REP_META_CONTEXT) {
                    c.baseAllocationId = ByteBuffer.wrap(r.data()).getInt();
                }
            }
        }
        List<OptReply> reps = c.go(OPT_GO, name, 3);
        if (reps.get(reps.size() - 1).type() != REP_ACK) {
            c.close();
            throw new IOException("GO refused: " + Integer.toHexString(reps.get(reps.size() - 1).type()));
        }
        return c;
    }

    void clientFlags(int flags) throws IOException {
        out.write(ByteBuffer.allocate(4).putInt(flags).array());
        out.flush();
    }

    void option(int option, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length);
        b.putLong(IHAVEOPT).putInt(option).putInt(data.length).put(data);
        out.write(b.array());
        out.flush();
    }

    /** Sends an option header whose length field says {@code length} but carries {@code data}. */
    void rawOption(int option, int length, byte[] data) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + data.length);
        b.putLong(IHAVEOPT).putInt(option).putInt(length).put(data);
        out.write(b.array());
        out.flush();
    }

    OptReply optReply() throws IOException {
        long magic = in.readLong();
        if (magic != OPT_REPLY_MAGIC) {
            throw new IOException("bad option reply magic " + Long.toHexString(magic));
        }
        int opt = in.readInt();
        int type = in.readInt();
        int len = in.readInt();
        byte[] d = new byte[len];
        in.readFully(d);
        return new OptReply(opt, type, d);
    }

    /** Replies up to and including the final one (ACK or an error). */
    List<OptReply> optReplies() throws IOException {
        List<OptReply> l = new ArrayList<>();
        while (true) {
            OptReply r = optReply();
            l.add(r);
            if (r.type() == REP_ACK || r.isError()) {
                return l;
            }
        }
    }

    static byte[] namePayload(String name, int... infos) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + n.length + 2 + 2 * infos.length);
        b.putInt(n.length).put(n).putShort((short) infos.length);
        for (int i : infos) {
            b.putShort((short) i);
        }
        return b.array();
    }

    static byte[] metaPayload(String name, String... queries) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        int len = 4 + n.length + 4;
        for (String q : queries) {
            len += 4 + q.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(len);
        b.putInt(n.length).put(n).putInt(queries.length);
        for (String q : queries) {
            byte[] qb = q.getBytes(StandardCharsets.UTF_8);
            b.putInt(qb.length).put(qb);
        }
        return b.array();
    }

    /** Sends INFO or GO and reads the replies; records size and flags from NBD_INFO_EXPORT. */
    List<OptReply> go(int option, String name, int... infos) throws IOException {
        option(option, namePayload(name, infos));
        List<OptReply> reps = optReplies();
        for (OptReply r : reps) {
            if (r.type() == REP_INFO) {
                ByteBuffer b = ByteBuffer.wrap(r.data());
                if (b.getShort() == 0) {
                    size = b.getLong();
                    transmissionFlags = b.getShort() & 0xffff;
                }
            }
        }
        return reps;
    }

    long request(int type, int flags, long offset, long length, byte[] payload) throws IOException {
        long cookie = ++nextCookie;
        rawRequest(REQUEST_MAGIC, type, flags, cookie, offset, length, payload);
        return cookie;
    }

    void rawRequest(int magic, int type, int flags, long cookie, long offset, long length, byte[] payload)
            throws IOException {
        ByteBuffer b = ByteBuffer.allocate(28 + (payload == null ? 0 : payload.length));
        b.putInt(magic).putShort((short) flags).putShort((short) type).putLong(cookie).putLong(offset)
                .putInt((int) length);
        if (payload != null) {
            b.put(payload);
        }
        out.write(b.array());
        out.flush();
    }

    /** Reads exactly {@code n} bytes (e.g. the EXPORT_NAME reply, which has no header). */
    byte[] readRaw(int n) throws IOException {
        byte[] b = new byte[n];
        in.readFully(b);
        return b;
    }

    void rawBytes(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    /**
     * Reads one complete reply. {@code simpleReadLength} is how many data bytes follow a successful simple
     * reply (the client must know it from the request it sent).
     */
    Reply reply(int simpleReadLength) throws IOException {
        int magic = in.readInt();
        if (magic == SIMPLE) {
            int err = in.readInt();
            long cookie = in.readLong();
            byte[] d = new byte[err == 0 ? simpleReadLength : 0];
            in.readFully(d);
            return new Reply(cookie, err, d, false);
        }
        if (magic != STRUCTURED) {
            throw new IOException("bad reply magic " + Integer.toHexString(magic));
        }
        java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
        int error = 0;
        long cookie;
        long base = -1;
        int chunks = 0;
        while (true) {
            chunks++;
            int flags = in.readUnsignedShort();
            int type = in.readUnsignedShort();
            cookie = in.readLong();
            int len = in.readInt();
            byte[] p = new byte[len];
            in.readFully(p);
            ByteBuffer b = ByteBuffer.wrap(p);
            switch (type) {
                case 0:
                    break;
                case 1: { // OFFSET_DATA: this client expects chunks in order
                    long off = b.getLong();
                    if (base < 0) {
                        base = off;
                    }
                    if (off != base + data.size()) {
                        throw new IOException("data chunk at " + off + " does not follow the previous one");
                    }
                    data.write(p, 8, p.length - 8);
                    break;
                }
                case 2: {
                    b.getLong();
                    data.write(new byte[b.getInt()]);
                    break;
                }
                case 5:
                    data.write(p);
                    break;
                default:
                    if ((type & 0x8000) != 0) {
                        error = b.getInt();
                    } else {
                        throw new IOException("unknown chunk type " + type);
                    }
            }
            if ((flags & 1) != 0) {
                return new Reply(cookie, error, data.toByteArray(), true, chunks);
            }
            if (in.readInt() != STRUCTURED) {
                throw new IOException("bad chunk magic");
            }
        }
    }

    Reply read(long offset, int length) throws IOException {
        long c = request(CMD_READ, 0, offset, length, null);
        Reply r = reply(length);
        check(c, r);
        return r;
    }

    Reply write(long offset, byte[] data, int flags) throws IOException {
        long c = request(CMD_WRITE, flags, offset, data.length, data);
        Reply r = reply(0);
        check(c, r);
        return r;
    }

    Reply command(int type, int flags, long offset, long length) throws IOException {
        long c = request(type, flags, offset, length, null);
        Reply r = reply(0);
        check(c, r);
        return r;
    }

    private static void check(long cookie, Reply r) throws IOException {
        if (r.cookie() != cookie) {
            throw new IOException("reply for cookie " + r.cookie() + ", expected " + cookie);
        }
    }

    /** True when the server closes the connection (end of stream or reset) within about {@code ms}. */
    boolean closedByServer(int ms) throws IOException {
        if (socket != null) {
            socket.setSoTimeout(ms);
            try {
                return in.read() < 0;
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true;
            }
        }
        try {
            return in.read() < 0;
        } catch (EOFException e) {
            return true;
        } catch (IOException e) {
            return true;
        }
    }

    static SocketAddress loopback(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        } else {
            channel.close();
        }
    }
}
