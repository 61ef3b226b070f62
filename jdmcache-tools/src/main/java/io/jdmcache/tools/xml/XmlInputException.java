package io.jdmcache.tools.xml;

import java.io.IOException;

/** The restore input is not acceptable metadata XML; the message names the line and what is wrong. */
public final class XmlInputException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int line;

    public XmlInputException(int line, String message) {
        super(message);
        this.line = line;
    }

    /** The input line at fault, or -1 when the problem is with the document as a whole. */
    public int line() {
        return line;
    }
}
