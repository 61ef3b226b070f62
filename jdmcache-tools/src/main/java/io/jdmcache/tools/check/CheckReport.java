package io.jdmcache.tools.check;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * What a check found, in the reference's layout: one "examining ..." line per step, findings nested under
 * it by two spaces (a finding may carry indented detail lines). Errors make the exit code 1; warnings do
 * not. Collection is cheap; nothing is printed until {@link #print}.
 */
public final class CheckReport {
    /** One output line and, for findings, its severity. */
    public record Line(String text, Severity severity) {
    }

    private final List<Line> lines = new ArrayList<>();
    private int errors;
    private int warnings;
    private static final int MAX_PER_STEP = 100;
    private int inStep;
    private int suppressed;

    /** Starts a step ("examining superblock"). */
    public void step(String text) {
        flushSuppressed();
        lines.add(new Line(text, null));
        inStep = 0;
    }

    /** A note under the current step that is not a finding. */
    public void note(String text) {
        lines.add(new Line("  " + text, null));
    }

    public void error(String text, String... details) {
        errors++;
        add(text, Severity.ERROR, details);
    }

    public void warning(String text, String... details) {
        warnings++;
        add(text, Severity.WARNING, details);
    }

    private void add(String text, Severity s, String... details) {
        if (++inStep > MAX_PER_STEP) {
            suppressed++;
            return;
        }
        lines.add(new Line("  " + text, s));
        for (String d : details) {
            lines.add(new Line("    " + d, s));
        }
    }

    private void flushSuppressed() {
        if (suppressed > 0) {
            lines.add(new Line("  ... and " + suppressed + " more findings like these", Severity.ERROR));
            suppressed = 0;
        }
    }

    public int errors() {
        return errors;
    }

    public int warnings() {
        return warnings;
    }

    public boolean failed() {
        return errors > 0;
    }

    public List<Line> lines() {
        flushSuppressed();
        return List.copyOf(lines);
    }

    public void print(PrintStream out) {
        for (Line l : lines()) {
            out.println(l.text());
        }
        out.flush();
    }
}
