package io.jdmcache.cli.config;

/**
 * A configuration file that cannot be used. The message is one line naming the file, the line and the key:
 * {@code FILE:LINE: KEY: what is wrong}.
 */
public final class ConfigFileException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConfigFileException(String message) {
        // one line whatever a quoted value held (a YAML block scalar can carry newlines into the message)
        super(message.replace("\r", "\\r").replace("\n", "\\n"));
    }
}
