package io.jdmcache.tools.xml;

import io.jdmcache.metadata.Mapping;
import io.jdmcache.metadata.MetadataBuilder;
import io.jdmcache.metadata.PolicyInfo;
import io.jdmcache.metadata.RestoreTarget;
import io.jdmcache.metadata.StreamingMetadataBuilder;
import io.jdmcache.tools.check.DuplicateFinder;
import io.jdmcache.tools.check.SpillingDuplicateFinder;

import org.codehaus.stax2.XMLStreamReader2;
import org.codehaus.stax2.typed.TypedValueDecoder;

import javax.xml.stream.Location;
import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamConstants;
import javax.xml.stream.XMLStreamException;
import javax.xml.stream.XMLStreamReader;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Base64;

/**
 * Reads cache_dump's XML (streaming, with the Aalto StAX parser: the JDK's is three times slower here) into a {@link MetadataBuilder}. Stricter
 * than the reference's restore, which silently changes data: every number must be plain decimal and in
 * range (no signs, no wrap-around, origin blocks below 2^48), a cache block may be mapped or hinted only
 * once, an origin block may be mapped only once, hints are exactly {@code hint_width} (4) bytes, the
 * policy name at most 15 printable characters, the block size one the kernel accepts. Elements other than
 * superblock, mappings, mapping, hints, hint, discards and discard are refused.
 *
 * <p>Discards: {@code <discard dbegin= dend=>} ranges of discard blocks. The discard geometry comes from the
 * superblock's optional {@code discard_block_size} and {@code discard_nr_blocks} attributes (which dump
 * writes); without them the discard block size is the cache block size and the bitset ends at the
 * highest {@code dend}.
 */
public final class XmlRestoreReader {
    /** The policy versions the kernel's policies have, so restored hints are offered back to them. */
    private static int[] versionOf(String policy) {
        return switch (policy) {
            case "smq", "mq", "default" -> new int[] {2, 0, 0};
            case "cleaner" -> new int[] {1, 0, 0};
            default -> new int[] {0, 0, 0};
        };
    }

    private final int version;
    private final BoolDecoder bool = new BoolDecoder();
    private final HintDecoder hint4 = new HintDecoder();
    private XMLStreamReader x;
    private XMLStreamReader2 x2;
    /** What the document goes into: an in-memory builder, or the streaming one of {@link #readStreaming}. */
    private RestoreTarget builder;
    /** The in-memory builder ({@link #read}), null when streaming. */
    private MetadataBuilder memory;
    private final TargetFactory factory;
    private long[] hinted;
    private DuplicateFinder oblocks;
    private SpillingDuplicateFinder spilled;
    private long dataBlockSize;
    private long discardBlockSize = -1;
    private long discardNrBlocks = -1;
    private long[] discardRanges = new long[16];
    private int nDiscards;
    private long maxDend;

    private XmlRestoreReader(int version, TargetFactory factory) {
        this.version = version;
        this.factory = factory;
    }

    /** Makes the streaming target once the superblock line is known. */
    @FunctionalInterface
    public interface TargetFactory {
        StreamingMetadataBuilder create(int version, long dataBlockSize, long cacheBlocks, PolicyInfo policy)
                throws IOException;
    }

    /**
     * Parses the whole document from {@code in} and returns the filled builder for metadata format
     * {@code version}. Nothing is written anywhere.
     */
    public static MetadataBuilder read(InputStream in, int version) throws IOException {
        XmlRestoreReader r = new XmlRestoreReader(version, null);
        r.run(in);
        return r.memory;
    }

    /**
     * Parses the document from {@code in} into the target {@code factory} makes, as it comes (bounded memory:
     * origin blocks are checked for duplicates with {@link SpillingDuplicateFinder}). Input whose cache blocks
     * do not ascend ends it with {@link RestoreTarget.OutOfOrderException}; the caller then uses {@link #read}.
     * The target is returned filled but not finished.
     */
    public static StreamingMetadataBuilder readStreaming(InputStream in, int version, TargetFactory factory)
            throws IOException {
        XmlRestoreReader r = new XmlRestoreReader(version, factory);
        try {
            r.run(in);
        } finally {
            if (r.spilled != null) {
                r.spilled.close();
            }
        }
        return (StreamingMetadataBuilder) r.builder;
    }

    /**
     * {@link #readStreaming}'s fast path: the same, with {@link FastXmlScanner} instead of the StAX parser, for
     * input in the plain form dumps have. Returns null when the scanner declines the input (another form, or
     * something the general path would refuse): the caller then parses it again, from its start, with
     * {@link #readStreaming}, which accepts it or reports the fault. Whatever it accepts, it fills the target
     * exactly as {@link #readStreaming} would.
     */
    public static StreamingMetadataBuilder readStreamingFast(InputStream in, int version, TargetFactory factory)
            throws IOException {
        return readStreamingFast(in, version, factory, 1 << 20);
    }

    /** {@link #readStreamingFast(InputStream, int, TargetFactory)} with the scanner's buffer size (tests). */
    static StreamingMetadataBuilder readStreamingFast(InputStream in, int version, TargetFactory factory,
                                                      int bufferSize) throws IOException {
        XmlRestoreReader r = new XmlRestoreReader(version, factory);
        try {
            try {
                new FastXmlScanner(in, r, bufferSize).scan();
            } catch (FastXmlScanner.Declined | XmlInputException
                     | IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException e) {
                return null; // out of order input is no reason to decline: OutOfOrderException goes on up
            }
            r.finish();
        } finally {
            if (r.spilled != null) {
                r.spilled.close();
            }
        }
        return (StreamingMetadataBuilder) r.builder;
    }

    private void run(InputStream in) throws IOException {
        XMLInputFactory f = new com.fasterxml.aalto.stax.InputFactoryImpl();
        f.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        f.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        f.setProperty(XMLInputFactory.IS_NAMESPACE_AWARE, false);
        try {
            x = f.createXMLStreamReader(in);
            x2 = (XMLStreamReader2) x;
            int depth = 0;
            boolean sawRoot = false;
            while (x.hasNext()) {
                int ev = x.next();
                if (ev == XMLStreamConstants.START_ELEMENT) {
                    depth++;
                    String name = x.getLocalName();
                    if (depth == 1) {
                        if (sawRoot) {
                            throw error("a second top-level element <" + name + ">");
                        }
                        sawRoot = true;
                        if (!name.equals("superblock")) {
                            throw error("the document must start with <superblock>, not <" + name + ">");
                        }
                        superblock();
                    } else {
                        element(name, depth);
                    }
                } else if (ev == XMLStreamConstants.END_ELEMENT) {
                    depth--;
                }
            }
            if (!sawRoot) {
                throw new XmlInputException(line(), "no <superblock> element: the input is empty");
            }
        } catch (XMLStreamException e) {
            Location loc = e.getLocation();
            String msg = e.getMessage();
            int nl = msg == null ? -1 : msg.indexOf("Message: ");
            String text = nl >= 0 ? msg.substring(nl + 9) : String.valueOf(msg);
            int eol = text.indexOf('\n');
            if (eol >= 0) {
                text = text.substring(0, eol);
            }
            throw new XmlInputException(loc == null ? -1 : loc.getLineNumber(), "XML syntax error: " + text.strip());
        } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException e) {
            throw new XmlInputException(line(), e.getMessage());
        }
        finish();
    }

    private int line() {
        try {
            return x == null ? -1 : x.getLocation().getLineNumber();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private XmlInputException error(String message) {
        return new XmlInputException(line(), message);
    }

    private void superblock() throws XmlInputException {
        String uuid = null;
        String blockSize = null;
        String nrCacheBlocks = null;
        String policy = null;
        String hintWidth = null;
        String dbs = null;
        String dnr = null;
        for (int i = 0, n = x.getAttributeCount(); i < n; i++) {
            String v = x.getAttributeValue(i);
            switch (x.getAttributeLocalName(i)) {
                case "uuid" -> uuid = v;
                case "block_size" -> blockSize = v;
                case "nr_cache_blocks" -> nrCacheBlocks = v;
                case "policy" -> policy = v;
                case "hint_width" -> hintWidth = v;
                case "discard_block_size" -> dbs = v;
                case "discard_nr_blocks" -> dnr = v;
                default -> {
                    // other attributes (from newer tools) carry nothing restore needs
                }
            }
        }
        superblock(uuid, blockSize, nrCacheBlocks, policy, hintWidth, dbs, dnr);
    }

    /** The superblock's attributes (null when missing): checked, then the target made. */
    void superblock(String uuid, String blockSize, String nrCacheBlocks, String policy, String hintWidth,
                    String dbs, String dnr) throws XmlInputException {
        require("superblock", "uuid", uuid);
        dataBlockSize = number("superblock", "block_size", require("superblock", "block_size", blockSize),
                0xffffffffL);
        if (dataBlockSize < 64 || dataBlockSize > 2097152 || dataBlockSize % 64 != 0) {
            throw error("superblock: block_size " + dataBlockSize
                    + " is not a multiple of 64 sectors in 64..2097152");
        }
        long n = number("superblock", "nr_cache_blocks", require("superblock", "nr_cache_blocks", nrCacheBlocks),
                Integer.MAX_VALUE - 64);
        String p = require("superblock", "policy", policy);
        long hw = number("superblock", "hint_width", require("superblock", "hint_width", hintWidth), 0xffffffffL);
        if (hw != 4) {
            throw error("superblock: invalid hint width " + hw + " (only 4-byte hints exist)");
        }
        if (dbs != null) {
            discardBlockSize = number("superblock", "discard_block_size", dbs, 0xffffffffL);
        }
        if (dnr != null) {
            discardNrBlocks = number("superblock", "discard_nr_blocks", dnr, Integer.MAX_VALUE * 64L);
        }
        int[] pv = versionOf(p);
        PolicyInfo info = new PolicyInfo(p, pv[0], pv[1], pv[2], 4);
        if (factory == null) {
            memory = new MetadataBuilder(version, dataBlockSize, n);
            memory.setPolicy(info);
            builder = new InMemory(memory);
            hinted = new long[(int) ((n + 63) >>> 6)];
            oblocks = new DuplicateFinder(n);
        } else {
            try {
                builder = factory.create(version, dataBlockSize, n, info);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            spilled = new SpillingDuplicateFinder();
        }
    }

    private void element(String name, int depth) throws XmlInputException {
        switch (name) {
            case "mapping" -> mapping();
            case "hint" -> hint();
            case "discard" -> discard();
            case "mappings", "hints", "discards" -> {
                if (depth != 2) {
                    throw error("<" + name + "> must be directly inside <superblock>");
                }
            }
            case "superblock" -> throw error("<superblock> inside <superblock>");
            default -> throw error("unknown element <" + name + ">");
        }
    }

    private void mapping() throws XmlInputException {
        int cb = -1;
        int ob = -1;
        int dirty = -1;
        for (int i = 0, n = x.getAttributeCount(); i < n; i++) {
            String a = x.getAttributeLocalName(i);
            if (a.equals("cache_block")) {
                cb = i;
            } else if (a.equals("origin_block")) {
                ob = i;
            } else if (a.equals("dirty")) {
                dirty = i;
            }
        }
        long c = cblock("mapping", require("mapping", "cache_block", cb));
        long o = typedNumber("mapping", "origin_block", require("mapping", "origin_block", ob), Mapping.MAX_OBLOCK);
        int di = require("mapping", "dirty", dirty);
        boolean d;
        try {
            x2.getAttributeAs(di, bool);
            d = bool.value;
        } catch (XMLStreamException | RuntimeException e) {
            throw error("mapping: dirty=\"" + x.getAttributeValue(di) + "\" is not true or false");
        }
        onMapping(c, o, d);
    }

    /** A mapping whose numbers were read (the origin block in range); the cache block is checked here. */
    void onMapping(long c, long o, boolean d) throws XmlInputException {
        checkCblock("mapping", c);
        if (memory != null && memory.isMapped(c)) {
            throw error("mapping: cache block " + c + " is mapped twice");
        }
        builder.setMapping(c, o, d);
        if (oblocks != null) {
            oblocks.add(o);
        } else {
            try {
                spilled.add(o);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private void hint() throws XmlInputException {
        int cb = -1;
        int data = -1;
        for (int i = 0, n = x.getAttributeCount(); i < n; i++) {
            String a = x.getAttributeLocalName(i);
            if (a.equals("cache_block")) {
                cb = i;
            } else if (a.equals("data")) {
                data = i;
            }
        }
        long c = cblock("hint", require("hint", "cache_block", cb));
        int di = require("hint", "data", data);
        int value;
        try {
            x2.getAttributeAs(di, hint4);
            value = hint4.value;
        } catch (XMLStreamException | RuntimeException e) {
            String s = x.getAttributeValue(di);
            byte[] b = decodeHint(s);
            if (b == null) {
                throw error("hint for cache block " + c + ": invalid base64 \"" + s + "\"");
            }
            if (b.length != 4) {
                throw error("hint for cache block " + c + ": " + b.length + " bytes of data, the hint width is 4");
            }
            value = (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
        }
        onHint(c, value);
    }

    /** A hint whose cache block number and value were read; the cache block is checked here. */
    void onHint(long c, int value) throws XmlInputException {
        checkCblock("hint", c);
        if (hinted != null) {
            int w = (int) (c >>> 6);
            if ((hinted[w] & (1L << c)) != 0) {
                throw error("hint: cache block " + c + " has two hints");
            }
            hinted[w] |= 1L << c;
        }
        builder.setHint(c, value);
    }

    private void discard() throws XmlInputException {
        String b = null;
        String e = null;
        for (int i = 0, n = x.getAttributeCount(); i < n; i++) {
            String a = x.getAttributeLocalName(i);
            if (a.equals("dbegin")) {
                b = x.getAttributeValue(i);
            } else if (a.equals("dend")) {
                e = x.getAttributeValue(i);
            }
        }
        needSuperblock("discard");
        long begin = number("discard", "dbegin", require("discard", "dbegin", b), Integer.MAX_VALUE * 64L);
        long end = number("discard", "dend", require("discard", "dend", e), Integer.MAX_VALUE * 64L);
        onDiscard(begin, end);
    }

    /** A discard range whose ends were read (each at most {@code Integer.MAX_VALUE * 64}). */
    void onDiscard(long begin, long end) throws XmlInputException {
        needSuperblock("discard");
        if (end < begin) {
            throw error("discard: dend " + end + " is before dbegin " + begin);
        }
        if (discardNrBlocks >= 0 && end > discardNrBlocks) {
            throw error("discard: range [" + begin + ", " + end + ") is past the " + discardNrBlocks
                    + " discard blocks");
        }
        if (begin == end) {
            return;
        }
        if (2 * nDiscards + 2 > discardRanges.length) {
            discardRanges = Arrays.copyOf(discardRanges, discardRanges.length * 2);
        }
        discardRanges[2 * nDiscards] = begin;
        discardRanges[2 * nDiscards + 1] = end;
        nDiscards++;
        maxDend = Math.max(maxDend, end);
    }

    private void finish() throws IOException {
        long[] dups;
        long count;
        if (oblocks != null) {
            dups = oblocks.duplicates();
            count = dups.length;
        } else {
            dups = spilled.duplicates();
            count = spilled.duplicateCount();
        }
        if (dups.length > 0) {
            throw new XmlInputException(-1, "origin block " + dups[0] + " is mapped by two cache blocks"
                    + (count > 1 ? " (and " + (count - 1) + " more origin blocks likewise)" : ""));
        }
        long nr = discardNrBlocks >= 0 ? discardNrBlocks : maxDend;
        long bs = discardBlockSize >= 0 ? discardBlockSize : dataBlockSize;
        if (nr > 0) {
            builder.setDiscardGeometry(bs, nr);
            for (int i = 0; i < nDiscards; i++) {
                builder.setDiscarded(discardRanges[2 * i], discardRanges[2 * i + 1]);
            }
        }
    }

    private void needSuperblock(String element) throws XmlInputException {
        if (builder == null) {
            throw error("<" + element + "> outside <superblock>");
        }
    }

    private long cblock(String element, int index) throws XmlInputException {
        needSuperblock(element);
        long c = typedNumber(element, "cache_block", index, Long.MAX_VALUE);
        checkCblock(element, c);
        return c;
    }

    private void checkCblock(String element, long c) throws XmlInputException {
        needSuperblock(element);
        if (c >= builder.cacheBlocks()) {
            throw error(element + ": cache block " + c + " is outside the cache (nr_cache_blocks = "
                    + builder.cacheBlocks() + ")");
        }
    }

    private String require(String element, String attr, String value) throws XmlInputException {
        if (value == null) {
            throw error(element + ": missing attribute " + attr);
        }
        return value;
    }

    private int require(String element, String attr, int index) throws XmlInputException {
        if (index < 0) {
            throw error(element + ": missing attribute " + attr);
        }
        return index;
    }

    /**
     * The number in attribute {@code index}, read without making a String (the hot path of a restore): the
     * parser's typed access accepts an XML Schema long (digits, an optional sign, surrounding blanks), and
     * anything negative or above {@code max} is refused here.
     */
    private long typedNumber(String element, String attr, int index, long max) throws XmlInputException {
        long v;
        try {
            v = x2.getAttributeAsLong(index);
        } catch (XMLStreamException | RuntimeException e) {
            throw badNumber(element, attr, x.getAttributeValue(index), max);
        }
        if (v < 0 || v > max) {
            throw badNumber(element, attr, x.getAttributeValue(index), max);
        }
        return v;
    }

    /** Decodes base64 with the reference's strictness (padding required), or null when it is not base64. */
    private static byte[] decodeHint(String s) {
        if (s.length() % 4 != 0) {
            return null;
        }
        try {
            return Base64.getDecoder().decode(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code true} or {@code false}, exactly, read from the parser's buffer without making a String. */
    private static final class BoolDecoder extends TypedValueDecoder {
        boolean value;

        @Override
        public void decode(String lexical) {
            decode(lexical.toCharArray(), 0, lexical.length());
        }

        @Override
        public void decode(char[] b, int start, int end) {
            int n = end - start;
            if (n == 4 && b[start] == 't' && b[start + 1] == 'r' && b[start + 2] == 'u' && b[start + 3] == 'e') {
                value = true;
            } else if (n == 5 && b[start] == 'f' && b[start + 1] == 'a' && b[start + 2] == 'l' && b[start + 3] == 's'
                    && b[start + 4] == 'e') {
                value = false;
            } else {
                throw new IllegalArgumentException("not a boolean");
            }
        }

        @Override
        public void handleEmptyValue() {
            throw new IllegalArgumentException("empty");
        }
    }

    /**
     * A 4-byte hint in base64 with its padding ({@code xxxxxx==}), as the little-endian value it is stored
     * as, read from the parser's buffer. Anything else is refused here and judged by the slow path.
     */
    private static final class HintDecoder extends TypedValueDecoder {
        int value;

        @Override
        public void decode(String lexical) {
            decode(lexical.toCharArray(), 0, lexical.length());
        }

        @Override
        public void decode(char[] b, int start, int end) {
            if (end - start != 8 || b[start + 6] != '=' || b[start + 7] != '=') {
                throw new IllegalArgumentException("not a 4-byte hint");
            }
            long acc = 0;
            for (int i = 0; i < 6; i++) {
                int d = sextet(b[start + i]);
                if (d < 0) {
                    throw new IllegalArgumentException("not base64");
                }
                acc = (acc << 6) | d;
            }
            if ((acc & 15) != 0) {
                throw new IllegalArgumentException("stray bits in the padding");
            }
            int be = (int) (acc >>> 4);
            value = Integer.reverseBytes(be);
        }

        @Override
        public void handleEmptyValue() {
            throw new IllegalArgumentException("empty");
        }
    }

    /** Each base64 digit's value, -1 for any other character below 128: a table, since branches on random data mispredict. */
    private static final byte[] SEXTETS = new byte[128];

    static {
        java.util.Arrays.fill(SEXTETS, (byte) -1);
        String digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < digits.length(); i++) {
            SEXTETS[digits.charAt(i)] = (byte) i;
        }
    }

    private static int sextet(char c) {
        return c < 128 ? SEXTETS[c] : -1;
    }

    /** A plain decimal number (digits only) not above {@code max}. */
    private long number(String element, String attr, String s, long max) throws XmlInputException {
        int len = s.length();
        if (len == 0 || len > 19) {
            throw badNumber(element, attr, s, max);
        }
        long v = 0;
        for (int i = 0; i < len; i++) {
            int d = s.charAt(i) - '0';
            if (d < 0 || d > 9) {
                throw badNumber(element, attr, s, max);
            }
            v = v * 10 + d;
        }
        if (v < 0 || v > max) {
            throw badNumber(element, attr, s, max);
        }
        return v;
    }

    private XmlInputException badNumber(String element, String attr, String s, long max) {
        return error(element + ": " + attr + "=\"" + s + "\" is not a decimal number in 0.." + max);
    }


    /** The in-memory builder seen as a target (the caller writes it once the parse is over). */
    private record InMemory(MetadataBuilder b) implements RestoreTarget {
        @Override
        public long cacheBlocks() {
            return b.cacheBlocks();
        }

        @Override
        public void setMapping(long cblock, long oblock, boolean dirty) {
            b.setMapping(cblock, oblock, dirty);
        }

        @Override
        public void setHint(long cblock, int hint) {
            b.setHint(cblock, hint);
        }

        @Override
        public void setDiscardGeometry(long blockSize, long nrBlocks) {
            b.setDiscardGeometry(blockSize, nrBlocks);
        }

        @Override
        public void setDiscarded(long from, long to) {
            b.setDiscarded(from, to);
        }
    }
}
