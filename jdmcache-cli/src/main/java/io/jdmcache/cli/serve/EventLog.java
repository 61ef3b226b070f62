package io.jdmcache.cli.serve;

import java.io.PrintStream;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/**
 * What {@code jdmcache serve} tells its operator: one line per event (a volume opened, left out, stopped, a
 * reload...) on standard error, each beginning with the time, except under systemd (the environment has
 * {@code JOURNAL_STREAM}), where journald stamps each line itself.
 */
public final class EventLog {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS", Locale.ROOT);

    private final PrintStream out;
    private final boolean timestamps;

    public EventLog(PrintStream out, boolean timestamps) {
        this.out = out;
        this.timestamps = timestamps;
    }

    /** A log for this process: timestamps unless stderr goes to the journal. */
    public static EventLog forProcess(PrintStream out) {
        return new EventLog(out, System.getenv("JOURNAL_STREAM") == null);
    }

    /** Logs one event (line breaks in it become spaces: one event, one line). */
    public void event(String format, Object... args) {
        String text = (args.length == 0 ? format : String.format(Locale.ROOT, format, args))
                .replaceAll("[\\r\\n]+", " ");
        String line = (timestamps ? TIME.format(OffsetDateTime.now().truncatedTo(ChronoUnit.MILLIS)) + " " : "")
                + "jdmcache: " + text;
        synchronized (this) {
            out.println(line);
            out.flush();
        }
    }
}
