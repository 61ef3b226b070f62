package io.jdmcache.cli;

import io.jdmcache.cli.serve.ControlServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code jdmcache status}: the running server's status line, in the kernel's format or explained. */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Print the status of a running 'jdmcache serve' in dmsetup's format (a server of several "
                + "volumes: one line per volume, beginning with its name and a colon, unless --volume picks one):",
                "0 SECTORS cache MD-BLOCK-SIZE USED/TOTAL CACHE-BLOCK-SIZE USED/TOTAL READ-HITS READ-MISSES "
                        + "WRITE-HITS WRITE-MISSES DEMOTIONS PROMOTIONS DIRTY #FEATURES FEATURES... #CORE-ARGS "
                        + "CORE-ARGS... POLICY #POLICY-ARGS POLICY-ARGS... rw|ro|fail needs_check|-"})
final class StatusCommand implements Callable<Integer> {
    @ParentCommand
    Jdmcache root;

    @Option(names = "--human", description = "explain the fields instead")
    boolean human;

    @Option(names = "--map", description = "draw where the cache is: the origin as a grid of cells, each marked "
            + "with how much of it is cached and whether any of it is dirty")
    boolean map;

    @Option(names = "--columns", paramLabel = "N", defaultValue = "64",
            description = "cells per line of the map (1-1024, default 64)")
    int columns;

    @Option(names = "--rows", paramLabel = "N", defaultValue = "16",
            description = "lines of the map at most (1-1024, default 16)")
    int rows;

    @Option(names = "--control", paramLabel = "PATH", description = "the server's control socket (default: "
            + Control.DEFAULT_HINT + ")")
    Path control;

    @Option(names = "--volume", paramLabel = "NAME", description = "one volume of a server of several (default: "
            + "every volume, each line beginning with its name)")
    String volume;

    @Override
    public Integer call() {
        if (human && map) {
            root.err.println("status: --human and --map are two different views; pick one");
            return 1;
        }
        return ask(root, control, "status", volume,
                map ? "--map " + columns + " " + rows : human ? "--human" : "");
    }

    /** Sends {@code command [--volume VOLUME] [args]}; prints the answer. */
    static int ask(Jdmcache root, Path control, String command, String volume, String args) {
        if (volume != null && (volume.isEmpty() || volume.chars().anyMatch(c -> c <= ' '))) {
            root.err.println(command + ": --volume '" + volume + "': a volume's name is one word");
            return 1;
        }
        String request = command + (volume == null ? "" : " --volume " + volume) + (args.isEmpty() ? "" : " " + args);
        return ask(root, control, request);
    }

    static int ask(Jdmcache root, Path control, String request) {
        Path p = Control.find(control);
        String answer;
        try {
            answer = ControlServer.request(p, request);
        } catch (IOException e) {
            String why = Jdmcache.messageOf(e);
            if (why.contains("Permission denied") || why.contains("Operation not permitted")) {
                root.err.println("jdmcache: cannot connect to the control socket " + p + ": " + why
                        + " (the server runs as another user: run this as that user)");
            } else if (why.contains("No such file")) {
                root.err.println("jdmcache: no server answers on " + p + " (there is no control socket there); "
                        + "start one with 'jdmcache serve' or pass --control PATH");
            } else {
                root.err.println("jdmcache: no server answers on " + p + " (" + why
                        + "); start one with 'jdmcache serve' or pass --control PATH");
            }
            return 1;
        }
        if (answer.startsWith("error: ")) {
            root.err.print(answer.substring(7));
            return 1;
        }
        root.out.print(answer);
        return 0;
    }
}
