package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.remote.NbdOriginDevice;
import io.jdmcache.remote.RemoteOptions;

import java.io.PrintStream;
import java.time.Instant;

/** What {@code serve} does for a remote (NBD) origin: the --origin-* options, read-only origins, its state. */
public final class RemoteOrigin {
    private RemoteOrigin() {
    }

    /**
     * Sets how remote origins opened from now on are reached.
     *
     * @throws IllegalArgumentException naming the option at fault
     */
    public static void configure(int connections, double timeoutSeconds, double retrySeconds, PrintStream log) {
        if (connections < 1 || connections > 64) {
            throw new IllegalArgumentException("--origin-connections must be 1 to 64, got " + connections);
        }
        if (!(timeoutSeconds >= 0) || timeoutSeconds > 86_400) {
            throw new IllegalArgumentException("--origin-timeout must be 0 to 86400 seconds, got " + timeoutSeconds);
        }
        if (!(retrySeconds >= 0.1) || retrySeconds > 3600) {
            throw new IllegalArgumentException("--origin-retry must be 0.1 to 3600 seconds, got " + retrySeconds);
        }
        RemoteOptions.setDefaults(RemoteOptions.defaults().withConnections(connections)
                .withTimeoutMillis(Math.round(timeoutSeconds * 1000)).withRetryMaxMillis(Math.round(retrySeconds * 1000))
                .withLog(line -> {
                    log.println("jdmcache: " + line);
                    log.flush();
                }));
    }

    /**
     * Sets a volume's own settings for its remote origin {@code origin} (a configuration file's
     * {@code origin_connections}, {@code origin_timeout}, {@code origin_retry}) over the command line's; with none,
     * the command line's apply. Does nothing for a local origin.
     */
    public static void settingsFor(String origin, io.jdmcache.cli.config.ServeConfig.OriginSettings s) {
        if (!io.jdmcache.pdata.io.Devices.isNamed(origin)) {
            return;
        }
        if (s == null || s.none()) {
            RemoteOptions.setFor(origin, null);
            return;
        }
        RemoteOptions o = RemoteOptions.defaults();
        if (s.connections() != null) {
            o = o.withConnections(s.connections());
        }
        if (s.timeoutMillis() != null) {
            o = o.withTimeoutMillis(s.timeoutMillis());
        }
        if (s.retryMillis() != null) {
            o = o.withRetryMaxMillis(s.retryMillis());
        }
        RemoteOptions.setFor(origin, o);
    }

    /**
     * Whether the export must be read-only because the origin is: in writethrough and passthrough every write
     * goes to the origin; in writeback writes are kept in the cache, so the export stays writable (and says so).
     */
    public static boolean readOnlyExport(CacheDevice dev, PrintStream log) {
        return readOnlyExport(dev, line -> log.println("jdmcache: " + line));
    }

    /** As {@link #readOnlyExport(CacheDevice, PrintStream)}, telling {@code log} one line (without a prefix). */
    public static boolean readOnlyExport(CacheDevice dev, java.util.function.Consumer<String> log) {
        NbdOriginDevice o = remote(dev);
        if (o == null || !o.isReadOnly()) {
            return false; // a local origin is opened read-write or not at all
        }
        if (dev.mode() == CacheMode.WRITEBACK) {
            log.accept("the origin " + o.name() + " is read-only: writes stay in the cache as dirty blocks "
                    + "that cannot be written back; a write the cache does not take fails (EPERM)");
            return false;
        }
        log.accept("the origin " + o.name() + " is read-only: serving a read-only export");
        return true;
    }

    /** The origin's state for metrics and status: a remote origin's connection, or always connected. */
    public static OriginState.Source source(CacheDevice dev) {
        NbdOriginDevice n = remote(dev);
        if (n == null) {
            return OriginState.Source.LOCAL;
        }
        return new OriginState.Source() {
            @Override
            public OriginState state() {
                return RemoteOrigin.state(n);
            }

            @Override
            public long sinceMillis() {
                return n.stateSinceMillis();
            }
        };
    }

    static OriginState state(NbdOriginDevice n) {
        return switch (n.state()) {
            case CONNECTED -> OriginState.CONNECTED;
            case RECONNECTING -> OriginState.RECONNECTING;
            case FAILED -> OriginState.FAILED;
        };
    }

    /** One line for {@code status --human}: where the origin is and its state since when. */
    public static String describe(CacheDevice dev) {
        NbdOriginDevice n = remote(dev);
        if (n != null) {
            String err = n.lastError();
            return "origin:          " + n.name() + " (NBD, " + n.client().connectionCount() + " connection"
                    + (n.client().connectionCount() == 1 ? "" : "s") + "): " + state(n).label() + " since "
                    + Instant.ofEpochMilli(n.stateSinceMillis())
                    + (n.state() != NbdOriginDevice.State.CONNECTED && !err.isEmpty() ? " (" + err + ")" : "")
                    + (n.reconnects() > 0 ? ", " + n.reconnects() + " reconnect" + (n.reconnects() == 1 ? "" : "s") : "");
        }
        return "origin:          " + dev.config().originDevice() + " (local): connected";
    }

    /** The cache's origin when it is remote, else null. */
    static NbdOriginDevice remote(CacheDevice dev) {
        return NbdOriginDevice.opened(dev.config().originDevice());
    }
}
