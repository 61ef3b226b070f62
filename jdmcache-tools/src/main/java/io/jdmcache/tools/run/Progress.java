package io.jdmcache.tools.run;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A one-line progress indicator on standard error, drawn only when standard error is a terminal (so
 * scripts and logs never see it), and at most a few times a second.
 */
public final class Progress {
    private static final Progress NONE = new Progress(null, "");
    private final PrintStream err;
    private final String label;
    private long total = -1;
    private long lastDraw;

    private Progress(PrintStream err, String label) {
        this.err = err;
        this.label = label;
    }

    /** A progress line when {@code err} is the process's standard error and a terminal; otherwise silent. */
    public static Progress start(PrintStream err, String label) {
        return err == System.err && stderrIsTerminal() ? new Progress(err, label) : NONE;
    }

    /** True when file descriptor 2 is a terminal (Linux: /proc/self/fd/2 links to a tty). */
    public static boolean stderrIsTerminal() {
        try {
            String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        } catch (Exception e) {
            return false;
        }
    }

    public Progress total(long t) {
        total = t;
        return this;
    }

    public void update(long done) {
        if (err == null) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < 200_000_000L) {
            return;
        }
        lastDraw = now;
        if (total > 0) {
            int pct = (int) Math.min(100, done * 100 / total);
            int bars = pct / 2;
            err.print("\r" + label + ": [" + "=".repeat(bars) + " ".repeat(50 - bars) + "] " + pct + "%");
        } else {
            err.print("\r" + label + ": " + done);
        }
        err.flush();
    }

    public void finish() {
        if (err != null) {
            err.print("\r\033[K");
            err.flush();
        }
    }
}
