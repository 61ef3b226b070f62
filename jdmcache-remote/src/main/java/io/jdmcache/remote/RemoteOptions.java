package io.jdmcache.remote;

import io.jdmcache.nbd.client.NbdClient;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * How remote origins are reached.
 *
 * @param connections    NBD connections per origin (more than one only when the server advertises multi-conn)
 * @param timeoutMillis  how long a request may wait for the origin (an answer, or the connection to come back)
 *                       before it fails; an origin away longer than this is FAILED (0 = wait for ever)
 * @param retryMaxMillis the longest wait between two reconnection attempts (the backoff starts at 100 ms and
 *                       doubles up to this)
 * @param replayBytes    how many bytes of answered but unflushed writes are kept for a replay after a reconnect
 *                       (a write beyond this flushes first)
 * @param log            where connection losses and reconnections are reported, one line each
 */
public record RemoteOptions(int connections, long timeoutMillis, long retryMaxMillis, long replayBytes,
                            Consumer<String> log) {
    public static final int DEFAULT_CONNECTIONS = 4;
    public static final long DEFAULT_TIMEOUT_MILLIS = 30_000;
    public static final long DEFAULT_RETRY_MAX_MILLIS = 5_000;
    public static final long DEFAULT_REPLAY_BYTES = 64L << 20;

    private static volatile RemoteOptions defaults = new RemoteOptions(DEFAULT_CONNECTIONS, DEFAULT_TIMEOUT_MILLIS,
            DEFAULT_RETRY_MAX_MILLIS, DEFAULT_REPLAY_BYTES, line -> System.err.println("jdmcache: " + line));

    public RemoteOptions {
        if (connections < 1 || connections > 64) {
            throw new IllegalArgumentException("origin connections must be 1 to 64, got " + connections);
        }
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("the origin timeout must not be negative, got " + timeoutMillis);
        }
        if (retryMaxMillis < 100) {
            throw new IllegalArgumentException("the origin retry interval must be at least 100 ms, got "
                    + retryMaxMillis);
        }
        if (replayBytes < 0) {
            throw new IllegalArgumentException("negative replay size " + replayBytes);
        }
        if (log == null) {
            throw new IllegalArgumentException("no log");
        }
    }

    private static final Map<String, RemoteOptions> PER_NAME = new ConcurrentHashMap<>();

    /** What devices opened by name ({@link NbdDeviceProvider}) use. */
    public static RemoteOptions defaults() {
        return defaults;
    }

    /** Sets what devices opened by name from now on use (the command line's --origin-* options). */
    public static void setDefaults(RemoteOptions o) {
        defaults = o;
    }

    /**
     * What a device opened by {@code name} uses: the options set for that name ({@link #setFor}), else the
     * defaults.
     */
    public static RemoteOptions forName(String name) {
        RemoteOptions o = PER_NAME.get(name);
        return o != null ? o : defaults;
    }

    /** Sets the options of devices opened by {@code name} from now on (a volume's own settings); null: the defaults. */
    public static void setFor(String name, RemoteOptions o) {
        if (o == null) {
            PER_NAME.remove(name);
        } else {
            PER_NAME.put(name, o);
        }
    }

    public RemoteOptions withConnections(int n) {
        return new RemoteOptions(n, timeoutMillis, retryMaxMillis, replayBytes, log);
    }

    public RemoteOptions withTimeoutMillis(long ms) {
        return new RemoteOptions(connections, ms, retryMaxMillis, replayBytes, log);
    }

    public RemoteOptions withRetryMaxMillis(long ms) {
        return new RemoteOptions(connections, timeoutMillis, ms, replayBytes, log);
    }

    public RemoteOptions withReplayBytes(long n) {
        return new RemoteOptions(connections, timeoutMillis, retryMaxMillis, n, log);
    }

    public RemoteOptions withLog(Consumer<String> l) {
        return new RemoteOptions(connections, timeoutMillis, retryMaxMillis, replayBytes, l);
    }

    /** The client's options: a request's reply is awaited up to the timeout; connecting up to 30 s at most. */
    NbdClient.Options clientOptions() {
        long connect = timeoutMillis > 0 ? Math.min(timeoutMillis, 30_000) : 30_000;
        return NbdClient.Options.defaults().withConnections(connections).withRequestTimeoutMillis(timeoutMillis)
                .withConnectTimeoutMillis(connect);
    }
}
