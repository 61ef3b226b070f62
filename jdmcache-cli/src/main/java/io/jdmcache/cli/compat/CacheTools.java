package io.jdmcache.cli.compat;

import io.jdmcache.cli.compat.Getopt.LongOpt;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.Checksums;
import io.jdmcache.metadata.Superblock;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.tools.check.CheckOptions;
import io.jdmcache.tools.run.CheckTool;
import io.jdmcache.tools.run.DumpTool;
import io.jdmcache.tools.run.MetadataSizeTool;
import io.jdmcache.tools.run.RepairTool;
import io.jdmcache.tools.run.RestoreTool;
import io.jdmcache.tools.run.WritebackTool;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * The six cache tools under the reference's names ({@code bin/cache_check} and friends): thin-provisioning-
 * tools 0.9.0's command lines (GNU getopt_long parsing, the same usage texts, messages and exit codes, the
 * version "0.9.0" that scripts such as LVM's test for), running jdmcache's implementations.
 */
public final class CacheTools {
    /** The version the launchers report: the reference release whose command lines they implement. */
    public static final String COMPAT_VERSION = "0.9.0";
    static final List<String> NAMES = List.of("cache_check", "cache_dump", "cache_restore", "cache_repair",
            "cache_metadata_size", "cache_writeback");

    private static final int HELP = 'h';
    private static final int VERSION = 'V';

    private final PrintStream out;
    private final PrintStream err;
    private final OutputStream rawOut;

    private CacheTools(PrintStream out, PrintStream err, OutputStream rawOut) {
        this.out = out;
        this.err = err;
        this.rawOut = rawOut;
    }

    /** Runs tool {@code name} with {@code args}; returns the exit code. */
    public static int run(String name, String[] args, PrintStream out, PrintStream err, OutputStream rawOut) {
        CacheTools t = new CacheTools(out, err, rawOut);
        try {
            return switch (name) {
                case "cache_check" -> t.check(args);
                case "cache_dump" -> t.dump(args);
                case "cache_restore" -> t.restore(args);
                case "cache_repair" -> t.repair(args);
                case "cache_metadata_size" -> t.metadataSize(args);
                case "cache_writeback" -> t.writeback(args);
                default -> {
                    err.println("Unknown command '" + name + "'");
                    err.println("Commands: " + String.join(" ", NAMES));
                    yield 1;
                }
            };
        } catch (Getopt.Error e) {
            err.println(e.getMessage());
            err.print(t.usage);
            if (name.equals("cache_metadata_size")) {
                err.println("Invalid command line");
            }
            return 1;
        } catch (RuntimeException e) {
            err.println(name + ": " + Errors.describe(e));
            return 1;
        }
    }

    private String usage = "";

    private int help() {
        out.print(usage);
        return 0;
    }

    private int version() {
        out.println(COMPAT_VERSION);
        return 0;
    }

    private int usageError(String message, boolean blankLine) {
        if (message != null) {
            err.println(message);
            if (blankLine) {
                err.println();
            }
        }
        err.print(usage);
        return 1;
    }

    // ------------------------------------------------------------------ cache_check

    private int check(String[] args) throws Getopt.Error {
        usage = """
                Usage: cache_check [options] {device|file}
                Options:
                  {-q|--quiet}
                  {-h|--help}
                  {-V|--version}
                  {--clear-needs-check-flag}
                  {--super-block-only}
                  {--skip-mappings}
                  {--skip-hints}
                  {--skip-discards}
                """;
        Getopt g = new Getopt("cache_check", args, "qhV",
                new LongOpt("quiet", false, 'q'), new LongOpt("help", false, HELP),
                new LongOpt("version", false, VERSION), new LongOpt("super-block-only", false, 1),
                new LongOpt("skip-mappings", false, 2), new LongOpt("skip-hints", false, 3),
                new LongOpt("skip-discards", false, 4), new LongOpt("clear-needs-check-flag", false, 5));
        boolean quiet = false;
        boolean sbOnly = false;
        boolean skipMappings = false;
        boolean skipHints = false;
        boolean skipDiscards = false;
        boolean clear = false;
        for (int c; (c = g.next()) != -1; ) {
            if (c == HELP || c == VERSION) {
                return c == HELP ? help() : version();
            }
            switch (c) {
                case 'q' -> quiet = true;
                case 1 -> sbOnly = true;
                case 2 -> skipMappings = true;
                case 3 -> skipHints = true;
                case 4 -> skipDiscards = true;
                case 5 -> clear = true;
                default -> throw new IllegalStateException("option " + c);
            }
        }
        if (g.operands().isEmpty()) {
            return usageError("No input file provided.", false);
        }
        return CheckTool.run(Path.of(g.operands().get(0)),
                new CheckOptions(sbOnly, skipMappings, skipHints, skipDiscards, clear), quiet, err);
    }

    // ------------------------------------------------------------------ cache_dump

    private int dump(String[] args) throws Getopt.Error {
        usage = """
                Usage: cache_dump [options] {device|file}
                Options:
                  {-h|--help}
                  {-o <xml file>}
                  {-V|--version}
                  {--repair}
                """;
        Getopt g = new Getopt("cache_dump", args, "ho:rV",
                new LongOpt("help", false, HELP), new LongOpt("output", true, 'o'),
                new LongOpt("version", false, VERSION), new LongOpt("repair", false, 'r'));
        String output = null;
        boolean repair = false;
        for (int c; (c = g.next()) != -1; ) {
            if (c == HELP || c == VERSION) {
                return c == HELP ? help() : version();
            }
            switch (c) {
                case 'o' -> output = g.optarg();
                case 'r' -> repair = true;
                default -> throw new IllegalStateException("option " + c);
            }
        }
        if (g.operands().isEmpty()) {
            return usageError("No input file provided.", false);
        }
        return DumpTool.run(Path.of(g.operands().get(0)), output == null ? null : Path.of(output), repair, rawOut,
                err);
    }

    // ------------------------------------------------------------------ cache_restore

    private int restore(String[] args) throws Getopt.Error {
        usage = """
                Usage: cache_restore [options]
                Options:
                  {-h|--help}
                  {-i|--input} <input xml file>
                  {-o|--output} <output device or file>
                  {-q|--quiet}
                  {--metadata-version} <1 or 2>
                  {-V|--version}

                  {--debug-override-metadata-version} <integer>
                  {--omit-clean-shutdown}
                """;
        Getopt g = new Getopt("cache_restore", args, "hi:o:qV",
                new LongOpt("help", false, HELP), new LongOpt("input", true, 'i'),
                new LongOpt("output", true, 'o'), new LongOpt("quiet", false, 'q'),
                new LongOpt("metadata-version", true, 1), new LongOpt("version", false, VERSION),
                new LongOpt("debug-override-metadata-version", true, 2),
                new LongOpt("omit-clean-shutdown", false, 3));
        String input = null;
        String output = null;
        boolean quiet = false;
        int version = 1;
        Long override = null;
        boolean omitClean = false;
        for (int c; (c = g.next()) != -1; ) {
            if (c == HELP || c == VERSION) {
                return c == HELP ? help() : version();
            }
            switch (c) {
                case 'i' -> input = g.optarg();
                case 'o' -> output = g.optarg();
                case 'q' -> quiet = true;
                case 1 -> {
                    Long v = number(g.optarg(), "--metadata-version");
                    if (v == null) {
                        return 1;
                    }
                    if (v != 1 && v != 2) {
                        err.println("Bad metadata version");
                        err.println();
                        return 1;
                    }
                    version = (int) (long) v;
                }
                case 2 -> {
                    override = number(g.optarg(), "--debug-override-metadata-version");
                    if (override == null) {
                        return 1;
                    }
                    if (override > 0xffffffffL) {
                        err.println("--debug-override-metadata-version " + override + " does not fit in 32 bits");
                        return 1;
                    }
                }
                case 3 -> omitClean = true;
                default -> throw new IllegalStateException("option " + c);
            }
        }
        if (!g.operands().isEmpty()) {
            return usageError(null, false);
        }
        if (input == null) {
            return usageError("No input file provided.", true);
        }
        if (output == null) {
            return usageError("No output file provided.", true);
        }
        int rc = RestoreTool.run(Path.of(input), Path.of(output), version, omitClean, quiet, err);
        if (rc == 0 && override != null) {
            try (FileBlockDevice dev = FileBlockDevice.open(Path.of(output), false,
                    io.jdmcache.pdata.io.DeviceLocks.Mode.EXCLUSIVE, output)) {
                byte[] b = new byte[4096];
                dev.read(0, ByteBuffer.wrap(b));
                Bytes.put32(b, 40, (int) (long) override);
                Checksums.stamp(b, Superblock.SALT);
                dev.write(0, ByteBuffer.wrap(b));
                dev.flush();
            } catch (IOException e) {
                err.println(output + ": could not override the metadata version: " + e.getMessage());
                return 1;
            }
        }
        return rc;
    }

    /** A decimal number for an option, or null after printing why it is not one. */
    private Long number(String s, String option) {
        try {
            long v = Long.parseLong(s);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            err.println(option + ": '" + s + "' is not a non-negative decimal number");
            return null;
        }
    }

    // ------------------------------------------------------------------ cache_repair

    private int repair(String[] args) throws Getopt.Error {
        usage = """
                Usage: cache_repair [options] {device|file}
                Options:
                  {-h|--help}
                  {-i|--input} <input metadata (binary format)>
                  {-o|--output} <output metadata (binary format)>
                  {-V|--version}
                """;
        Getopt g = new Getopt("cache_repair", args, "hi:o:V",
                new LongOpt("help", false, HELP), new LongOpt("input", true, 'i'),
                new LongOpt("output", true, 'o'), new LongOpt("version", false, VERSION));
        String input = null;
        String output = null;
        for (int c; (c = g.next()) != -1; ) {
            if (c == HELP || c == VERSION) {
                return c == HELP ? help() : version();
            }
            switch (c) {
                case 'i' -> input = g.optarg();
                case 'o' -> output = g.optarg();
                default -> throw new IllegalStateException("option " + c);
            }
        }
        if (input == null) {
            return usageError("no input file provided", false);
        }
        if (output == null) {
            return usageError("No output file provided.", false);
        }
        return RepairTool.run(Path.of(input), Path.of(output), false, err);
    }

    // ------------------------------------------------------------------ cache_metadata_size

    private int metadataSize(String[] args) throws Getopt.Error {
        usage = """
                Usage: cache_metadata_size [options]
                Options:
                  {-h|--help}
                  {-V|--version}
                  {--block-size <sectors>}
                  {--device-size <sectors>}
                  {--nr-blocks <natural>}
                  {--max-hint-width <nr bytes>}

                These all relate to the size of the fast device (eg, SSD), rather
                than the whole cached device.
                """;
        Getopt g = new Getopt("cache_metadata_size", args, "hV",
                new LongOpt("help", false, HELP), new LongOpt("version", false, VERSION),
                new LongOpt("block-size", true, 1), new LongOpt("device-size", true, 2),
                new LongOpt("nr-blocks", true, 3), new LongOpt("max-hint-width", true, 4));
        Long blockSize = null;
        Long deviceSize = null;
        Long nrBlocks = null;
        long hintWidth = 4;
        for (int c; (c = g.next()) != -1; ) {
            if (c == HELP || c == VERSION) {
                return c == HELP ? help() : version();
            }
            Long v = null;
            if (c >= 1 && c <= 4) {
                v = number(g.optarg(), switch (c) {
                    case 1 -> "--block-size";
                    case 2 -> "--device-size";
                    case 3 -> "--nr-blocks";
                    default -> "--max-hint-width";
                });
                if (v == null) {
                    return 1;
                }
            }
            switch (c) {
                case 1 -> blockSize = v;
                case 2 -> deviceSize = v;
                case 3 -> nrBlocks = v;
                case 4 -> hintWidth = v;
                default -> throw new IllegalStateException("option " + c);
            }
        }
        return MetadataSizeTool.run(blockSize, deviceSize, nrBlocks, hintWidth, out, err);
    }

    // ------------------------------------------------------------------ cache_writeback

    private int writeback(String[] args) throws Getopt.Error {
        usage = """
                Usage: cache_writeback [options]
                \t\t--metadata-device <dev>
                \t\t--origin-device <dev>
                \t\t--fast-device <dev>
                \t\t--buffer-size-meg <size>
                \t\t--list-failed-blocks
                \t\t--no-metadata-update
                Options:
                  {-h|--help}
                  {-V|--version}
                """;
        Getopt g = new Getopt("cache_writeback", args, "hV",
                new LongOpt("help", false, HELP), new LongOpt("version", false, VERSION),
                new LongOpt("metadata-device", true, 1), new LongOpt("origin-device", true, 2),
                new LongOpt("fast-device", true, 3), new LongOpt("buffer-size-meg", true, 4),
                new LongOpt("list-failed-blocks", false, 5), new LongOpt("no-metadata-update", false, 6),
                new LongOpt("fast-device-offset", true, 7), new LongOpt("origin-device-offset", true, 8));
        String md = null;
        String origin = null;
        String fast = null;
        long bufferMeg = 128;
        boolean listFailed = false;
        boolean update = true;
        long fastOff = 0;
        long originOff = 0;
        for (int c; (c = g.next()) != -1; ) {
            if (c == HELP || c == VERSION) {
                return c == HELP ? help() : version();
            }
            switch (c) {
                case 1 -> md = g.optarg();
                case 2 -> origin = g.optarg();
                case 3 -> fast = g.optarg();
                case 4 -> {
                    try {
                        bufferMeg = Long.parseLong(g.optarg());
                    } catch (NumberFormatException e) {
                        return usageError("Couldn't parse buffer size: '" + g.optarg() + "'", false);
                    }
                }
                case 5 -> listFailed = true;
                case 6 -> update = false;
                case 7, 8 -> {
                    Long v = number(g.optarg(), c == 7 ? "--fast-device-offset" : "--origin-device-offset");
                    if (v == null) {
                        return 1;
                    }
                    if (c == 7) {
                        fastOff = v;
                    } else {
                        originOff = v;
                    }
                }
                default -> throw new IllegalStateException("option " + c);
            }
        }
        if (!g.operands().isEmpty()) {
            return usageError(null, false);
        }
        if (md == null) {
            return usageError("No metadata device provided.", true);
        }
        if (origin == null) {
            return usageError("No origin device provided.", true);
        }
        if (fast == null) {
            return usageError("No fast device provided.", true);
        }
        return WritebackTool.run(new WritebackTool.Request(Path.of(md), Path.of(origin), Path.of(fast), bufferMeg,
                listFailed, update, fastOff, originOff), out, err);
    }
}
