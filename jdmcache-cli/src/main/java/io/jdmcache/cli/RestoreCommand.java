package io.jdmcache.cli;

import io.jdmcache.tools.run.RestoreTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache restore}: cache_restore's options, stricter input checks, streaming StAX parser. */
@Command(name = "restore", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Write dm-cache metadata from cache_dump's XML (plain or gzip-compressed).",
                "The output must exist (a block device or a file of at least 32 KiB); on failure its "
                        + "superblock is zeroed."})
final class RestoreCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = {"-i", "--input"}, required = true, paramLabel = "XML", description = "the XML input")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DEV", description = "the metadata device or file")
    Path output;

    @Option(names = "--metadata-version", paramLabel = "1|2", defaultValue = "1",
            description = "metadata format to write (default ${DEFAULT-VALUE}, as cache_restore 0.9)")
    int version;

    @Option(names = "--omit-clean-shutdown", description = "leave the clean-shutdown flag clear "
            + "(the kernel then treats every cached block as dirty)")
    boolean omitCleanShutdown;

    @Option(names = {"-q", "--quiet"}, description = "no progress bar")
    boolean quiet;

    @Override
    public Integer call() {
        if (version != 1 && version != 2) {
            root.err.println("restore: --metadata-version " + version + ": only 1 and 2 exist");
            return 1;
        }
        return RestoreTool.run(input, output, version, omitCleanShutdown, quiet, root.err);
    }
}
