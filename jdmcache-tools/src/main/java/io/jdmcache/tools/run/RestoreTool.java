package io.jdmcache.tools.run;

import io.jdmcache.metadata.MetadataBuilder;
import io.jdmcache.metadata.RestoreTarget;
import io.jdmcache.metadata.StreamingMetadataBuilder;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.tools.xml.XmlInputException;
import io.jdmcache.tools.xml.XmlRestoreReader;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * cache_restore as a function: XML (plain or gzip) to metadata of format 1 or 2. The input is parsed in
 * full before the output is written (so a bad input never leaves a half image); when the restore fails
 * after the output was found usable, the output's superblock is zeroed, as the reference does, so an old
 * image there cannot be mistaken for the restored one.
 */
public final class RestoreTool {
    /** Smallest output the reference accepts (and the smallest metadata worth writing). */
    public static final long MIN_OUTPUT = 32 * 1024;
    static final String EXPLAIN = "\n\nThe output file should either be a block device,\n"
            + "or an existing file.  The file needs to be large\nenough to hold the metadata.";

    private RestoreTool() {
    }

    public static int run(Path input, Path output, int version, boolean omitCleanShutdown, boolean quiet,
                          PrintStream err) {
        String bad = checkOutput(output);
        if (bad != null) {
            err.println(bad + EXPLAIN);
            return 1;
        }
        try {
            InputFiles.checkKind(input);
            if (!Files.isReadable(input)) {
                throw new AccessDeniedException(input.toString());
            }
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(input + ": cannot read the input: " + DumpTool.reason(e));
            return 1;
        }
        // the output is claimed before anything else and held to the end: a device a server (or another tool)
        // holds is refused untouched, and nobody can open it between the parse and the write
        try (FileBlockDevice dev = InputFiles.openForWriting(output, "the output " + output)) {
            // first as it comes, in bounded memory: cache_dump's order (ascending cache blocks), with the fast
            // scanner when the input has a dump's plain form, else (declined) parsed again with the StAX parser
            Progress progress = quiet ? Progress.start(null, "") : Progress.start(err, "Restoring");
            XmlRestoreReader.TargetFactory target = (v, bs, n, p) -> new StreamingMetadataBuilder(dev, v, bs, n, p);
            try {
                StreamingMetadataBuilder t;
                try (InputStream in = open(input, progress)) {
                    t = XmlRestoreReader.readStreamingFast(in, version, target);
                }
                if (t == null) {
                    try (InputStream in = open(input, progress)) {
                        t = XmlRestoreReader.readStreaming(in, version, target);
                    }
                }
                try {
                    t.finish(!omitCleanShutdown);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                progress.finish();
                return 0;
            } catch (RestoreTarget.OutOfOrderException e) {
                progress.finish(); // another order: parse again into memory, below
            } catch (XmlInputException e) {
                return failed(progress, dev, output, err, input + (e.line() > 0 ? ":" + e.line() : "") + ": "
                        + e.getMessage());
            } catch (UncheckedIOException e) {
                return failed(progress, dev, output, err, output + ": cannot write the metadata: "
                        + e.getCause().getMessage());
            } catch (MetadataException | RuntimeException e) {
                return failed(progress, dev, output, err, output + ": cannot write the metadata: " + e.getMessage());
            } catch (IOException e) {
                return failed(progress, dev, output, err, input + ": cannot read the input: " + DumpTool.reason(e));
            }
            return inMemory(input, output, dev, version, omitCleanShutdown, quiet, err);
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(output + ": " + e.getMessage());
            return 1;
        }
    }

    /** Ends a failed restore: the progress bar, the message, the output's superblock zeroed; exit code 1. */
    private static int failed(Progress progress, FileBlockDevice dev, Path output, PrintStream err, String message) {
        progress.finish();
        err.println(message);
        zeroSuperblock(dev, output, err);
        return 1;
    }

    /** Input in another order: everything parsed into flat arrays first (12 bytes a cache block), then written. */
    private static int inMemory(Path input, Path output, FileBlockDevice dev, int version, boolean omitCleanShutdown,
                                boolean quiet, PrintStream err) {
        MetadataBuilder b;
        Progress progress = quiet ? Progress.start(null, "") : Progress.start(err, "Restoring (in memory)");
        try (InputStream in = open(input, progress)) {
            b = XmlRestoreReader.read(in, version);
        } catch (XmlInputException e) {
            return failed(progress, dev, output, err, input + (e.line() > 0 ? ":" + e.line() : "") + ": "
                    + e.getMessage());
        } catch (IOException e) {
            return failed(progress, dev, output, err, input + ": cannot read the input: " + DumpTool.reason(e));
        }
        progress.finish();
        try {
            b.write(dev, !omitCleanShutdown);
        } catch (IOException | RuntimeException e) {
            err.println(output + ": cannot write the metadata: " + e.getMessage());
            zeroSuperblock(dev, output, err);
            return 1;
        }
        return 0;
    }

    /** The reference's requirements on the output: an existing block device or regular file of >= 32 KiB. */
    static String checkOutput(Path output) {
        if (InputFiles.isBlockDevice(output)) {
            return null;
        }
        if (Files.isDirectory(output)) {
            return output + ": Not a block device or regular file";
        }
        if (!Files.exists(output)) {
            return "Output file does not exist.";
        }
        if (!Files.isRegularFile(output)) {
            return output + ": Not a block device or regular file";
        }
        long size;
        try {
            size = Files.size(output);
        } catch (IOException e) {
            return output + ": " + e.getMessage();
        }
        if (size == 0) {
            return "Zero size output file.";
        }
        if (size < MIN_OUTPUT) {
            return "Output file too small.";
        }
        if (!Files.isWritable(output)) {
            return "syscall 'open' failed: Permission denied\n"
                    + "Note: you cannot run this tool with these options on live metadata.";
        }
        return null;
    }

    /** Zeroes the superblock of an output that could not be written, through the handle that claims it. */
    static void zeroSuperblock(FileBlockDevice dev, Path output, PrintStream err) {
        try {
            dev.write(0, ByteBuffer.allocate(InputFiles.BLOCK));
            dev.flush();
        } catch (IOException e) {
            err.println(output + ": could not zero the superblock after the failure: " + e.getMessage());
        }
    }

    /** Opens the input, unzipping it when it starts with the gzip magic. */
    static InputStream open(Path input, Progress progress) throws IOException {
        long total = Files.size(input);
        progress.total(total);
        InputStream raw = new CountingStream(Files.newInputStream(input), progress);
        BufferedInputStream in = new BufferedInputStream(raw, 1 << 17);
        in.mark(2);
        int a = in.read();
        int c = in.read();
        in.reset();
        if (a == 0x1f && c == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 17);
        }
        return in;
    }

    /** Tells a progress bar how far into the (compressed) input reading has come. */
    private static final class CountingStream extends FilterInputStream {
        private final Progress progress;
        private long done;

        CountingStream(InputStream in, Progress progress) {
            super(in);
            this.progress = progress;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                done += n;
                progress.update(done);
            }
            return n;
        }
    }
}
