package io.jdmcache.cli;

import io.jdmcache.tools.run.WritebackTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache writeback}: cache_writeback's options and semantics, for both metadata formats. */
@Command(name = "writeback", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Copy every dirty cache block from the fast device to the origin (offline), then clear the "
                + "dirty state and commit.",
                "Adjacent origin blocks are written with one I/O; the origin is flushed before the metadata changes."})
final class WritebackCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = "--metadata-device", required = true, paramLabel = "DEV", description = "the metadata device or file")
    Path metadata;

    @Option(names = "--origin-device", required = true, paramLabel = "DEV", description = "the origin (slow) device")
    Path origin;

    @Option(names = "--fast-device", required = true, paramLabel = "DEV", description = "the cache (fast) device")
    Path fast;

    @Option(names = "--buffer-size-meg", paramLabel = "MIB", defaultValue = "128",
            description = "copy buffer size in MiB (default ${DEFAULT-VALUE})")
    long bufferMeg;

    @Option(names = "--list-failed-blocks", description = "list the cache blocks that could not be copied")
    boolean listFailed;

    @Option(names = "--no-metadata-update", description = "copy only; leave the metadata untouched")
    boolean noMetadataUpdate;

    @Option(names = "--fast-device-offset", paramLabel = "SECTORS", defaultValue = "0",
            description = "where the cache data starts on the fast device")
    long fastOffset;

    @Option(names = "--origin-device-offset", paramLabel = "SECTORS", defaultValue = "0",
            description = "where the origin data starts on the origin device")
    long originOffset;

    @Override
    public Integer call() {
        return WritebackTool.run(new WritebackTool.Request(metadata, origin, fast, bufferMeg, listFailed,
                !noMetadataUpdate, fastOffset, originOffset), root.out, root.err);
    }
}
