package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdProtocol.*;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The bytes of every reply the server sends: option replies in the handshake, simple and structured replies after. */
final class ReplyEncoder {
    /** The longest error message sent in a structured ERROR chunk. */
    static final int MAX_ERROR_MESSAGE = 4096;

    private ReplyEncoder() {
    }

    /** An option reply: magic, option, type, length and {@code data}'s remaining bytes (none when null). */
    static ByteBuffer optionReply(int opt, int type, ByteBuffer data) {
        int len = data == null ? 0 : data.remaining();
        ByteBuffer h = ByteBuffer.allocate(20 + len);
        h.putLong(OPTION_REPLY_MAGIC).putInt(opt).putInt(type).putInt(len);
        if (data != null) {
            h.put(data);
        }
        return h.flip();
    }

    /** An option error reply carrying {@code message} in UTF-8. */
    static ByteBuffer optionError(int opt, int type, String message) {
        return optionReply(opt, type, ByteBuffer.wrap(message.getBytes(StandardCharsets.UTF_8)));
    }

    /** The transmission flags of an export served over a connection that did ({@code structured}) or not negotiate structured replies. */
    static int transmissionFlags(NbdBackend b, boolean structured) {
        int f = TF_HAS_FLAGS | TF_SEND_FLUSH | TF_SEND_FUA | TF_SEND_TRIM | TF_SEND_WRITE_ZEROES
                | TF_SEND_CACHE | TF_SEND_FAST_ZERO;
        if (b.isReadOnly()) {
            f |= TF_READ_ONLY;
        }
        if (b.canMultiConn()) {
            f |= TF_CAN_MULTI_CONN;
        }
        if (structured) {
            f |= TF_SEND_DF; // every READ reply is a single data chunk, so DF always holds
        }
        return f;
    }

    /** The 16-byte header of a simple reply. */
    static void putSimpleHeader(ByteBuffer b, int error, long cookie) {
        b.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
    }

    /** A simple reply with no data (a success when {@code error} is 0). */
    static ByteBuffer simpleReply(int error, long cookie) {
        ByteBuffer b = ByteBuffer.allocate(16);
        putSimpleHeader(b, error, cookie);
        return b.flip();
    }

    /** The 28-byte header of an OFFSET_DATA chunk carrying {@code len} bytes read at {@code offset}. */
    static void putDataChunkHeader(ByteBuffer b, boolean last, long cookie, long offset, int len) {
        b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) (last ? REPLY_FLAG_DONE : 0))
                .putShort((short) REPLY_TYPE_OFFSET_DATA).putLong(cookie).putInt(8 + len).putLong(offset);
    }

    /** A final structured ERROR chunk with {@code message} (cut at {@value #MAX_ERROR_MESSAGE} bytes). */
    static ByteBuffer structuredError(long cookie, int error, String message) {
        byte[] m = message == null ? new byte[0] : message.getBytes(StandardCharsets.UTF_8);
        if (m.length > MAX_ERROR_MESSAGE) {
            m = java.util.Arrays.copyOf(m, MAX_ERROR_MESSAGE);
        }
        ByteBuffer b = ByteBuffer.allocate(20 + 6 + m.length);
        b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE).putShort((short) REPLY_TYPE_ERROR)
                .putLong(cookie).putInt(6 + m.length).putInt(error).putShort((short) m.length).put(m);
        return b.flip();
    }

    /**
     * The BLOCK_STATUS chunk for base:allocation over {@code length} bytes: the extents as far as they cover the
     * request (one only with {@code one}, at most {@link NbdProtocol#MAX_EXTENTS}), or one hole-less extent of
     * the whole length when there are none.
     */
    static ByteBuffer blockStatus(long cookie, long length, List<Extent> extents, boolean one) {
        int max = one ? 1 : (int) Math.min(MAX_EXTENTS, Math.max(1, extents.size()));
        ByteBuffer b = ByteBuffer.allocate(20 + 4 + 8 * max);
        b.position(24);
        long left = length;
        int count = 0;
        for (Extent e : extents) {
            if (left <= 0 || count == max) {
                break;
            }
            long l = Math.min(e.length(), left);
            b.putInt((int) l).putInt(e.flags());
            left -= l;
            count++;
        }
        if (count == 0) {
            b.putInt((int) length).putInt(0);
            count = 1;
        }
        int payload = 4 + 8 * count;
        b.flip();
        b.putInt(STRUCTURED_REPLY_MAGIC).putShort((short) REPLY_FLAG_DONE)
                .putShort((short) REPLY_TYPE_BLOCK_STATUS).putLong(cookie).putInt(payload)
                .putInt(BASE_ALLOCATION_ID);
        b.position(0).limit(20 + payload);
        return b;
    }
}
