package io.jdmcache.engine;

/** A table line or a message the cache refuses; the message is one line naming the argument at fault. */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String message) {
        super(message);
    }
}
