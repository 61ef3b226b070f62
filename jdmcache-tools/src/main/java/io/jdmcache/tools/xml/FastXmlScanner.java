package io.jdmcache.tools.xml;

import io.jdmcache.metadata.Mapping;

import java.io.IOException;
import java.io.InputStream;

/**
 * Restore's fast path: a byte-level scanner for the XML cache_dump writes (and any document written the same
 * plain way), five to ten times cheaper than a general StAX parser because it reads numbers, booleans and
 * hints straight from the input bytes and knows the few element shapes there are. It accepts only a strict
 * subset of XML, chosen so that whatever it accepts the general path ({@link XmlRestoreReader}'s StAX parse)
 * accepts with the same meaning: ASCII only; whitespace (space, tab, CR, LF) between tags and nothing else;
 * no declaration, comments, entities or character references; attributes in double quotes with {@code =}
 * and no blanks around it, each known one at most once, unknown ones refused; {@code mapping}, {@code hint}
 * and {@code discard} as empty-element tags directly inside {@code superblock} or one of {@code mappings},
 * {@code hints} and {@code discards}; numbers as plain digits (at most 18); {@code dirty} exactly
 * {@code true} or {@code false}; hints as 8 base64 characters ending in {@code ==}; nothing but whitespace
 * after {@code </superblock>}. Anything else, and any input the reader's checks refuse, ends the scan with
 * {@link Declined}: the caller then parses the input again from its start with the general path, which
 * accepts it or names the fault exactly as before (line numbers, parser messages). The scanner itself makes
 * no decision a user sees.
 */
final class FastXmlScanner {
    /** The input is outside the subset (or faulty): parse it again with the general path. */
    static final class Declined extends Exception {
        private static final long serialVersionUID = 1L;

        Declined(String why) {
            super(why, null, false, false);
        }
    }

    /** The longest tag the scanner takes (a dump's are under 100 bytes; the superblock's under 300). */
    static final int MAX_TAG = 4096;

    private static final byte[] SUPERBLOCK = ascii("superblock");
    private static final byte[] MAPPINGS = ascii("mappings");
    private static final byte[] HINTS = ascii("hints");
    private static final byte[] DISCARDS = ascii("discards");
    private static final byte[] MAPPING = ascii("mapping");
    private static final byte[] HINT = ascii("hint");
    private static final byte[] DISCARD = ascii("discard");
    private static final byte[] CACHE_BLOCK = ascii("cache_block");
    private static final byte[] ORIGIN_BLOCK = ascii("origin_block");
    private static final byte[] DIRTY = ascii("dirty");
    private static final byte[] DATA = ascii("data");
    private static final byte[] DBEGIN = ascii("dbegin");
    private static final byte[] DEND = ascii("dend");
    /** Longer than any tag {@link #plainMapping} or {@link #plainHint} takes. */
    private static final int PLAIN_MAX = 100;
    private static final String[] SUPERBLOCK_ATTRS = {"uuid", "block_size", "nr_cache_blocks", "policy",
        "hint_width", "discard_block_size", "discard_nr_blocks"};
    /** Each base64 digit's value, -1 for any other byte. */
    private static final byte[] SEXTETS = new byte[256];

    static {
        java.util.Arrays.fill(SEXTETS, (byte) -1);
        String digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < digits.length(); i++) {
            SEXTETS[digits.charAt(i)] = (byte) i;
        }
    }

    private final InputStream in;
    private final XmlRestoreReader reader;
    private final byte[] buf;
    private int pos;
    private int lim;
    private boolean eof;
    /** The number an attribute value held ({@link #number}); the hint's value ({@link #hintValue}). */
    private long value;

    FastXmlScanner(InputStream in, XmlRestoreReader reader, int bufferSize) {
        if (bufferSize < 2 * MAX_TAG) {
            throw new IllegalArgumentException("buffer of " + bufferSize + " bytes");
        }
        this.in = in;
        this.reader = reader;
        this.buf = new byte[bufferSize];
    }

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Scans the whole document into the reader, or declines it. */
    void scan() throws IOException, Declined {
        fill();
        skipBlanks();
        if (!startTag(SUPERBLOCK)) {
            throw new Declined("does not start with <superblock");
        }
        superblock();
        byte[] container = null; // the open <mappings>, <hints> or <discards>, null directly in <superblock>
        while (true) {
            skipBlanks();
            if (lim - pos < 2 || buf[pos] != '<') {
                throw new Declined("text or end of input inside <superblock>");
            }
            byte b = buf[pos + 1];
            if (b == '/') {
                if (container != null) {
                    endTag(container);
                    container = null;
                } else {
                    endTag(SUPERBLOCK);
                    break;
                }
            } else if (b == 'm') {
                if (startTag(MAPPING)) {
                    mapping();
                } else if (container == null && startTag(MAPPINGS)) {
                    container = open(MAPPINGS);
                } else {
                    throw new Declined("element");
                }
            } else if (b == 'h') {
                if (startTag(HINT)) {
                    hint();
                } else if (container == null && startTag(HINTS)) {
                    container = open(HINTS);
                } else {
                    throw new Declined("element");
                }
            } else if (b == 'd') {
                if (startTag(DISCARD)) {
                    discard();
                } else if (container == null && startTag(DISCARDS)) {
                    container = open(DISCARDS);
                } else {
                    throw new Declined("element");
                }
            } else {
                throw new Declined("element");
            }
        }
        skipBlanks();
        if (pos < lim) {
            throw new Declined("something after </superblock>");
        }
    }

    /** Refills the buffer so that at least {@link #MAX_TAG} bytes follow {@link #pos} (fewer only at the end). */
    private void fill() throws IOException {
        if (eof || lim - pos >= MAX_TAG) {
            return;
        }
        int rest = lim - pos;
        System.arraycopy(buf, pos, buf, 0, rest);
        pos = 0;
        lim = rest;
        while (lim < buf.length) {
            int n = in.read(buf, lim, buf.length - lim);
            if (n < 0) {
                eof = true;
                return;
            }
            lim += n;
        }
    }

    private static boolean blank(byte b) {
        return b == ' ' || b == '\n' || b == '\t' || b == '\r';
    }

    /** Skips whitespace (any amount, across refills) and leaves at least MAX_TAG bytes buffered, or the end. */
    private void skipBlanks() throws IOException {
        while (true) {
            while (pos < lim && blank(buf[pos])) {
                pos++;
            }
            if (pos < lim) {
                fill();
                return;
            }
            if (eof) {
                return;
            }
            fill();
        }
    }

    /** True when {@code <name} followed by a blank, '/' or '>' starts at {@link #pos}; moves past the name. */
    private boolean startTag(byte[] name) {
        int p = pos + 1;
        int end = p + name.length;
        if (end >= lim || buf[pos] != '<') {
            return false;
        }
        for (int i = 0; i < name.length; i++) {
            if (buf[p + i] != name[i]) {
                return false;
            }
        }
        byte b = buf[end];
        if (!blank(b) && b != '/' && b != '>') {
            return false;
        }
        pos = end;
        return true;
    }

    /** {@code </name>} (no blank before the '>': a dump has none) at {@link #pos}. */
    private void endTag(byte[] name) throws Declined {
        int p = pos + 2;
        int end = p + name.length;
        if (end >= lim || buf[end] != '>') {
            throw new Declined("end tag");
        }
        for (int i = 0; i < name.length; i++) {
            if (buf[p + i] != name[i]) {
                throw new Declined("end tag");
            }
        }
        pos = end + 1;
    }

    /** A container's start tag, past its name: no attributes, not empty. */
    private byte[] open(byte[] name) throws Declined {
        if (buf[pos] != '>') {
            throw new Declined("container tag");
        }
        pos++;
        return name;
    }

    /**
     * Moves to the next attribute's name: past at least one blank. False at the end of an empty-element
     * tag ({@code />}, consumed); declines anything else.
     */
    private boolean nextAttribute() throws Declined {
        int p = pos;
        if (p + 1 >= lim) {
            throw new Declined("tag cut short");
        }
        if (!blank(buf[p])) {
            if (buf[p] == '/' && buf[p + 1] == '>') {
                pos = p + 2;
                return false;
            }
            throw new Declined("attribute");
        }
        int end = Math.min(lim, pos + MAX_TAG);
        while (p < end && blank(buf[p])) {
            p++;
        }
        if (p + 1 >= end) {
            throw new Declined("tag too long or cut short");
        }
        if (buf[p] == '/' && buf[p + 1] == '>') {
            pos = p + 2;
            return false;
        }
        pos = p;
        return true;
    }

    /** True when the attribute at {@link #pos} is {@code name="}; moves past the opening quote. */
    private boolean attribute(byte[] name) {
        int p = pos;
        int end = p + name.length + 1;
        if (end >= lim || buf[end - 1] != '=' || buf[end] != '"') {
            return false;
        }
        for (int i = 0; i < name.length; i++) {
            if (buf[p + i] != name[i]) {
                return false;
            }
        }
        pos = end + 1;
        return true;
    }

    /** The digits up to the closing quote (1 to 18 of them), as {@link #value}; moves past the quote. */
    private void number() throws Declined {
        int p = pos;
        int end = Math.min(lim, p + 19);
        long v = 0;
        while (p < end) {
            int d = buf[p] - '0';
            if (d < 0 || d > 9) {
                break;
            }
            v = v * 10 + d;
            p++;
        }
        if (p == pos || p >= end || buf[p] != '"') {
            throw new Declined("number");
        }
        value = v;
        pos = p + 1;
    }

    /** {@code  cache_block="} at {@code p}: the position after it, or -1 (unrolled: C1 compiles it to compares with constants). */
    private static int cacheBlockAttr(byte[] b, int p) {
        return b[p] == ' ' && b[p + 1] == 'c' && b[p + 2] == 'a' && b[p + 3] == 'c' && b[p + 4] == 'h'
                && b[p + 5] == 'e' && b[p + 6] == '_' && b[p + 7] == 'b' && b[p + 8] == 'l'
                && b[p + 9] == 'o' && b[p + 10] == 'c' && b[p + 11] == 'k' && b[p + 12] == '='
                && b[p + 13] == '\"'
                ? p + 14 : -1;
    }

    /** {@code " origin_block="} at {@code p}: the position after it, or -1 (unrolled: C1 compiles it to compares with constants). */
    private static int originBlockAttr(byte[] b, int p) {
        return b[p] == '\"' && b[p + 1] == ' ' && b[p + 2] == 'o' && b[p + 3] == 'r' && b[p + 4] == 'i'
                && b[p + 5] == 'g' && b[p + 6] == 'i' && b[p + 7] == 'n' && b[p + 8] == '_'
                && b[p + 9] == 'b' && b[p + 10] == 'l' && b[p + 11] == 'o' && b[p + 12] == 'c'
                && b[p + 13] == 'k' && b[p + 14] == '=' && b[p + 15] == '\"'
                ? p + 16 : -1;
    }

    /** {@code " dirty="} at {@code p}: the position after it, or -1 (unrolled: C1 compiles it to compares with constants). */
    private static int dirtyAttr(byte[] b, int p) {
        return b[p] == '\"' && b[p + 1] == ' ' && b[p + 2] == 'd' && b[p + 3] == 'i' && b[p + 4] == 'r'
                && b[p + 5] == 't' && b[p + 6] == 'y' && b[p + 7] == '=' && b[p + 8] == '\"'
                ? p + 9 : -1;
    }

    /** {@code " data="} at {@code p}: the position after it, or -1 (unrolled: C1 compiles it to compares with constants). */
    private static int dataAttr(byte[] b, int p) {
        return b[p] == '\"' && b[p + 1] == ' ' && b[p + 2] == 'd' && b[p + 3] == 'a' && b[p + 4] == 't'
                && b[p + 5] == 'a' && b[p + 6] == '=' && b[p + 7] == '\"'
                ? p + 8 : -1;
    }

    /**
     * A mapping exactly as a dump writes it, past its name ({@code  cache_block="C" origin_block="O"
     * dirty="D"/>}), read with locals only (the C1 compiler, which restore runs with, keeps them in registers);
     * false, with nothing consumed, for any other form, which {@link #mapping} then reads attribute by attribute.
     */
    private boolean plainMapping() throws XmlInputException {
        final byte[] b = buf;
        int p = pos;
        if (lim - p < PLAIN_MAX || (p = cacheBlockAttr(b, p)) < 0) {
            return false;
        }
        int q = p;
        long c = 0;
        for (int d, e = p + 19; p < e && (d = b[p] - '0') >= 0 && d <= 9; p++) {
            c = c * 10 + d;
        }
        if (p == q || p - q > 18 || (p = originBlockAttr(b, p)) < 0) {
            return false;
        }
        q = p;
        long o = 0;
        for (int d, e = p + 19; p < e && (d = b[p] - '0') >= 0 && d <= 9; p++) {
            o = o * 10 + d;
        }
        if (p == q || p - q > 18 || o > Mapping.MAX_OBLOCK || (p = dirtyAttr(b, p)) < 0) {
            return false;
        }
        boolean dirty;
        if (b[p] == 't' && b[p + 1] == 'r' && b[p + 2] == 'u' && b[p + 3] == 'e') {
            dirty = true;
            p += 4;
        } else if (b[p] == 'f' && b[p + 1] == 'a' && b[p + 2] == 'l' && b[p + 3] == 's' && b[p + 4] == 'e') {
            dirty = false;
            p += 5;
        } else {
            return false;
        }
        if (b[p] != '"' || b[p + 1] != '/' || b[p + 2] != '>') {
            return false;
        }
        pos = p + 3;
        reader.onMapping(c, o, dirty);
        return true;
    }

    /** A hint exactly as a dump writes it ({@code  cache_block="C" data="xxxxxx=="/>}); as {@link #plainMapping}. */
    private boolean plainHint() throws XmlInputException {
        final byte[] b = buf;
        int p = pos;
        if (lim - p < PLAIN_MAX || (p = cacheBlockAttr(b, p)) < 0) {
            return false;
        }
        int q = p;
        long c = 0;
        for (int d, e = p + 19; p < e && (d = b[p] - '0') >= 0 && d <= 9; p++) {
            c = c * 10 + d;
        }
        if (p == q || p - q > 18 || (p = dataAttr(b, p)) < 0) {
            return false;
        }
        if (b[p + 6] != '=' || b[p + 7] != '=' || b[p + 8] != '"' || b[p + 9] != '/' || b[p + 10] != '>') {
            return false;
        }
        long acc = 0;
        int bad = 0;
        for (int i = 0; i < 6; i++) {
            int d = SEXTETS[b[p + i] & 0xff];
            bad |= d;
            acc = (acc << 6) | (d & 63);
        }
        if (bad < 0 || (acc & 15) != 0) {
            return false;
        }
        pos = p + 11;
        reader.onHint(c, Integer.reverseBytes((int) (acc >>> 4)));
        return true;
    }

    private void mapping() throws IOException, Declined {
        if (plainMapping()) {
            fill();
            return;
        }
        long c = -1;
        long o = -1;
        int dirty = -1;
        while (nextAttribute()) {
            if (c < 0 && attribute(CACHE_BLOCK)) {
                number();
                c = value;
            } else if (o < 0 && attribute(ORIGIN_BLOCK)) {
                number();
                o = value;
            } else if (dirty < 0 && attribute(DIRTY)) {
                dirty = bool();
            } else {
                throw new Declined("mapping attribute");
            }
        }
        if (c < 0 || o < 0 || dirty < 0 || o > Mapping.MAX_OBLOCK) {
            throw new Declined("mapping");
        }
        reader.onMapping(c, o, dirty == 1);
        fill();
    }

    /** {@code true"} (1) or {@code false"} (0); moves past the quote. */
    private int bool() throws Declined {
        int p = pos;
        if (p + 5 < lim && buf[p] == 't' && buf[p + 1] == 'r' && buf[p + 2] == 'u' && buf[p + 3] == 'e'
                && buf[p + 4] == '"') {
            pos = p + 5;
            return 1;
        }
        if (p + 6 < lim && buf[p] == 'f' && buf[p + 1] == 'a' && buf[p + 2] == 'l' && buf[p + 3] == 's'
                && buf[p + 4] == 'e' && buf[p + 5] == '"') {
            pos = p + 6;
            return 0;
        }
        throw new Declined("dirty");
    }

    private void hint() throws IOException, Declined {
        if (plainHint()) {
            fill();
            return;
        }
        long c = -1;
        boolean haveData = false;
        int data = 0;
        while (nextAttribute()) {
            if (c < 0 && attribute(CACHE_BLOCK)) {
                number();
                c = value;
            } else if (!haveData && attribute(DATA)) {
                data = hintValue();
                haveData = true;
            } else {
                throw new Declined("hint attribute");
            }
        }
        if (c < 0 || !haveData) {
            throw new Declined("hint");
        }
        reader.onHint(c, data);
        fill();
    }

    /** Four bytes in base64 ({@code xxxxxx=="}), as the little-endian value they are stored as. */
    private int hintValue() throws Declined {
        int p = pos;
        if (p + 9 >= lim || buf[p + 6] != '=' || buf[p + 7] != '=' || buf[p + 8] != '"') {
            throw new Declined("hint data");
        }
        long acc = 0;
        int bad = 0;
        for (int i = 0; i < 6; i++) {
            int d = SEXTETS[buf[p + i] & 0xff];
            bad |= d;
            acc = (acc << 6) | (d & 63);
        }
        if (bad < 0 || (acc & 15) != 0) {
            throw new Declined("hint data");
        }
        pos = p + 9;
        return Integer.reverseBytes((int) (acc >>> 4));
    }

    private void discard() throws IOException, Declined {
        long b = -1;
        long e = -1;
        while (nextAttribute()) {
            if (b < 0 && attribute(DBEGIN)) {
                number();
                b = value;
            } else if (e < 0 && attribute(DEND)) {
                number();
                e = value;
            } else {
                throw new Declined("discard attribute");
            }
        }
        if (b < 0 || e < 0 || b > Integer.MAX_VALUE * 64L || e > Integer.MAX_VALUE * 64L) {
            throw new Declined("discard");
        }
        reader.onDiscard(b, e);
        fill();
    }

    /** The superblock's start tag, past its name: the known attributes as Strings, handed to the reader. */
    private void superblock() throws IOException, Declined {
        String[] values = new String[SUPERBLOCK_ATTRS.length];
        while (true) {
            int p = pos;
            if (p >= lim) {
                throw new Declined("superblock tag cut short");
            }
            if (!blank(buf[p])) {
                if (buf[p] == '>') {
                    pos = p + 1;
                    break;
                }
                throw new Declined("superblock");
            }
            int end = Math.min(lim, pos + MAX_TAG);
            while (p < end && blank(buf[p])) {
                p++;
            }
            if (p >= end) {
                throw new Declined("superblock tag too long or cut short");
            }
            if (buf[p] == '>') {
                pos = p + 1;
                break;
            }
            int nameStart = p;
            while (p < end && (buf[p] >= 'a' && buf[p] <= 'z' || buf[p] == '_')) {
                p++;
            }
            if (p + 1 >= end || p == nameStart || buf[p] != '=' || buf[p + 1] != '"') {
                throw new Declined("superblock attribute");
            }
            String name = new String(buf, nameStart, p - nameStart, java.nio.charset.StandardCharsets.US_ASCII);
            int valueStart = p + 2;
            p = valueStart;
            while (p < end && buf[p] != '"') {
                byte c = buf[p];
                if (c < 0x20 || c > 0x7e || c == '&' || c == '<') {
                    throw new Declined("superblock attribute value");
                }
                p++;
            }
            if (p >= end) {
                throw new Declined("superblock tag too long or cut short");
            }
            int i = java.util.Arrays.asList(SUPERBLOCK_ATTRS).indexOf(name);
            if (i < 0 || values[i] != null) {
                throw new Declined("superblock attribute " + name);
            }
            values[i] = new String(buf, valueStart, p - valueStart, java.nio.charset.StandardCharsets.US_ASCII);
            pos = p + 1;
        }
        reader.superblock(values[0], values[1], values[2], values[3], values[4], values[5], values[6]);
    }
}
