package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.DeviceBusyException;
import io.jdmcache.pdata.io.DeviceLocks;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.pdata.io.FileIdentity;
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
        try {
            requireDistinct(new String[] {"--metadata-device", "--fast-device", "--origin-device"},
                    new Path[] {r.metadata(), r.fast(), r.origin()});
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(e.getMessage());
            return 1;
        }
        try (FileBlockDevice md = open(r.metadata(), !r.updateMetadata(), "metadata");
             FileBlockDevice fast = open(r.fast(), true, "fast");
             FileBlockDevice origin = open(r.origin(), false, "origin")) {
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
        } catch (InputFiles.Unusable e) {
            err.println(e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println(e.getMessage());
            return 1;
        }
    }

    /**
     * The origin and (when updated) the metadata are claimed exclusively, the fast device shared: a running
     * serve holding any of them refuses the write-back, which would race its own.
     */
    private static FileBlockDevice open(Path p, boolean readOnly, String role) throws IOException, InputFiles.Unusable {
        try {
            return FileBlockDevice.open(p, readOnly, readOnly ? DeviceLocks.Mode.SHARED : DeviceLocks.Mode.EXCLUSIVE,
                    "the " + role + " device " + p);
        } catch (DeviceBusyException e) {
            throw new InputFiles.Unusable(e.getMessage() + "\n" + InputFiles.LIVE_NOTE);
        }
    }

    /** One file named in two roles (by device and inode, whatever the spelling) is refused. */
    static void requireDistinct(String[] roles, Path[] paths) throws IOException, InputFiles.Unusable {
        FileIdentity[] ids = new FileIdentity[paths.length];
        for (int i = 0; i < paths.length; i++) {
            ids[i] = FileIdentity.of(paths[i]);
            for (int j = 0; j < i; j++) {
                if (ids[i] != null && ids[i].equals(ids[j])) {
                    throw new InputFiles.Unusable(roles[j] + " " + paths[j] + " and " + roles[i] + " " + paths[i]
                            + " are the same file; each role needs its own");
                }
            }
        }
    }
}
