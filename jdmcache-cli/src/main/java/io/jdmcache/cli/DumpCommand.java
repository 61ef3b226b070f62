package io.jdmcache.cli;

import io.jdmcache.tools.run.DumpTool;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache dump}: cache_dump's options and XML, with the real format 2 dirty bits and the discards. */
@Command(name = "dump", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Write dm-cache metadata (formats 1 and 2) as cache_dump's XML.",
                "Format 2 dirty bits come from the dirty bitset; discarded ranges are written as <discards>."})
final class DumpCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Parameters(index = "0", paramLabel = "DEVICE|FILE", description = "the metadata device or file")
    Path input;

    @Option(names = {"-o", "--output"}, paramLabel = "XML", description = "write the XML to this file "
            + "(replaced only when the dump succeeds); default or '-': standard output")
    Path output;

    @Option(names = {"-r", "--repair"}, description = "salvage: leave out unreadable parts instead of failing")
    boolean repair;

    @Option(names = "--live", description = "read metadata that a running serve (or another writer) holds, "
            + "with a warning that it is a live image; without it such metadata is refused")
    boolean live;

    @Override
    public Integer call() {
        return DumpTool.run(input, output, repair, root.rawOut(), root.err, live);
    }
}
