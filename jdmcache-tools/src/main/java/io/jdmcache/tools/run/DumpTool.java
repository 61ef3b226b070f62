package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.tools.dump.DamagedMetadataException;
import io.jdmcache.tools.dump.MetadataReader;
import io.jdmcache.tools.xml.XmlDumpWriter;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * cache_dump as a function. The XML goes to {@code stdout} or, with an output path, to that file: a
 * regular file is written under a temporary name beside it and renamed into place only when the whole
 * dump succeeded, so a failed dump never leaves a half document behind (FIFOs and devices are written
 * directly). A closed pipe ends the dump quietly with exit code 1.
 */
public final class DumpTool {
    public static final String TOO_SMALL = "Metadata is not large enough for superblock.";

    private DumpTool() {
    }

    public static int run(Path input, Path output, boolean repair, OutputStream stdout, PrintStream err) {
        return run(input, output, repair, stdout, err, false);
    }

    /** With {@code live}, metadata a writer holds is dumped anyway (with a warning) instead of refused. */
    public static int run(Path input, Path output, boolean repair, OutputStream stdout, PrintStream err,
                          boolean live) {
        try (FileBlockDevice dev = InputFiles.openMetadata(input, TOO_SMALL, live, err)) {
            MetadataReader reader = new MetadataReader(dev, repair);
            reader.superblock();
            if (output == null || output.toString().equals("-")) {
                return dumpTo(reader, stdout, err);
            }
            Progress bar = Progress.start(err, "Dumping");
            bar.total(CheckTool.cacheBlocks(dev));
            reader.setProgress(bar::update);
            try {
                return dumpToFile(reader, output, err);
            } finally {
                bar.finish();
            }
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (DamagedMetadataException e) {
            err.println(input + ": " + e.getMessage());
            return 1;
        } catch (IOException e) {
            if (isBrokenPipe(e)) {
                return 1;
            }
            err.println(input + ": " + e.getMessage());
            return 1;
        }
    }

    private static int dumpTo(MetadataReader reader, OutputStream out, PrintStream err) throws IOException {
        XmlDumpWriter w = new XmlDumpWriter(out);
        try {
            reader.read(w);
        } catch (DamagedMetadataException e) {
            try {
                w.flush();
            } catch (IOException ignored) {
                // the failure that matters is the metadata's
            }
            err.println(e.getMessage());
            err.println("metadata contains errors (run cache_check for details).");
            err.println("perhaps you wanted to run with --repair ?");
            return 1;
        }
        for (String l : reader.losses()) {
            err.println("repair: left out " + l);
        }
        return 0;
    }

    private static int dumpToFile(MetadataReader reader, Path output, PrintStream err) throws IOException {
        boolean regular = !Files.exists(output) || Files.isRegularFile(output);
        if (!regular) {
            try (OutputStream os = Files.newOutputStream(output)) {
                return dumpTo(reader, os, err);
            } catch (IOException e) {
                if (isBrokenPipe(e)) {
                    return 1;
                }
                err.println(output + ": cannot write the dump: " + e.getMessage());
                return 1;
            }
        }
        Path dir = output.toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + output.getFileName() + ".", ".tmp");
        } catch (IOException e) {
            err.println(output + ": cannot create the output file: " + reason(e));
            return 1;
        }
        try {
            int rc;
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                rc = dumpTo(reader, os, err);
            }
            if (rc == 0) {
                Files.move(tmp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            return rc;
        } catch (IOException e) {
            err.println(output + ": cannot write the dump: " + reason(e));
            return 1;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static String reason(IOException e) {
        String cls = e.getClass().getSimpleName();
        return switch (cls) {
            case "NoSuchFileException" -> "no such directory";
            case "AccessDeniedException" -> "permission denied";
            case "FileSystemException" -> e.getMessage();
            default -> e.getMessage() == null ? cls : e.getMessage();
        };
    }

    /** True for the error a write to a pipe whose reader has gone gets (EPIPE). */
    public static boolean isBrokenPipe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("Broken pipe") || m.contains("Stream closed"))) {
                return true;
            }
        }
        return false;
    }
}
