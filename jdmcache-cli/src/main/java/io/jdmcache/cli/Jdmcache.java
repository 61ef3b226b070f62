package io.jdmcache.cli;

import io.jdmcache.cli.compat.Errors;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;

/** The {@code jdmcache} command: its subcommands and the exit-code and error handling they share. */
@Command(name = "jdmcache", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = "Linux dm-cache in Java: metadata tools, a userspace cache engine and an NBD server.",
        subcommands = {ServeCommand.class, StatusCommand.class, MetricsCommand.class, MessageCommand.class, CheckCommand.class, DumpCommand.class, RestoreCommand.class, RepairCommand.class,
                WritebackCommand.class, MetadataSizeCommand.class, SimCommand.class,
                CommandLine.HelpCommand.class})
public final class Jdmcache implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Where subcommands print: standard output and standard error (or a test's streams). */
    final PrintStream out;
    final PrintStream err;

    /**
     * Standard output as a raw stream: a PrintStream hides write errors, and dump must notice a closed pipe.
     */
    OutputStream rawOut() {
        return out == System.out ? new FileOutputStream(FileDescriptor.out) : out;
    }

    Jdmcache(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try 'jdmcache help')");
    }

    /** Builds the command tree writing to the given streams (used by main and by in-process tests). */
    public static CommandLine newCommandLine(PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(new Jdmcache(out, err));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println(cmd.getCommandName() + ": " + Errors.describe(ex));
            return 1;
        });
        cl.setParameterExceptionHandler((ex, args) -> {
            CommandLine cmd = ex.getCommandLine();
            cmd.getErr().println(cmd.getCommandName() + ": " + ex.getMessage());
            cmd.getErr().println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            return 1;
        });
        return cl;
    }

    static String messageOf(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** Runs a command line; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        return newCommandLine(out, err).execute(args);
    }
}
