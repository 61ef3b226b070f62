package io.jdmcache.cli;

import io.jdmcache.tools.check.CheckOptions;
import io.jdmcache.tools.run.CheckTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache check}: cache_check's options and semantics. */
@Command(name = "check", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Check dm-cache metadata (formats 1 and 2): superblock, mapping, dirty, hint and discard "
                + "arrays, and the space map's reference counts.",
                "Findings go to stderr; exit code 0 when nothing is wrong, 1 otherwise."})
final class CheckCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Parameters(index = "0", paramLabel = "DEVICE|FILE", description = "the metadata device or file")
    Path input;

    @Option(names = {"-q", "--quiet"}, description = "print nothing; only the exit code tells")
    boolean quiet;

    @Option(names = "--super-block-only", description = "check only the superblock (and the discard bitset)")
    boolean superBlockOnly;

    @Option(names = "--skip-mappings", description = "do not check the mapping array and dirty bitset")
    boolean skipMappings;

    @Option(names = "--skip-hints", description = "do not check the hint array")
    boolean skipHints;

    @Option(names = "--skip-discards", description = "do not check the discard bitset")
    boolean skipDiscards;

    @Option(names = "--clear-needs-check-flag", description = "clear the needs-check flag if the check passes")
    boolean clearNeedsCheck;

    @Option(names = "--live", description = "read metadata that a running serve (or another writer) holds, "
            + "with a warning that it is a live image; without it such metadata is refused")
    boolean live;

    @Override
    public Integer call() {
        return CheckTool.run(input, new CheckOptions(superBlockOnly, skipMappings, skipHints, skipDiscards,
                clearNeedsCheck), quiet, root.err, live);
    }
}
