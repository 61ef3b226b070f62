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

    public static int run(Path path, CheckOptions opts, boolean quiet, PrintStream err) {
        CheckReport report;
        try (FileBlockDevice dev = InputFiles.openMetadata(path, TOO_SMALL)) {
            report = CacheChecker.check(dev, opts);
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
            try (FileBlockDevice rw = FileBlockDevice.open(path, false)) {
                CacheChecker.clearNeedsCheck(rw);
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
