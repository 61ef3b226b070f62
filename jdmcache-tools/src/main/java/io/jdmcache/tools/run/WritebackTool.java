package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.tools.writeback.CacheWriteback;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;

/** cache_writeback as a function: opens the three devices, copies, prints the summary, returns the exit code. */
public final class WritebackTool {
    private WritebackTool() {
    }

    /** The parsed options. */
    public record Request(Path metadata, Path origin, Path fast, long bufferMeg, boolean listFailed,
                          boolean updateMetadata, long fastOffsetSectors, long originOffsetSectors) {
    }

    public static int run(Request r, PrintStream out, PrintStream err) {
        if (r.bufferMeg() <= 0) {
            err.println("Couldn't parse buffer size: '" + r.bufferMeg() + "' (must be at least 1)");
            return 1;
        }
        try {
            InputFiles.checkKind(r.metadata());
            InputFiles.checkKind(r.origin());
            InputFiles.checkKind(r.fast());
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(e.getMessage());
            return 1;
        }
        try (FileBlockDevice md = FileBlockDevice.open(r.metadata(), !r.updateMetadata());
             FileBlockDevice fast = FileBlockDevice.open(r.fast(), true);
             FileBlockDevice origin = FileBlockDevice.open(r.origin(), false)) {
            Progress bar = Progress.start(err, "Copying data");
            CacheWriteback.Result res = CacheWriteback.run(md, fast, origin,
                    new CacheWriteback.Options(r.bufferMeg() << 20, r.updateMetadata(), r.fastOffsetSectors(),
                            r.originOffsetSectors()), done -> bar.update(done));
            bar.finish();
            out.println(res.copied() + "/" + res.toCopy() + " blocks successfully copied.");
            if (r.listFailed() && !res.failedCblocks().isEmpty()) {
                for (long c : res.failedCblocks()) {
                    err.println("failed to copy cache block " + c);
                }
            }
            if (!res.failedCblocks().isEmpty()) {
                err.println(res.failedCblocks().size() + " blocks could not be copied and stay dirty");
                return 1;
            }
            return 0;
        } catch (IOException e) {
            err.println(e.getMessage());
            return 1;
        }
    }
}
