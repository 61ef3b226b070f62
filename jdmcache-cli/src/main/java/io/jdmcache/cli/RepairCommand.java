package io.jdmcache.cli;

import io.jdmcache.tools.run.RepairTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache repair}: cache_repair, keeping the input's format, dirty bits and clean-shutdown flag. */
@Command(name = "repair", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Salvage the readable mappings, dirty bits, hints and discards of damaged metadata into "
                + "new metadata of the same format.",
                "What could not be read is listed on stderr; lost format 2 dirty bits come back dirty."})
final class RepairCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = {"-i", "--input"}, required = true, paramLabel = "DEV", description = "the damaged metadata")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DEV",
            description = "where to write the repaired metadata (an existing device or file of at least 32 KiB)")
    Path output;

    @Option(names = {"-q", "--quiet"}, description = "do not list what was left out")
    boolean quiet;

    @Override
    public Integer call() {
        return RepairTool.run(input, output, quiet, root.err);
    }
}
