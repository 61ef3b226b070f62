package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.tools.dump.BuilderSink;
import io.jdmcache.tools.dump.MetadataReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * cache_repair as a function: salvages every readable mapping, dirty bit, hint and discard bit of damaged
 * metadata into fresh metadata of the same format (the reference always writes format 1 and loses format 2
 * dirty bits). The clean-shutdown flag is kept, so metadata that was not shut down cleanly stays that way
 * and every block is still written back. Lost v2 dirty bits come back dirty.
 */
public final class RepairTool {
    private RepairTool() {
    }

    public static int run(Path input, Path output, boolean quiet, PrintStream err) {
        String bad = RestoreTool.checkOutput(output);
        if (bad != null) {
            err.println(bad + RestoreTool.EXPLAIN);
            return 1;
        }
        try {
            InputFiles.checkKind(input);
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(input + ": " + e.getMessage());
            return 1;
        }
        try {
            if (java.nio.file.Files.isSameFile(input, output)) {
                err.println("repair: the input " + input + " and the output " + output
                        + " are the same file; repair writes to fresh metadata");
                return 1;
            }
        } catch (IOException e) {
            // one of them does not exist: the opens below say which
        }
        BuilderSink sink = new BuilderSink();
        MetadataReader reader;
        try (FileBlockDevice out = InputFiles.openForWriting(output, "the output " + output)) {
            try (FileBlockDevice dev = InputFiles.openMetadata(input, DumpTool.TOO_SMALL)) {
                reader = new MetadataReader(dev, true);
                Progress bar = quiet ? Progress.start(null, "") : Progress.start(err, "Repairing");
                bar.total(CheckTool.cacheBlocks(dev));
                reader.setProgress(bar::update);
                reader.read(sink);
                bar.finish();
            } catch (InputFiles.Unusable e) {
                err.println(e.getMessage());
                RestoreTool.zeroSuperblock(out, output, err);
                return 1;
            } catch (IOException | RuntimeException e) {
                err.println(input + ": " + e.getMessage());
                RestoreTool.zeroSuperblock(out, output, err);
                return 1;
            }
            try {
                sink.builder().write(out, sink.header().cleanShutdown());
            } catch (IOException | RuntimeException e) {
                err.println(output + ": cannot write the metadata: " + e.getMessage());
                RestoreTool.zeroSuperblock(out, output, err);
                return 1;
            }
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(output + ": " + e.getMessage());
            return 1;
        }
        if (!quiet) {
            for (String l : reader.losses()) {
                err.println("repair: left out " + l);
            }
        }
        return 0;
    }
}
