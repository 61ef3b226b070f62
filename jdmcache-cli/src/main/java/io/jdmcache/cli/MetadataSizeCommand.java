package io.jdmcache.cli;

import io.jdmcache.tools.run.MetadataSizeTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.util.concurrent.Callable;

/** {@code jdmcache metadata-size}: cache_metadata_size. */
@Command(name = "metadata-size", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Print the metadata device size (in sectors) needed for a cache.",
                "These all relate to the size of the fast device (eg, SSD), rather than the whole cached device."})
final class MetadataSizeCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = "--block-size", paramLabel = "SECTORS", description = "cache block size in sectors")
    Long blockSize;

    @Option(names = "--device-size", paramLabel = "SECTORS", description = "fast device size in sectors")
    Long deviceSize;

    @Option(names = "--nr-blocks", paramLabel = "N", description = "number of cache blocks")
    Long nrBlocks;

    @Option(names = "--max-hint-width", paramLabel = "BYTES", defaultValue = "4",
            description = "bytes per policy hint (default ${DEFAULT-VALUE})")
    long hintWidth;

    @Override
    public Integer call() {
        return MetadataSizeTool.run(blockSize, deviceSize, nrBlocks, hintWidth, root.out, root.err);
    }
}
