package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;

/**
 * The fixed newstyle handshake of one connection: the greeting, the client's flags, then options until one
 * (GO or EXPORT_NAME) picks an export, or the client leaves or breaks the protocol. Its outcome is a
 * {@link Negotiated} record, or null when the connection is to be dropped.
 */
final class Handshake {
    /**
     * What the handshake agreed on.
     *
     * @param export         the export chosen (already attached to the connection)
     * @param structured     whether replies are structured
     * @param baseAllocation whether the base:allocation meta context was selected
     */
    record Negotiated(NbdExport export, boolean structured, boolean baseAllocation) {
    }

    private final NbdServer server;
    private final ConnectionIo io;
    /** Non-null for a connection beyond the server's limit: every GO, INFO and EXPORT_NAME is refused with it. */
    private final String refusal;
    /** Attaches the connection to an export; false when the export is being removed. */
    private final Predicate<NbdExport> attach;
    private boolean structured;
    private boolean baseAllocation;
    private boolean noZeroes;

    Handshake(NbdServer server, ConnectionIo io, String refusal, Predicate<NbdExport> attach) {
        this.server = server;
        this.io = io;
        this.refusal = refusal;
        this.attach = attach;
    }

    /** Runs the handshake: the export agreed on, or null when the connection ends here. */
    Negotiated negotiate() throws IOException {
        ByteBuffer g = ByteBuffer.allocate(18);
        g.putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) (FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES)).flip();
        io.send(g);
        int cflags = io.fill(4).getInt();
        if ((cflags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) != 0) {
            return null; // unknown client flag: the protocol says drop the connection
        }
        noZeroes = (cflags & FLAG_C_NO_ZEROES) != 0;
        while (true) {
            ByteBuffer in = io.fill(16);
            long magic = in.getLong();
            int opt = in.getInt();
            long len = Integer.toUnsignedLong(in.getInt());
            if (magic != IHAVEOPT) {
                return null;
            }
            if (len > MAX_OPTION) {
                if (len > MAX_OPTION_SKIP) {
                    return null;
                }
                io.skip(len);
                optionError(opt, REP_ERR_TOO_BIG, "option payload of " + len + " bytes is too large");
                continue;
            }
            ByteBuffer data = ByteBuffer.allocate((int) len);
            io.readFully(data);
            data.flip();
            switch (opt) {
                case OPT_EXPORT_NAME: {
                    if (refusal != null) {
                        return null; // EXPORT_NAME cannot carry an error
                    }
                    String name = utf8(data, data.remaining());
                    NbdExport e = name == null ? null : server.find(name);
                    if (e == null || server.isStopping() || !attach.test(e)) {
                        return null; // EXPORT_NAME cannot carry an error
                    }
                    NbdBackend b = e.backend();
                    ByteBuffer r = ByteBuffer.allocate(noZeroes ? 10 : 134);
                    r.putLong(b.size()).putShort((short) ReplyEncoder.transmissionFlags(b, structured));
                    r.position(r.limit()).flip();
                    io.send(r);
                    return new Negotiated(e, structured, baseAllocation);
                }
                case OPT_ABORT:
                    try {
                        optionReply(opt, REP_ACK, null);
                    } catch (IOException ignored) {
                        // the client may close without reading the ACK
                    }
                    return null;
                case OPT_LIST:
                    if (len != 0) {
                        optionError(opt, REP_ERR_INVALID, "NBD_OPT_LIST takes no payload");
                    } else {
                        for (NbdExport e : server.exports()) {
                            byte[] name = e.name().getBytes(StandardCharsets.UTF_8);
                            byte[] desc = e.description().getBytes(StandardCharsets.UTF_8);
                            ByteBuffer r = ByteBuffer.allocate(4 + name.length + desc.length);
                            r.putInt(name.length).put(name).put(desc).flip();
                            optionReply(opt, REP_SERVER, r);
                        }
                        optionReply(opt, REP_ACK, null);
                    }
                    break;
                case OPT_INFO:
                case OPT_GO:
                    if (refusal != null) {
                        optionError(opt, REP_ERR_POLICY, refusal);
                    } else {
                        NbdExport chosen = infoOrGo(opt, data);
                        if (chosen != null) {
                            return new Negotiated(chosen, structured, baseAllocation);
                        }
                    }
                    break;
                case OPT_STRUCTURED_REPLY:
                    if (len != 0) {
                        optionError(opt, REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no payload");
                    } else {
                        structured = true;
                        optionReply(opt, REP_ACK, null);
                    }
                    break;
                case OPT_LIST_META_CONTEXT:
                case OPT_SET_META_CONTEXT:
                    metaContext(opt, data);
                    break;
                case OPT_STARTTLS:
                    optionError(opt, REP_ERR_POLICY, "TLS is not supported by this server");
                    break;
                default:
                    optionError(opt, REP_ERR_UNSUP, "option " + opt + " is not supported");
                    break;
            }
        }
    }

    private static String utf8(ByteBuffer data, int n) {
        ByteBuffer s = data.slice();
        s.limit(n);
        try {
            String v = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(s).toString();
            data.position(data.position() + n);
            return v;
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Handles NBD_OPT_INFO / NBD_OPT_GO; returns the export when GO starts transmission, else null. */
    private NbdExport infoOrGo(int opt, ByteBuffer data) throws IOException {
        int len = data.remaining();
        if (len < 6) {
            optionError(opt, REP_ERR_INVALID, "option payload too short");
            return null;
        }
        long nameLen = Integer.toUnsignedLong(data.getInt());
        if (nameLen > len - 6) {
            optionError(opt, REP_ERR_INVALID, "export name length exceeds the option");
            return null;
        }
        String name = utf8(data, (int) nameLen);
        int n = data.getShort() & 0xffff;
        if (data.remaining() != 2 * n) {
            optionError(opt, REP_ERR_INVALID, "information request count does not match the option length");
            return null;
        }
        if (name == null) {
            optionError(opt, REP_ERR_INVALID, "export name is not valid UTF-8");
            return null;
        }
        NbdExport e = server.find(name);
        if (e == null) {
            optionError(opt, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return null;
        }
        if (server.isStopping()) {
            optionError(opt, REP_ERR_SHUTDOWN, "server is shutting down");
            return null;
        }
        NbdBackend b = e.backend();
        boolean wantName = false;
        boolean wantDescription = false;
        for (int i = 0; i < n; i++) {
            int info = data.getShort() & 0xffff;
            wantName |= info == INFO_NAME;
            wantDescription |= info == INFO_DESCRIPTION;
        }
        if (opt == OPT_GO && !attach.test(e)) {
            optionError(opt, REP_ERR_UNKNOWN, "no export named '" + name + "' (it is being removed)");
            return null;
        }
        ByteBuffer r = ByteBuffer.allocate(12);
        r.putShort((short) INFO_EXPORT).putLong(b.size()).putShort((short) ReplyEncoder.transmissionFlags(b, structured))
                .flip();
        optionReply(opt, REP_INFO, r);
        if (wantName) {
            byte[] nb = e.name().getBytes(StandardCharsets.UTF_8);
            optionReply(opt, REP_INFO, ByteBuffer.allocate(2 + nb.length).putShort((short) INFO_NAME).put(nb).flip());
        }
        String description = e.description();
        if (wantDescription && !description.isEmpty()) {
            byte[] db = description.getBytes(StandardCharsets.UTF_8);
            optionReply(opt, REP_INFO,
                    ByteBuffer.allocate(2 + db.length).putShort((short) INFO_DESCRIPTION).put(db).flip());
        }
        r = ByteBuffer.allocate(14);
        r.putShort((short) INFO_BLOCK_SIZE).putInt(b.minimumBlockSize())
                .putInt(Math.max(512, b.preferredBlockSize())).putInt(MAX_PAYLOAD).flip();
        optionReply(opt, REP_INFO, r);
        optionReply(opt, REP_ACK, null);
        return opt == OPT_GO ? e : null;
    }

    private void metaContext(int opt, ByteBuffer data) throws IOException {
        boolean set = opt == OPT_SET_META_CONTEXT;
        if (set) {
            baseAllocation = false; // a SET replaces the selection, even when it fails
        }
        if (data.remaining() < 8) {
            optionError(opt, REP_ERR_INVALID, "meta context option payload too short");
            return;
        }
        long nameLen = Integer.toUnsignedLong(data.getInt());
        if (nameLen > data.remaining() - 4) {
            optionError(opt, REP_ERR_INVALID, "export name length exceeds the option");
            return;
        }
        String name = utf8(data, (int) nameLen);
        long nq = Integer.toUnsignedLong(data.getInt());
        String[] queries = new String[(int) Math.min(nq, data.remaining() / 4 + 1)];
        for (long i = 0; i < nq; i++) {
            if (data.remaining() < 4) {
                optionError(opt, REP_ERR_INVALID, "query count exceeds the option");
                return;
            }
            long ql = Integer.toUnsignedLong(data.getInt());
            if (ql > data.remaining()) {
                optionError(opt, REP_ERR_INVALID, "query length exceeds the option");
                return;
            }
            queries[(int) i] = utf8(data, (int) ql);
            if (queries[(int) i] == null) {
                optionError(opt, REP_ERR_INVALID, "query is not valid UTF-8");
                return;
            }
        }
        if (data.hasRemaining()) {
            optionError(opt, REP_ERR_INVALID, "trailing bytes after the queries");
            return;
        }
        if (set && !structured) {
            optionError(opt, REP_ERR_INVALID, "NBD_OPT_SET_META_CONTEXT needs structured replies first");
            return;
        }
        if (name == null || server.find(name) == null) {
            optionError(opt, REP_ERR_UNKNOWN, "no export named '" + name + "'");
            return;
        }
        boolean match = false;
        if (nq == 0) {
            match = !set; // LIST with no query lists everything; SET with none selects nothing
        }
        for (int i = 0; i < nq; i++) {
            String q = queries[i];
            match |= q.equals(BASE_ALLOCATION) || (!set && q.equals("base:"));
        }
        if (match) {
            byte[] b = BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            ByteBuffer r = ByteBuffer.allocate(4 + b.length);
            r.putInt(set ? BASE_ALLOCATION_ID : 0).put(b).flip();
            optionReply(opt, REP_META_CONTEXT, r);
            if (set) {
                baseAllocation = true;
            }
        }
        optionReply(opt, REP_ACK, null);
    }

    private void optionReply(int opt, int type, ByteBuffer data) throws IOException {
        io.send(ReplyEncoder.optionReply(opt, type, data));
    }

    private void optionError(int opt, int type, String message) throws IOException {
        io.send(ReplyEncoder.optionError(opt, type, message));
    }
}
