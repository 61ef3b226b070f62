package io.jdmcache.sim.trace;

/** A trace file that cannot be read as its format; the message is {@code FILE:LINE: what was expected}. */
public final class TraceFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public TraceFormatException(String message) {
        super(message);
    }

    /** {@code FILE:LINE: expected WHAT, got 'TEXT'}. */
    static TraceFormatException at(String file, long line, String expected, String got) {
        String shown = got.length() > 80 ? got.substring(0, 77) + "..." : got;
        return new TraceFormatException(file + ":" + line + ": expected " + expected + ", got '" + shown + "'");
    }
}
