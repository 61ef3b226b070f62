package io.jdmcache.sim.trace;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Reads a trace file of any {@link TraceFormat} into a {@link Trace}, gzip, xz or bzip2 compressed or not (told by
 * the first bytes, whatever the file is called). Byte-addressed formats follow {@link TraceBuilder}'s access model;
 * requests of different devices (MSR's host and disk, SYSTOR's LUN, blkparse's device, fio's file) are blocks of
 * different devices. A line that does not parse is a {@link TraceFormatException} naming the file and the line.
 */
public final class TraceReader {
    private static final int SNIFF_BYTES = 64 << 10;

    private TraceReader() {
    }

    /** A trace and the format it was read as. */
    public record Loaded(Trace trace, TraceFormat format, boolean guessed) {
    }

    /**
     * Reads a trace.
     *
     * @param file       the file
     * @param format     its format, or {@link TraceFormat#AUTO}
     * @param blockBytes the cache block size, for byte-addressed formats
     */
    public static Loaded read(Path file, TraceFormat format, long blockBytes) throws TraceFormatException {
        String name = file.toString();
        if (Files.isDirectory(file)) {
            throw new TraceFormatException(name + ": is a directory, not a trace file");
        }
        try (InputStream raw = Files.newInputStream(file)) {
            return read(name, raw, format, blockBytes);
        } catch (NoSuchFileException e) {
            throw new TraceFormatException(name + ": no such file");
        } catch (EOFException e) {
            throw new TraceFormatException(name + ": ends in the middle of its compressed data");
        } catch (IOException e) {
            throw new TraceFormatException(name + ": cannot read it: " + message(e));
        }
    }

    /** Reads a trace from a stream, naming it {@code name} in messages. */
    public static Loaded read(String name, InputStream raw, TraceFormat format, long blockBytes)
            throws IOException, TraceFormatException {
        if (blockBytes <= 0) {
            throw new IllegalArgumentException("block size must be positive: " + blockBytes);
        }
        BufferedInputStream in = new BufferedInputStream(decompress(raw), 1 << 16);
        boolean guessed = format == TraceFormat.AUTO;
        if (guessed) {
            format = guess(name, in);
        }
        TraceBuilder b = new TraceBuilder(shortName(name));
        if (format == TraceFormat.JDMCACHE) {
            readJdm(name, in, b, blockBytes);
        } else {
            readLines(name, in, lineParser(format, name, b, blockBytes));
        }
        return new Loaded(b.build(), format, guessed);
    }

    private static String message(IOException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** The file name without folders and compression or trace suffixes: the trace's name in tables. */
    static String shortName(String path) {
        String n = Path.of(path).getFileName() == null ? path : Path.of(path).getFileName().toString();
        for (String suffix : new String[] {".gz", ".xz", ".bz2"}) {
            if (n.endsWith(suffix) && n.length() > suffix.length()) {
                n = n.substring(0, n.length() - suffix.length());
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ compression and guessing

    private static InputStream decompress(InputStream raw) throws IOException {
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 16);
        in.mark(8);
        byte[] head = in.readNBytes(6);
        in.reset();
        if (head.length >= 2 && (head[0] & 0xFF) == 0x1F && (head[1] & 0xFF) == 0x8B) {
            return new GZIPInputStream(in, 1 << 16);
        }
        if (head.length >= 6 && (head[0] & 0xFF) == 0xFD && head[1] == '7' && head[2] == 'z' && head[3] == 'X'
                && head[4] == 'Z' && head[5] == 0) {
            return new XZInputStream(in);
        }
        if (head.length >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') {
            return new BZip2CompressorInputStream(in, true);
        }
        return in;
    }

    private static TraceFormat guess(String name, BufferedInputStream in) throws IOException, TraceFormatException {
        in.mark(SNIFF_BYTES);
        byte[] head = in.readNBytes(SNIFF_BYTES);
        in.reset();
        if (head.length >= JdmTraceFormat.MAGIC.length
                && Arrays.equals(Arrays.copyOf(head, JdmTraceFormat.MAGIC.length), JdmTraceFormat.MAGIC)) {
            return TraceFormat.JDMCACHE;
        }
        String text = new String(head, StandardCharsets.ISO_8859_1);
        String[] lines = text.split("\n", 50);
        for (int i = 0; i < Math.min(lines.length, 49); i++) {
            String line = lines[i].strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("fio version ")) {
                return TraceFormat.FIO_IOLOG;
            }
            if (line.toLowerCase(Locale.ROOT).replace(" ", "").startsWith("timestamp,response,iotype")) {
                return TraceFormat.SYSTOR;
            }
            String[] csv = line.split(",", -1);
            if (csv.length == 7 && (csv[3].equalsIgnoreCase("read") || csv[3].equalsIgnoreCase("write"))) {
                return TraceFormat.MSR;
            }
            if (line.matches("\\d+,\\d+\\s+\\d+\\s+\\d+\\s+\\d+\\.\\d+\\s.*")) {
                return TraceFormat.BLKPARSE;
            }
            if (line.matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)? .*")) {
                return TraceFormat.NBDKIT_LOG;
            }
            if (line.startsWith("#") || line.startsWith("*")) {
                continue;
            }
            if (Numbers.decimal(line) >= 0) {
                return TraceFormat.BLOCKS;
            }
            break;
        }
        throw new TraceFormatException(name + ": cannot tell the trace format from its first lines; give --format ("
                + String.join(", ", TraceFormat.names().subList(1, TraceFormat.names().size())) + ")");
    }

    // ------------------------------------------------------------------ text formats

    private interface LineParser {
        /** One line (without its end of line), numbered from 1; returns false to stop reading. */
        boolean line(String line, long number) throws TraceFormatException;

        default void end(long lines) throws TraceFormatException {
        }
    }

    private static void readLines(String name, InputStream in, LineParser parser)
            throws IOException, TraceFormatException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.ISO_8859_1), 1 << 16);
        long n = 0;
        String line;
        while ((line = r.readLine()) != null) {
            n++;
            if (!parser.line(line, n)) {
                break;
            }
        }
        parser.end(n);
    }

    private static LineParser lineParser(TraceFormat format, String name, TraceBuilder b, long blockBytes) {
        return switch (format) {
            case BLOCKS -> blocks(name, b);
            case MSR -> msr(name, b, blockBytes);
            case SYSTOR -> systor(name, b, blockBytes);
            case BLKPARSE -> blkparse(name, b, blockBytes);
            case NBDKIT_LOG -> nbdkitLog(name, b, blockBytes);
            case FIO_IOLOG -> fioIolog(name, b, blockBytes);
            case AUTO, JDMCACHE -> throw new IllegalArgumentException("not a text format: " + format);
        };
    }

    private static LineParser blocks(String name, TraceBuilder b) {
        return (line, n) -> {
            int from = 0;
            int to = line.length();
            while (from < to && Character.isWhitespace(line.charAt(from))) {
                from++;
            }
            while (to > from && Character.isWhitespace(line.charAt(to - 1))) {
                to--;
            }
            if (from == to || line.charAt(from) == '#' || line.charAt(from) == '*') {
                return true;
            }
            long block = Numbers.decimal(line, from, to);
            if (block < 0) {
                throw TraceFormatException.at(name, n, "a block number (or a line starting with # or *)", line);
            }
            b.access(block, false);
            return true;
        };
    }

    /** Adds a request, or throws naming the line when it is out of range. */
    private static void request(String name, long n, String line, TraceBuilder b, long device, long offset,
                                long length, TraceBuilder.RequestKind kind, long blockBytes)
            throws TraceFormatException {
        String wrong = b.request(device, offset, length, kind, blockBytes);
        if (wrong != null) {
            throw TraceFormatException.at(name, n, wrong, line);
        }
    }

    private static LineParser msr(String name, TraceBuilder b, long blockBytes) {
        Map<String, Integer> devices = new HashMap<>();
        String expected = "7 fields Timestamp,Hostname,DiskNumber,Type(Read|Write),Offset,Size,ResponseTime";
        return (line, n) -> {
            if (line.isBlank()) {
                return true;
            }
            String[] f = line.split(",", -1);
            if (f.length != 7) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            long disk = Numbers.decimal(f[2].strip());
            long offset = Numbers.decimal(f[4].strip());
            long size = Numbers.decimal(f[5].strip());
            String type = f[3].strip();
            boolean read = type.equalsIgnoreCase("read");
            if (disk < 0 || offset < 0 || size < 0 || !read && !type.equalsIgnoreCase("write")
                    || Numbers.decimal(f[0].strip()) < 0) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            int device = devices.computeIfAbsent(f[1].strip() + "," + disk, k -> devices.size());
            request(name, n, line, b, device, offset, size,
                    read ? TraceBuilder.RequestKind.READ : TraceBuilder.RequestKind.WRITE, blockBytes);
            return true;
        };
    }

    private static LineParser systor(String name, TraceBuilder b, long blockBytes) {
        Map<Long, Integer> devices = new HashMap<>();
        String expected = "6 fields Timestamp,Response,IOType(R|W),LUN,Offset,Size";
        boolean[] header = {false};
        return (line, n) -> {
            if (line.isBlank()) {
                return true;
            }
            if (!header[0]) {
                if (!line.toLowerCase(Locale.ROOT).replace(" ", "").startsWith("timestamp,response,iotype,lun,offset,size")) {
                    throw TraceFormatException.at(name, n, "the SYSTOR'17 header Timestamp,Response,IOType,LUN,Offset,Size", line);
                }
                header[0] = true;
                return true;
            }
            String[] f = line.split(",", -1);
            if (f.length != 6) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            String type = f[2].strip();
            long lun = Numbers.decimal(f[3].strip());
            long offset = Numbers.decimal(f[4].strip());
            long size = Numbers.decimal(f[5].strip());
            boolean read = type.equalsIgnoreCase("r");
            if (lun < 0 || offset < 0 || size < 0 || !read && !type.equalsIgnoreCase("w")
                    || !Numbers.isUnsignedDecimal(f[0].strip())) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            int device = devices.computeIfAbsent(lun, k -> devices.size());
            request(name, n, line, b, device, offset, size,
                    read ? TraceBuilder.RequestKind.READ : TraceBuilder.RequestKind.WRITE, blockBytes);
            return true;
        };
    }

    private static LineParser blkparse(String name, TraceBuilder b, long blockBytes) {
        Map<String, Integer> devices = new HashMap<>();
        String expected = "a blkparse event (MAJ,MIN CPU SEQUENCE TIME PID ACTION RWBS [SECTOR + SECTORS] [PROCESS])";
        return (line, n) -> {
            String s = line.strip();
            if (s.isEmpty()) {
                return true;
            }
            String[] t = s.split("\\s+");
            if (t.length < 7 || !t[0].matches("\\d+,\\d+")) {
                if (s.matches("(CPU\\d+|Total) \\(.*\\):.*")) {
                    return false; // the summary blkparse prints at the end
                }
                throw TraceFormatException.at(name, n, expected, line);
            }
            if (Numbers.decimal(t[1]) < 0 || Numbers.decimal(t[2]) < 0 || !Numbers.isUnsignedDecimal(t[3])) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            if (!t[5].equals("Q")) {
                return true;
            }
            if (t.length < 10 || !t[8].equals("+")) {
                return true; // a queued flush or barrier with no sectors
            }
            long sector = Numbers.decimal(t[7]);
            long sectors = Numbers.decimal(t[9]);
            String rwbs = t[6];
            if (sector < 0 || sectors < 0 || !rwbs.matches("[A-Z]+") || sector > Long.MAX_VALUE / 512
                    || sectors > Long.MAX_VALUE / 512) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            TraceBuilder.RequestKind kind = rwbs.indexOf('D') >= 0 ? TraceBuilder.RequestKind.DISCARD
                    : rwbs.indexOf('W') >= 0 ? TraceBuilder.RequestKind.WRITE
                    : rwbs.indexOf('R') >= 0 ? TraceBuilder.RequestKind.READ : TraceBuilder.RequestKind.OTHER;
            int device = devices.computeIfAbsent(t[0], k -> devices.size());
            request(name, n, line, b, device, sector * 512, sectors * 512, kind, blockBytes);
            return true;
        };
    }

    private static LineParser nbdkitLog(String name, TraceBuilder b, long blockBytes) {
        String expected = "an nbdkit log line (DATE TIME [connection=N] ACTION [KEY=VALUE]...)";
        return (line, n) -> {
            if (line.isBlank()) {
                return true;
            }
            String[] t = line.strip().split(" +");
            if (t.length < 3 || !t[0].matches("\\d{4}-\\d\\d-\\d\\d") || !t[1].matches("\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?")) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            int a = t[2].startsWith("connection=") ? 3 : 2;
            if (a >= t.length) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            TraceBuilder.RequestKind kind = switch (t[a]) {
                case "Read" -> TraceBuilder.RequestKind.READ;
                case "Write", "Zero" -> TraceBuilder.RequestKind.WRITE;
                case "Trim" -> TraceBuilder.RequestKind.DISCARD;
                default -> null;
            };
            if (kind == null) {
                return true; // return lines (...Read), Connect, Flush, Cache, Extents and the rest
            }
            long offset = -1;
            long count = -1;
            for (int i = a + 1; i < t.length; i++) {
                if (t[i].startsWith("offset=")) {
                    offset = Numbers.hexOrDecimal(t[i], 7, t[i].length());
                } else if (t[i].startsWith("count=")) {
                    count = Numbers.hexOrDecimal(t[i], 6, t[i].length());
                }
            }
            if (offset < 0 || count < 0) {
                throw TraceFormatException.at(name, n, t[a] + " with offset=N and count=N", line);
            }
            request(name, n, line, b, 0, offset, count, kind, blockBytes);
            return true;
        };
    }

    private static LineParser fioIolog(String name, TraceBuilder b, long blockBytes) {
        Map<String, Integer> files = new HashMap<>();
        int[] version = {0};
        return (line, n) -> {
            String s = line.strip();
            if (version[0] == 0) {
                if (s.equals("fio version 2 iolog")) {
                    version[0] = 2;
                } else if (s.equals("fio version 3 iolog")) {
                    version[0] = 3;
                } else {
                    throw TraceFormatException.at(name, n, "'fio version 2 iolog' or 'fio version 3 iolog'", line);
                }
                return true;
            }
            if (s.isEmpty()) {
                return true;
            }
            String expected = version[0] == 3 ? "TIME FILE ACTION [OFFSET LENGTH] (fio iolog version 3)"
                    : "FILE ACTION [OFFSET LENGTH] (fio iolog version 2)";
            String[] t = s.split("\\s+");
            int from = 0;
            if (version[0] == 3) {
                if (Numbers.decimal(t[0]) < 0) {
                    throw TraceFormatException.at(name, n, expected, line);
                }
                from = 1;
            }
            int left = t.length - from;
            if (left == 2 && (t[from + 1].equals("add") || t[from + 1].equals("open") || t[from + 1].equals("close"))) {
                return true;
            }
            if (left != 4) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            String action = t[from + 1];
            long offset = Numbers.decimal(t[from + 2]);
            long length = Numbers.decimal(t[from + 3]);
            TraceBuilder.RequestKind kind = switch (action) {
                case "read" -> TraceBuilder.RequestKind.READ;
                case "write" -> TraceBuilder.RequestKind.WRITE;
                case "trim" -> TraceBuilder.RequestKind.DISCARD;
                case "sync", "datasync", "sync_file_range", "wait" -> TraceBuilder.RequestKind.OTHER;
                default -> null;
            };
            if (kind == null || offset < 0 || length < 0) {
                throw TraceFormatException.at(name, n, expected, line);
            }
            int device = files.computeIfAbsent(t[from], k -> files.size());
            request(name, n, line, b, device, offset, length, kind, blockBytes);
            return true;
        };
    }

    // ------------------------------------------------------------------ jdmcache's binary format

    private static void readJdm(String name, InputStream in, TraceBuilder b, long blockBytes)
            throws IOException, TraceFormatException {
        byte[] header = in.readNBytes(JdmTraceFormat.HEADER_BYTES);
        if (header.length < JdmTraceFormat.HEADER_BYTES
                || !Arrays.equals(Arrays.copyOf(header, 8), JdmTraceFormat.MAGIC)) {
            throw new TraceFormatException(name + ": expected a jdmcache trace header (JDMTRACE, version, start)");
        }
        int version = (header[8] & 0xFF) | (header[9] & 0xFF) << 8 | (header[10] & 0xFF) << 16 | (header[11] & 0xFF) << 24;
        if (version != JdmTraceFormat.VERSION) {
            throw new TraceFormatException(name + ": jdmcache trace version " + Integer.toUnsignedString(version)
                    + ", expected " + JdmTraceFormat.VERSION);
        }
        long record = 0;
        long pos = JdmTraceFormat.HEADER_BYTES;
        long[] field = new long[3];
        int[] used = new int[1];
        while (true) {
            int op = in.read();
            if (op < 0) {
                return;
            }
            record++;
            long at = pos;
            pos++;
            if (op > JdmTraceFormat.CACHE) {
                throw new TraceFormatException(name + ": record " + record + " (byte " + at
                        + "): expected an operation 0-5, got " + op);
            }
            for (int i = 0; i < 3; i++) {
                field[i] = varint(in, used);
                pos += used[0];
                if (field[i] < 0) {
                    throw new TraceFormatException(name + ": record " + record + " (byte " + at + "): "
                            + (field[i] == -1 ? "ends in the middle of the record" : "expected a varint of at most 63 bits"));
                }
            }
            TraceBuilder.RequestKind kind = switch (op) {
                case JdmTraceFormat.READ -> TraceBuilder.RequestKind.READ;
                case JdmTraceFormat.WRITE, JdmTraceFormat.WRITE_ZEROES -> TraceBuilder.RequestKind.WRITE;
                case JdmTraceFormat.TRIM -> TraceBuilder.RequestKind.DISCARD;
                default -> TraceBuilder.RequestKind.OTHER;
            };
            String wrong = b.request(0, field[1], field[2], kind, blockBytes);
            if (wrong != null) {
                throw new TraceFormatException(name + ": record " + record + " (byte " + at + "): expected " + wrong);
            }
        }
    }

    /** An unsigned LEB128 varint; -1 at the end of the stream, -2 if longer than 63 bits. */
    private static long varint(InputStream in, int[] used) throws IOException {
        long v = 0;
        int shift = 0;
        used[0] = 0;
        while (true) {
            int c = in.read();
            if (c < 0) {
                return -1;
            }
            used[0]++;
            if (shift == 63 && (c & 0x7F) != 0 || shift > 63) {
                return -2;
            }
            v |= (long) (c & 0x7F) << shift;
            if ((c & 0x80) == 0) {
                return v < 0 ? -2 : v;
            }
            shift += 7;
        }
    }
}
