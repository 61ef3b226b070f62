package io.jdmcache.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache metrics}: the running server's counters in the Prometheus text format. */
@Command(name = "metrics", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Print the counters and gauges of a running 'jdmcache serve' in the Prometheus text "
                + "exposition format (for a node exporter's textfile collector, for example): hits, misses, "
                + "promotions, demotions, write-backs, commits, blocks used and dirty, metadata use and mode, "
                + "NBD connections."})
final class MetricsCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = "--control", paramLabel = "PATH", description = "the server's control socket (default: "
            + Control.DEFAULT_HINT + ")")
    Path control;

    @Option(names = "--volume", paramLabel = "NAME", description = "only this volume's series (default: every "
            + "volume's)")
    String volume;

    @Override
    public Integer call() {
        return StatusCommand.ask(root, control, "metrics", volume, "");
    }
}
