package io.jdmcache.cli.config;

/**
 * A configuration file that cannot be used. The message is one line naming the file, the line and the key:
 * {@code FILE:LINE: KEY: what is wrong}.
 */
public final class ConfigFileException extends Exception {
    private static final long serialVersionUID = 1L;

    public ConfigFileException(String message) {
        super(message);
    }
}
