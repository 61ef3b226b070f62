package io.jdmcache.sim.trace;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * jdmcache's binary trace format (what {@code serve --trace} records), little-endian:
 * <pre>
 *   header   8 bytes  "JDMTRACE"
 *            u32      version (1)
 *            u32      0 (reserved)
 *            i64      start: wall-clock time of the time base, ns since the Unix epoch
 *   records  u8       operation: 0 read, 1 write, 2 trim, 3 write-zeroes, 4 flush, 5 cache
 *            uvarint  ns since the previous record (the first: since the start)
 *            uvarint  offset in bytes
 *            uvarint  length in bytes
 * </pre>
 * An unsigned varint is LEB128: 7 bits a byte, low group first, the top bit set on every byte but the last
 * (at most 10 bytes). A record of a 4 KiB read takes 6 to 10 bytes.
 */
public final class JdmTraceFormat {
    public static final byte[] MAGIC = "JDMTRACE".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 24;

    public static final int READ = 0;
    public static final int WRITE = 1;
    public static final int TRIM = 2;
    public static final int WRITE_ZEROES = 3;
    public static final int FLUSH = 4;
    public static final int CACHE = 5;

    private JdmTraceFormat() {
    }

    /** Writes records to a stream (not thread-safe; buffer the stream). */
    public static final class Writer {
        private final OutputStream out;
        /** One record, encoded here and written in one call: an op byte and three varints of at most 10 bytes. */
        private final byte[] rec = new byte[31];
        private int n;
        private long last;

        /**
         * Writes the header.
         *
         * @param startEpochNanos wall-clock time of time base 0
         */
        public Writer(OutputStream out, long startEpochNanos) throws IOException {
            this.out = out;
            out.write(MAGIC);
            writeLe(VERSION, 4);
            writeLe(0, 4);
            writeLe(startEpochNanos, 8);
        }

        /**
         * One request.
         *
         * @param op          one of the operation constants
         * @param timeNanos   time since the time base; not before the previous record's
         */
        public void record(int op, long timeNanos, long offset, long length) throws IOException {
            if (op < READ || op > CACHE) {
                throw new IllegalArgumentException("unknown trace operation " + op);
            }
            if (timeNanos < last || offset < 0 || length < 0) {
                throw new IllegalArgumentException("trace record going back in time or negative: time " + timeNanos
                        + ", offset " + offset + ", length " + length);
            }
            rec[0] = (byte) op;
            n = 1;
            varint(timeNanos - last);
            varint(offset);
            varint(length);
            out.write(rec, 0, n);
            last = timeNanos;
        }

        private void varint(long v) {
            while ((v & ~0x7FL) != 0) {
                rec[n++] = (byte) ((v & 0x7F) | 0x80);
                v >>>= 7;
            }
            rec[n++] = (byte) v;
        }

        private void writeLe(long v, int bytes) throws IOException {
            for (int i = 0; i < bytes; i++) {
                out.write((int) (v >>> (8 * i)));
            }
        }
    }
}
