package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.tools.check.CacheChecker;
import io.jdmcache.tools.check.CheckOptions;
import io.jdmcache.tools.check.CheckReport;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** cache_check as a function: checks, prints the report to {@code err} unless quiet, returns the exit code. */
public final class CheckTool {
    public static final String TOO_SMALL = "Metadata device/file too small.  Is this binary metadata?";

    private CheckTool() {
    }

    /** The superblock's cache block count, for a progress bar (0 when it cannot be read). */
    static long cacheBlocks(FileBlockDevice dev) {
        try {
            byte[] b = new byte[InputFiles.BLOCK];
            dev.read(0, java.nio.ByteBuffer.wrap(b));
            return io.jdmcache.metadata.Superblock.unpack(b).cacheBlocks();
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    public static int run(Path path, CheckOptions opts, boolean quiet, PrintStream err) {
        return run(path, opts, quiet, err, false);
    }

    /** With {@code live}, metadata a writer holds is checked anyway (with a warning) instead of refused. */
    public static int run(Path path, CheckOptions opts, boolean quiet, PrintStream err, boolean live) {
        CheckReport report;
        try (FileBlockDevice dev = InputFiles.openMetadata(path, TOO_SMALL, live && !opts.clearNeedsCheck(),
                quiet ? null : err)) {
            Progress bar = quiet ? Progress.start(null, "") : Progress.start(err, "Checking");
            bar.total(cacheBlocks(dev));
            report = CacheChecker.check(dev, opts, bar::update);
            bar.finish();
        } catch (InputFiles.Unusable e) {
            if (!quiet) {
                err.println(e.getMessage());
            }
            return 1;
        } catch (IOException e) {
            if (!quiet) {
                err.println(path + ": " + e.getMessage());
            }
            return 1;
        }
        if (!quiet) {
            report.print(err);
        }
        if (report.failed()) {
            return 1;
        }
        if (opts.clearNeedsCheck()) {
            try (FileBlockDevice rw = InputFiles.openForWriting(path, path.toString())) {
                CacheChecker.clearNeedsCheck(rw);
            } catch (InputFiles.Unusable e) {
                if (!quiet) {
                    err.println(e.getMessage());
                }
                return 1;
            } catch (IOException e) {
                if (!quiet) {
                    err.println(path + ": could not clear the needs-check flag: " + e.getMessage());
                }
                return 1;
            }
        }
        return 0;
    }
}
