package io.jdmcache.sim.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Each format read from a small hand-written sample (with the access model: blocks of 64 KiB, requests spanning
 * blocks, discards of whole blocks only, devices apart), guessed by auto, read through gzip, xz and bzip2, and
 * malformed lines refused with FILE:LINE.
 */
class TraceReaderTest {
    private static final long B = 65536;

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = TraceReaderTest.class.getResourceAsStream("/io/jdmcache/sim/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }

    private static TraceReader.Loaded read(String name, byte[] data, TraceFormat format) throws Exception {
        return TraceReader.read(name, new ByteArrayInputStream(data), format, B);
    }

    private static void assertEvents(Trace t, int[] events, boolean[] writes) {
        assertThat(t.events()).as(t.name() + " events").containsExactly(events);
        assertThat(t.writes()).as(t.name() + " writes").containsExactly(writes);
    }

    private static final boolean F = false;
    private static final boolean T = true;

    @ParameterizedTest
    @CsvSource({"sample.blocks,blocks", "sample.msr.csv,msr", "sample.systor.csv,systor", "sample.blkparse,blkparse",
        "sample.nbdkit.log,nbdkit-log", "sample.fio2.log,fio-iolog", "sample.fio3.log,fio-iolog"})
    void eachSampleParsesAsItsFormatAndAutoGuessesIt(String file, String format) throws Exception {
        byte[] data = resource(file);
        TraceFormat f = TraceFormat.byName(format).orElseThrow();
        TraceReader.Loaded given = read(file, data, f);
        TraceReader.Loaded auto = read(file, data, TraceFormat.AUTO);
        assertThat(auto.format()).isEqualTo(f);
        assertThat(auto.guessed()).isTrue();
        assertThat(given.guessed()).isFalse();
        assertThat(auto.trace()).isEqualTo(given.trace());
        Trace t = given.trace();
        switch (file) {
            case "sample.blocks" -> assertEvents(t, new int[] {0, 1, 0, 2, 1}, new boolean[] {F, F, F, F, F});
            // disk 1: block 1; blocks 2-3 (a 128 KiB write); disk 0's block 1 is another block; 2 bytes across 2|3
            case "sample.msr.csv" -> assertEvents(t, new int[] {0, 1, 2, 3, 1, 2}, new boolean[] {F, T, T, F, F, F});
            // LUN 1's block 0 is not LUN 0's; 2 bytes at 65535 touch blocks 0 and 1
            case "sample.systor.csv" -> assertEvents(t, new int[] {0, 1, 0, 2}, new boolean[] {F, T, F, F});
            // only Q events; 8,16 is another device; the flush has no sectors; the discard of blocks 0-3 drops
            // only block 0 (the others were never accessed); the summary is not read
            case "sample.blkparse" -> assertEvents(t, new int[] {0, 1, ~0, 2, 3}, new boolean[] {F, T, F, F, F});
            // Zero is a write; Trim drops blocks 0 and 1; Flush and Cache are no accesses
            case "sample.nbdkit.log" -> assertEvents(t, new int[] {0, 1, 2, ~0, ~1, 0}, new boolean[] {F, T, T, F, F, T});
            // two files; trim of 128 KiB on vdb drops its block 0 (block 1 of vdb not accessed yet); sync is none
            case "sample.fio2.log" -> assertEvents(t, new int[] {0, 1, ~0, 2}, new boolean[] {F, T, F, F});
            case "sample.fio3.log" -> assertEvents(t, new int[] {0, 1, 0, 1}, new boolean[] {F, T, F, F});
            default -> throw new AssertionError(file);
        }
        assertThat(t.accesses()).isEqualTo(java.util.Arrays.stream(t.events()).filter(e -> e >= 0).count());
    }

    @Test
    void theRealSamplesInSharedReadAsTheirFormats() throws Exception {
        Path shared = Path.of(System.getProperty("jdmcache.shared", "../shared"), "traces");
        TraceReader.Loaded msr = TraceReader.read(shared.resolve("msr-cambridge1-sample.csv.gz"), TraceFormat.AUTO, B);
        assertThat(msr.format()).isEqualTo(TraceFormat.MSR);
        assertThat(msr.trace().accesses()).isGreaterThanOrEqualTo(1000);
        TraceReader.Loaded systor = TraceReader.read(shared.resolve("systor17-traces-sample.csv.gz"), TraceFormat.AUTO, B);
        assertThat(systor.format()).isEqualTo(TraceFormat.SYSTOR);
        assertThat(systor.trace().accesses()).isGreaterThanOrEqualTo(999);
        TraceReader.Loaded multi = TraceReader.read(shared.resolve("multi1.trace.gz"), TraceFormat.AUTO, B);
        assertThat(multi.format()).isEqualTo(TraceFormat.BLOCKS);
        assertThat(multi.trace().accesses()).isEqualTo(15_858);
        assertThat(multi.trace().distinctBlocks()).isEqualTo(2_606);
        assertThat(multi.trace().name()).isEqualTo("multi1.trace");
    }

    @Test
    void jdmcacheBinaryTracesRoundTrip() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JdmTraceFormat.Writer w = new JdmTraceFormat.Writer(out, 1_700_000_000_000_000_000L);
        w.record(JdmTraceFormat.READ, 10, 0, 4096);
        w.record(JdmTraceFormat.WRITE, 200_000, 65536, 131072);
        w.record(JdmTraceFormat.TRIM, 200_000, 0, 65536);
        w.record(JdmTraceFormat.FLUSH, 1L << 40, 0, 0);
        w.record(JdmTraceFormat.WRITE_ZEROES, 1L << 41, 3 * B, 1);
        byte[] data = out.toByteArray();
        assertThat(data.length).as("24-byte header, small records").isLessThan(24 + 5 * 12);
        TraceReader.Loaded l = read("t.jdmtrace", data, TraceFormat.AUTO);
        assertThat(l.format()).isEqualTo(TraceFormat.JDMCACHE);
        assertEvents(l.trace(), new int[] {0, 1, 2, ~0, 3}, new boolean[] {F, T, T, F, T});
        // cut in the middle of the last record: op, 6-byte time delta (2^40 ns), 3-byte offset, 1-byte length
        assertThatThrownBy(() -> read("t.jdmtrace", java.util.Arrays.copyOf(data, data.length - 1), TraceFormat.JDMCACHE))
                .isInstanceOf(TraceFormatException.class)
                .hasMessage("t.jdmtrace: record 5 (byte " + (data.length - 11) + "): ends in the middle of the record");
        byte[] badOp = data.clone();
        badOp[24] = 9;
        assertThatThrownBy(() -> read("t.jdmtrace", badOp, TraceFormat.JDMCACHE))
                .hasMessage("t.jdmtrace: record 1 (byte 24): expected an operation 0-5, got 9");
        assertThatThrownBy(() -> read("x", "not a trace".getBytes(StandardCharsets.US_ASCII), TraceFormat.JDMCACHE))
                .hasMessage("x: expected a jdmcache trace header (JDMTRACE, version, start)");
    }

    @Test
    void compressedInputIsReadWhateverItsName(@TempDir Path dir) throws Exception {
        byte[] plain = resource("sample.msr.csv");
        Trace expected = read("m", plain, TraceFormat.MSR).trace();
        for (String kind : new String[] {"gz", "xz", "bz2"}) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (OutputStream c = switch (kind) {
                case "gz" -> new GZIPOutputStream(bytes);
                case "xz" -> new XZOutputStream(bytes, new LZMA2Options());
                default -> new BZip2CompressorOutputStream(bytes);
            }) {
                c.write(plain);
            }
            Path f = Files.write(dir.resolve("trace-" + kind + ".data"), bytes.toByteArray());
            TraceReader.Loaded l = TraceReader.read(f, TraceFormat.AUTO, B);
            assertThat(l.format()).as(kind).isEqualTo(TraceFormat.MSR);
            assertThat(l.trace().events()).as(kind).containsExactly(expected.events());
            // cut short: a clear error, not a stack trace
            byte[] cut = java.util.Arrays.copyOf(bytes.toByteArray(), bytes.size() / 2);
            Path c = Files.write(dir.resolve("cut-" + kind), cut);
            assertThatThrownBy(() -> TraceReader.read(c, TraceFormat.MSR, B)).as(kind)
                    .isInstanceOf(TraceFormatException.class).hasMessageStartingWith(c + ": ");
        }
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "@@", quoteCharacter = '"', ignoreLeadingAndTrailingWhitespace = false, value = {
        "blocks@@10\\n20\\nx7\\n@@3: expected a block number (or a line starting with # or *), got 'x7'",
        "blocks@@10\\n-4\\n@@2: expected a block number (or a line starting with # or *), got '-4'",
        "msr@@1,hm,0,Read,0,512,1\\n1,hm,0,Read,0,512\\n@@2: expected 7 fields Timestamp,Hostname,DiskNumber,Type(Read|Write),Offset,Size,ResponseTime, got '1,hm,0,Read,0,512'",
        "msr@@1,hm,0,Erase,0,512,1\\n@@1: expected 7 fields Timestamp,Hostname,DiskNumber,Type(Read|Write),Offset,Size,ResponseTime, got '1,hm,0,Erase,0,512,1'",
        "systor@@0,0,R,0,0,512\\n@@1: expected the SYSTOR'17 header Timestamp,Response,IOType,LUN,Offset,Size, got '0,0,R,0,0,512'",
        "systor@@Timestamp,Response,IOType,LUN,Offset,Size\\n1.5,0.1,R,0,-1,512\\n@@2: expected 6 fields Timestamp,Response,IOType(R|W),LUN,Offset,Size, got '1.5,0.1,R,0,-1,512'",
        "blkparse@@  8,0 1 1 0.1 5 Q R 0 + 8 [a]\\ngarbage here\\n@@2: expected a blkparse event (MAJ,MIN CPU SEQUENCE TIME PID ACTION RWBS [SECTOR + SECTORS] [PROCESS]), got 'garbage here'",
        "blkparse@@  8,0 1 1 0.1 5 Q R zero + 8 [a]\\n@@1: expected a blkparse event (MAJ,MIN CPU SEQUENCE TIME PID ACTION RWBS [SECTOR + SECTORS] [PROCESS]), got '  8,0 1 1 0.1 5 Q R zero + 8 [a]'",
        "nbdkit-log@@2026-12-03 08:36:31.569315 connection=1 Read id=1 count=0x1000 ...\\n@@1: expected Read with offset=N and count=N, got '2026-12-03 08:36:31.569315 connection=1 Read id=1 count=0x1000 ...'",
        "nbdkit-log@@Read id=1 offset=0 count=1\\n@@1: expected an nbdkit log line (DATE TIME [connection=N] ACTION [KEY=VALUE]...), got 'Read id=1 offset=0 count=1'",
        "fio-iolog@@fio version 9 iolog\\n@@1: expected 'fio version 2 iolog' or 'fio version 3 iolog', got 'fio version 9 iolog'",
        "fio-iolog@@fio version 2 iolog\\nf read 0\\n@@2: expected FILE ACTION [OFFSET LENGTH] (fio iolog version 2), got 'f read 0'",
        "fio-iolog@@fio version 3 iolog\\n5 f erase 0 1\\n@@2: expected TIME FILE ACTION [OFFSET LENGTH] (fio iolog version 3), got '5 f erase 0 1'",
    })
    void malformedLinesAreReportedAsFileColonLine(String format, String text, String message) {
        byte[] data = text.replace("\\n", "\n").getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> read("in.trace", data, TraceFormat.byName(format).orElseThrow()))
                .isInstanceOf(TraceFormatException.class).hasMessage("in.trace:" + message);
    }

    @Test
    void anUnguessableFileSaysSoAndNamesTheFormats() {
        assertThatThrownBy(() -> read("x.bin", new byte[] {1, 2, 3, 0, (byte) 0xFF}, TraceFormat.AUTO))
                .isInstanceOf(TraceFormatException.class)
                .hasMessage("x.bin: cannot tell the trace format from its first lines; give --format (blocks, msr,"
                        + " systor, blkparse, nbdkit-log, fio-iolog, jdmcache)");
    }

    @Test
    void requestsBeyondTheBlockRangeAreRefused() {
        byte[] data = ("1,hm,0,Read," + Long.MAX_VALUE + ",512,1\n").getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> read("big.csv", data, TraceFormat.MSR))
                .hasMessageStartingWith("big.csv:1: expected an offset below 1099511627776 blocks, got");
    }
}
