package io.jdmcache.cli.serve;

import java.util.Locale;

/**
 * Whether a volume's origin can be reached: a local file or device is always {@link #CONNECTED}; a remote
 * (NBD) origin reports its connection's state through the {@link Source} its volume is given.
 */
public enum OriginState {
    /** Reachable: requests go through. */
    CONNECTED,
    /** The connection was lost and is being made again; requests wait or fail. */
    RECONNECTING,
    /** Given up: requests to the origin fail. */
    FAILED;

    /** The {@code state} label value. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Where a volume's origin state comes from. */
    @FunctionalInterface
    public interface Source {
        /** A local origin: always connected. */
        Source LOCAL = () -> CONNECTED;

        OriginState state();

        /** When the origin entered its state (milliseconds since the epoch), or -1 when it has no such time. */
        default long sinceMillis() {
            return -1;
        }
    }
}
