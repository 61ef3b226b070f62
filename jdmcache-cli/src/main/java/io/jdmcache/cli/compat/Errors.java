package io.jdmcache.cli.compat;

import java.io.IOException;

/** How a command reports the exception that ends it. */
public final class Errors {
    private Errors() {
    }

    /**
     * One line for an exception that ends a command: the message of an I/O error or of a refused argument as it
     * is (those name what is at fault); anything else is a bug of ours and says so, still without a stack trace.
     */
    public static String describe(Throwable t) {
        boolean refusedArgument = t instanceof IllegalArgumentException && !(t instanceof NumberFormatException);
        if (t instanceof IOException || refusedArgument) {
            String m = t.getMessage();
            return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
        }
        return "internal error, please report: " + t.getClass().getName()
                + (t.getMessage() == null ? "" : ": " + t.getMessage());
    }
}
