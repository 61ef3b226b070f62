package io.jdmcache.sim.trace;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The trace formats {@code jdmcache sim} reads, by their {@code --format} names. */
public enum TraceFormat {
    /** Guess from the content. */
    AUTO("auto", "guess from the content"),
    /** One origin block number a line; lines starting with {@code #} or {@code *} are not accesses. */
    BLOCKS("blocks", "one block number a line"),
    /** MSR Cambridge CSV: Timestamp,Hostname,DiskNumber,Type,Offset,Size,ResponseTime. */
    MSR("msr", "MSR Cambridge CSV"),
    /** SYSTOR'17 CSV with a header: Timestamp,Response,IOType,LUN,Offset,Size. */
    SYSTOR("systor", "SYSTOR'17 CSV"),
    /** The queue (Q) events of blkparse's default text output. */
    BLKPARSE("blkparse", "blkparse's default output"),
    /** The log file of nbdkit's log filter. */
    NBDKIT_LOG("nbdkit-log", "nbdkit's log filter"),
    /** fio's write_iolog, versions 2 and 3. */
    FIO_IOLOG("fio-iolog", "fio iolog v2/v3"),
    /** jdmcache's binary trace ({@code serve --trace}). */
    JDMCACHE("jdmcache", "jdmcache binary trace");

    private final String cliName;
    private final String description;

    TraceFormat(String cliName, String description) {
        this.cliName = cliName;
        this.description = description;
    }

    public String cliName() {
        return cliName;
    }

    public String description() {
        return description;
    }

    /** Whether requests are byte-addressed (so {@code --block-size} matters). */
    public boolean byteAddressed() {
        return this != BLOCKS && this != AUTO;
    }

    public static List<String> names() {
        return Arrays.stream(values()).map(TraceFormat::cliName).toList();
    }

    public static Optional<TraceFormat> byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(f -> f.cliName.equals(n)).findFirst();
    }

    @Override
    public String toString() {
        return cliName;
    }
}
