package io.jdmcache.tools.xml;

import io.jdmcache.tools.dump.ContentSink;
import io.jdmcache.tools.dump.Header;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes metadata contents as cache_dump's XML, byte for byte the reference's layout (no declaration, two
 * spaces per level, fixed attribute order, {@code <mappings>} and {@code <hints>} always open and closed on
 * their own lines), with three differences where the reference is wrong: format 2 dirty bits come from the
 * dirty bitset, discarded ranges are written ({@code <discards>}, and the discard geometry as two extra
 * superblock attributes, only when some block is discarded), and attribute values are escaped.
 *
 * <p>Formatting is done by hand into one byte buffer: a 10-million-block dump is over a gigabyte.
 */
public final class XmlDumpWriter implements ContentSink {
    private static final byte[] B64 =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MAPPING = ascii("    <mapping cache_block=\"");
    private static final byte[] ORIGIN = ascii("\" origin_block=\"");
    private static final byte[] DIRTY_TRUE = ascii("\" dirty=\"true\"/>\n");
    private static final byte[] DIRTY_FALSE = ascii("\" dirty=\"false\"/>\n");
    private static final byte[] HINT = ascii("    <hint cache_block=\"");
    private static final byte[] DATA = ascii("\" data=\"");
    private static final byte[] END_HINT = ascii("==\"/>\n");

    private final OutputStream out;
    private final byte[] buf = new byte[1 << 16];
    private int pos;
    private boolean hasDiscards;

    public XmlDumpWriter(OutputStream out) {
        this.out = out;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void begin(Header h) throws IOException {
        hasDiscards = h.hasDiscards();
        StringBuilder sb = new StringBuilder(160);
        sb.append("<superblock uuid=\"");
        escape(sb, new String(h.uuid(), StandardCharsets.ISO_8859_1));
        sb.append("\" block_size=\"").append(h.dataBlockSize());
        sb.append("\" nr_cache_blocks=\"").append(h.cacheBlocks());
        sb.append("\" policy=\"");
        escape(sb, h.policy());
        sb.append("\" hint_width=\"").append(h.hintWidth()).append('"');
        if (h.hasDiscards()) {
            sb.append(" discard_block_size=\"").append(h.discardBlockSize());
            sb.append("\" discard_nr_blocks=\"").append(h.discardNrBlocks()).append('"');
        }
        sb.append(">\n  <mappings>\n");
        put(sb);
    }

    /** Escapes the five XML specials and any character outside printable ASCII. */
    static void escape(StringBuilder sb, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        sb.append("&#x").append(Integer.toHexString(c)).append(';');
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }

    @Override
    public void mapping(long cblock, long oblock, boolean dirty) throws IOException {
        ensure(96);
        put(MAPPING);
        number(cblock);
        put(ORIGIN);
        number(oblock);
        put(dirty ? DIRTY_TRUE : DIRTY_FALSE);
    }

    @Override
    public void endMappings() throws IOException {
        put(new StringBuilder("  </mappings>\n  <hints>\n"));
    }

    @Override
    public void hint(long cblock, int hint) throws IOException {
        ensure(64);
        put(HINT);
        number(cblock);
        put(DATA);
        // 4 bytes (little-endian value) in 6 base64 characters plus "=="
        int b0 = hint & 0xff;
        int b1 = (hint >>> 8) & 0xff;
        int b2 = (hint >>> 16) & 0xff;
        int b3 = (hint >>> 24) & 0xff;
        byte[] d = buf;
        int p = pos;
        d[p++] = B64[b0 >>> 2];
        d[p++] = B64[((b0 & 3) << 4) | (b1 >>> 4)];
        d[p++] = B64[((b1 & 15) << 2) | (b2 >>> 6)];
        d[p++] = B64[b2 & 63];
        d[p++] = B64[b3 >>> 2];
        d[p++] = B64[(b3 & 3) << 4];
        pos = p;
        put(END_HINT);
    }

    @Override
    public void endHints() throws IOException {
        put(new StringBuilder(hasDiscards ? "  </hints>\n  <discards>\n" : "  </hints>\n"));
    }

    @Override
    public void discard(long begin, long end) throws IOException {
        put(new StringBuilder(64).append("    <discard dbegin=\"").append(begin).append("\" dend=\"").append(end)
                .append("\"/>\n"));
    }

    @Override
    public void end() throws IOException {
        put(new StringBuilder(hasDiscards ? "  </discards>\n</superblock>\n" : "</superblock>\n"));
        flush();
    }

    /** Writes out what is buffered (also done by {@link #end()}); a failed dump keeps what was written. */
    public void flush() throws IOException {
        if (pos > 0) {
            out.write(buf, 0, pos);
            pos = 0;
        }
        out.flush();
    }

    private void ensure(int n) throws IOException {
        if (buf.length - pos < n) {
            out.write(buf, 0, pos);
            pos = 0;
        }
    }

    private void put(byte[] b) {
        System.arraycopy(b, 0, buf, pos, b.length);
        pos += b.length;
    }

    private void put(CharSequence s) throws IOException {
        ensure(s.length());
        for (int i = 0; i < s.length(); i++) {
            buf[pos++] = (byte) s.charAt(i);
        }
    }

    /** Appends a non-negative decimal number. */
    private void number(long v) {
        if (v < 0) {
            byte[] b = Long.toUnsignedString(v).getBytes(StandardCharsets.US_ASCII);
            put(b);
            return;
        }
        int len = 1;
        for (long t = v; t >= 10; t /= 10) {
            len++;
        }
        int end = pos + len;
        int p = end;
        do {
            buf[--p] = (byte) ('0' + (int) (v % 10));
            v /= 10;
        } while (v != 0);
        pos = end;
    }
}
