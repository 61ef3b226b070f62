package io.jdmcache.nbd;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An NBD server exporting one or more {@link NbdBackend}s over TCP or a Unix-domain socket, each an
 * {@link NbdExport} selected by its name. Exports can be added and removed while the server runs: a removed
 * export takes no new connections, its open connections finish the requests they already sent (as in
 * {@link #stop()}), and its backend is flushed and closed; the other exports are not disturbed.
 *
 * <p>Fixed newstyle handshake with GO, INFO, EXPORT_NAME, LIST, ABORT, STRUCTURED_REPLY and
 * LIST/SET_META_CONTEXT ({@code base:allocation}); every other option is answered NBD_REP_ERR_UNSUP (or
 * ERR_POLICY for STARTTLS). Transmission: READ, WRITE (+FUA), FLUSH, TRIM, WRITE_ZEROES (NO_HOLE, FAST_ZERO),
 * BLOCK_STATUS, CACHE, DISC, with simple or structured replies. Each connection has a reader thread that
 * decodes requests and hands them to a shared worker pool; replies go out under a per-connection lock, so many
 * requests are in flight per connection and replies may come back out of order. A request arriving while its
 * connection has nothing else in flight is served on the reader thread itself, saving two thread hand-offs
 * for queue-depth-1 clients.
 */
public final class NbdServer implements Closeable {
    /** How long {@link #stop()} lets connections finish before closing those that still block. */
    static final int STOP_GRACE_SECONDS = 30;

    /** The IANA port for NBD. */
    public static final int DEFAULT_PORT = 10809;

    /**
     * Server settings.
     *
     * @param exportName  the name of the export made by {@link #NbdServer(NbdBackend, Options)}, which is also
     *                    the default export (the one an empty name selects); unused by {@link #NbdServer(Options)}
     * @param description that export's text sent as NBD_INFO_DESCRIPTION and in NBD_OPT_LIST (empty: none)
     * @param workers     threads serving requests, shared by all connections
     * @param inlineIdle  serve a small READ/WRITE/CACHE on the connection's reader thread when nothing else is
     *                    in flight on that connection (saves two thread hand-offs at queue depth 1, but a slow
     *                    backend call then delays reading the requests pipelined behind it)
     * @param busyPollMicros  before a TCP connection's reader blocks for the next request it polls the socket
     *                    for up to this long (0: never), so a client sending its next request soon does not
     *                    have to wake a sleeping thread; costs up to that much CPU each time the client pauses
     */
    public record Options(String exportName, String description, int workers, boolean inlineIdle,
            int busyPollMicros, int handshakeTimeoutMillis, int maxConnections) {
        /** The default busy-poll time, the value commonly used for Linux's {@code net.core.busy_read}. */
        public static final int DEFAULT_BUSY_POLL_MICROS = 50;
        /** How long a client may take from connecting to the end of its handshake, by default. */
        public static final int DEFAULT_HANDSHAKE_TIMEOUT_MILLIS = 10_000;
        /** Connections served at once, by default; more are refused with a message. */
        public static final int DEFAULT_MAX_CONNECTIONS = 128;

        public Options {
            Objects.requireNonNull(exportName, "exportName");
            Objects.requireNonNull(description, "description");
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be at least 1: " + workers);
            }
            if (busyPollMicros < 0 || busyPollMicros > 1_000_000) {
                throw new IllegalArgumentException("busy-poll time must be 0..1000000 microseconds: "
                        + busyPollMicros);
            }
            if (handshakeTimeoutMillis < 1) {
                throw new IllegalArgumentException("the handshake timeout must be positive: "
                        + handshakeTimeoutMillis + " ms");
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("the connection limit must be at least 1: " + maxConnections);
            }
        }

        public static Options defaults() {
            return new Options("", "", Math.max(4, 4 * Runtime.getRuntime().availableProcessors()), true,
                    DEFAULT_BUSY_POLL_MICROS, DEFAULT_HANDSHAKE_TIMEOUT_MILLIS, DEFAULT_MAX_CONNECTIONS);
        }

        /** A client that has not finished its handshake this long after connecting is disconnected. */
        public Options withHandshakeTimeoutMillis(int millis) {
            return new Options(exportName, description, workers, inlineIdle, busyPollMicros, millis, maxConnections);
        }

        /** At most this many connections are served at once; beyond it a client's GO is refused with a message. */
        public Options withMaxConnections(int n) {
            return new Options(exportName, description, workers, inlineIdle, busyPollMicros,
                    handshakeTimeoutMillis, n);
        }

        public Options withExportName(String name) {
            return new Options(name, description, workers, inlineIdle, busyPollMicros,
                    handshakeTimeoutMillis, maxConnections);
        }

        public Options withDescription(String text) {
            return new Options(exportName, text, workers, inlineIdle, busyPollMicros,
                    handshakeTimeoutMillis, maxConnections);
        }

        public Options withWorkers(int n) {
            return new Options(exportName, description, n, inlineIdle, busyPollMicros,
                    handshakeTimeoutMillis, maxConnections);
        }

        public Options withInlineIdle(boolean on) {
            return new Options(exportName, description, workers, on, busyPollMicros,
                    handshakeTimeoutMillis, maxConnections);
        }

        public Options withBusyPollMicros(int micros) {
            return new Options(exportName, description, workers, inlineIdle, micros,
                    handshakeTimeoutMillis, maxConnections);
        }
    }

    private final Options options;
    /** The exports by name, in the order they were added; replaced whole under {@code this} (copy on write). */
    private volatile Map<String, NbdExport> exports = Map.of();
    /** The export an empty name selects when no export is named "" (null: none). */
    private volatile String defaultExport;
    final BufferPool buffers;
    final NbdStats stats = new NbdStats();
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger connectionIds = new AtomicInteger();
    private final ExecutorService workers;
    /** Disconnects clients that have not finished their handshake in time. */
    private final ScheduledExecutorService handshakeTimer;
    /** Talks to the clients beyond the connection limit, a few at a time (more are just closed). */
    private final ThreadPoolExecutor refusers;
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong timedOut = new AtomicLong();
    private volatile long lastRefusalLog;
    private volatile ServerSocketChannel listener;
    private volatile SocketAddress boundAddress;
    private Thread acceptThread;
    private volatile boolean stopping;
    private boolean stopped;

    /**
     * A server of one export: {@code backend}, named {@code options.exportName()} with
     * {@code options.description()}; it is also the default export.
     */
    public NbdServer(NbdBackend backend, Options options) {
        this(options);
        addExport(options.exportName(), options.description(), backend);
        defaultExport = options.exportName();
    }

    /** A server with no exports yet ({@link #addExport}); the options' export name and description are unused. */
    public NbdServer(Options options) {
        this(options, new BufferPool());
    }

    /** A server whose connections take their buffers from {@code buffers} (tests give a small budget). */
    NbdServer(Options options, BufferPool buffers) {
        this.buffers = Objects.requireNonNull(buffers, "buffers");
        this.options = Objects.requireNonNull(options, "options");
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(options.workers(), options.workers(), 60, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "nbd-worker-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.handshakeTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "nbd-handshake-timer");
            t.setDaemon(true);
            return t;
        });
        AtomicInteger m = new AtomicInteger();
        this.refusers = new ThreadPoolExecutor(0, REFUSERS, 5, TimeUnit.SECONDS, new SynchronousQueue<>(), r -> {
            Thread t = new Thread(r, "nbd-refuser-" + m.incrementAndGet());
            t.setDaemon(true);
            return t;
        }, (r, pool) -> ((Refusal) r).conn.abort());
    }

    /** Threads answering the clients beyond the connection limit. */
    private static final int REFUSERS = 4;

    /** A connection beyond the limit, told why it cannot have an export. */
    private record Refusal(NbdConnection conn) implements Runnable {
        @Override
        public void run() {
            conn.run();
        }
    }

    Options options() {
        return options;
    }

    ExecutorService workers() {
        return workers;
    }

    boolean isStopping() {
        return stopping;
    }

    /**
     * The export a client's name selects: the one of that name, or for an empty name the default export; null
     * when there is none.
     */
    NbdExport find(String name) {
        Map<String, NbdExport> m = exports;
        NbdExport e = m.get(name);
        if (e == null && name.isEmpty()) {
            String d = defaultExport;
            e = d == null ? null : m.get(d);
        }
        return e;
    }

    /** The exports now, in the order they were added. */
    public List<NbdExport> exports() {
        return List.copyOf(exports.values());
    }

    /** The export named {@code name} exactly, or null. */
    public NbdExport export(String name) {
        return exports.get(name);
    }

    /**
     * Adds an export; clients can select it at once (also while the server runs).
     *
     * @throws IllegalArgumentException when an export of that name exists
     * @throws IllegalStateException    when the server is stopping or stopped
     */
    public synchronized NbdExport addExport(String name, String description, NbdBackend backend) {
        if (stopping) {
            throw new IllegalStateException("server is stopping");
        }
        if (exports.containsKey(name)) {
            throw new IllegalArgumentException("an export named '" + name + "' exists already");
        }
        NbdExport e = new NbdExport(name, description, backend, stats);
        Map<String, NbdExport> m = new LinkedHashMap<>(exports);
        m.put(name, e);
        exports = Collections.unmodifiableMap(m);
        return e;
    }

    /** Makes {@code name} the export that an empty export name selects (null: an empty name selects nothing). */
    public void setDefaultExport(String name) {
        defaultExport = name;
    }

    /** The export that an empty export name selects, or null. */
    public String defaultExport() {
        return defaultExport;
    }

    /**
     * Removes an export gracefully: no new client can select it; its connections stop reading requests, finish
     * those they read and close (one that does not read its replies within the grace time is cut); then the
     * backend is flushed and closed. Other exports keep serving. Returns false when there is no such export.
     */
    public boolean removeExport(String name) throws IOException {
        NbdExport e;
        synchronized (this) {
            e = exports.get(name);
            if (e == null) {
                return false;
            }
            Map<String, NbdExport> m = new LinkedHashMap<>(exports);
            m.remove(name);
            exports = Collections.unmodifiableMap(m);
        }
        finish(e.close());
        closeBackend(e.backend());
        return true;
    }

    /**
     * Binds and starts accepting. {@code listen} is an {@link InetSocketAddress} (port 0 picks a free port) or a
     * {@link UnixDomainSocketAddress} (the socket file must not exist). Returns the bound address.
     */
    public synchronized SocketAddress start(SocketAddress listen) throws IOException {
        if (listener != null || stopped) {
            throw new IllegalStateException("server already started");
        }
        ServerSocketChannel ch;
        if (listen instanceof UnixDomainSocketAddress u) {
            SocketPaths.prepareForBind(u.getPath(), "NBD socket");
            ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        } else {
            InetSocketAddress in = (InetSocketAddress) listen;
            if (in.isUnresolved()) {
                throw new IOException("cannot listen on " + in.getHostString() + ":" + in.getPort()
                        + ": the host name does not resolve");
            }
            // an IPv4 address binds IPv4 only: on a dual-stack JDK, 0.0.0.0 would otherwise take every IPv6
            // address as well
            ch = in.getAddress() instanceof Inet4Address
                    ? ServerSocketChannel.open(StandardProtocolFamily.INET) : ServerSocketChannel.open();
            ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        }
        try {
            ch.bind(listen, 128);
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot listen on " + listen + ": " + e.getMessage(), e);
        }
        listener = ch;
        boundAddress = ch.getLocalAddress();
        acceptThread = new Thread(this::acceptLoop, "nbd-accept");
        acceptThread.start();
        return boundAddress;
    }

    /** The address bound by {@link #start}. */
    public SocketAddress address() {
        return boundAddress;
    }

    /** The request counters of all connections (of all exports) since the server started. */
    public NbdStats stats() {
        return stats;
    }

    /** Number of connections currently open (handshaking or transmitting, on any export). */
    public int connectionCount() {
        return connections.size();
    }

    /** Connections refused because {@link Options#maxConnections()} were already open. */
    public long refusedConnections() {
        return refused.get();
    }

    /** Connections closed because their handshake took longer than {@link Options#handshakeTimeoutMillis()}. */
    public long handshakeTimeouts() {
        return timedOut.get();
    }

    /** Closes {@code conn} unless its handshake is over by the deadline. */
    private void armHandshakeTimer(NbdConnection conn) {
        try {
            handshakeTimer.schedule(() -> {
                if (!conn.negotiated) {
                    timedOut.incrementAndGet();
                    conn.abort();
                }
            }, options.handshakeTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            conn.abort(); // stopping
        }
    }

    private void refuse(SocketChannel c) {
        long n = refused.incrementAndGet();
        String why = "too many connections: this server serves at most " + options.maxConnections()
                + " at once (--max-connections)";
        long now = System.nanoTime();
        if (now - lastRefusalLog > TimeUnit.SECONDS.toNanos(10)) {
            lastRefusalLog = now;
            System.err.println("jdmcache: nbd: refused a connection: " + options.maxConnections()
                    + " connections are open (--max-connections); " + n + " refused so far");
        }
        NbdConnection conn = new NbdConnection(this, c, why);
        armHandshakeTimer(conn);
        refusers.execute(new Refusal(conn));
    }

    private void acceptLoop() {
        ServerSocketChannel l = listener;
        while (!stopping) {
            SocketChannel c;
            try {
                c = l.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (stopping || !l.isOpen()) {
                    return;
                }
                continue; // e.g. EMFILE: keep serving the connections we have
            }
            try {
                if (!(boundAddress instanceof UnixDomainSocketAddress)) {
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                }
            } catch (IOException e) {
                closeQuietly(c);
                continue;
            }
            if (connections.size() >= options.maxConnections()) {
                refuse(c);
                continue;
            }
            NbdConnection conn = new NbdConnection(this, c);
            armHandshakeTimer(conn);
            connections.add(conn);
            stats.accepted();
            if (stopping) { // raced with stop(): do not serve it
                connections.remove(conn);
                closeQuietly(c);
                return;
            }
            Thread t = new Thread(() -> {
                try {
                    conn.run();
                } finally {
                    connections.remove(conn);
                }
            }, "nbd-conn-" + connectionIds.incrementAndGet());
            conn.thread = t;
            t.start();
        }
    }

    /**
     * Graceful stop: stops accepting, lets every connection finish the requests it already received (no new
     * ones are read), flushes and closes every export's backend. Idempotent.
     */
    public void stop() throws IOException {
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
            stopping = true;
        }
        ServerSocketChannel l = listener;
        if (l != null) {
            l.close();
        }
        if (acceptThread != null) {
            joinUninterruptibly(acceptThread);
        }
        finish(new ArrayList<>(connections));
        workers.shutdown();
        handshakeTimer.shutdownNow();
        refusers.shutdownNow();
        try {
            workers.awaitTermination(1, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (boundAddress instanceof UnixDomainSocketAddress u) {
            Files.deleteIfExists(u.getPath());
        }
        Map<String, NbdExport> last;
        synchronized (this) {
            last = exports;
            exports = Map.of();
        }
        IOException failed = null;
        for (NbdExport e : last.values()) {
            e.close();
            try {
                closeBackend(e.backend());
            } catch (IOException ex) {
                if (failed == null) {
                    failed = ex;
                } else {
                    failed.addSuppressed(ex);
                }
            }
        }
        if (failed != null) {
            throw failed;
        }
    }

    /** Flushes (unless read-only) and closes a backend no connection uses any more. */
    private static void closeBackend(NbdBackend backend) throws IOException {
        try {
            if (!backend.isReadOnly()) {
                backend.flush();
            }
        } finally {
            backend.close();
        }
    }

    /**
     * Lets {@code open} finish: each stops reading, completes the requests it read and closes; one still busy
     * after the grace time (a client that stopped reading its replies) is cut off.
     */
    private static void finish(Collection<NbdConnection> open) {
        for (NbdConnection c : open) {
            c.stopReading();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(STOP_GRACE_SECONDS);
        for (NbdConnection c : open) {
            Thread t = c.thread;
            if (t == null) {
                continue;
            }
            long left = deadline - System.nanoTime();
            if (left > 0) {
                try {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (t.isAlive()) {
                c.abort(); // a client that stopped reading its replies: give up on it
            }
            joinUninterruptibly(t);
        }
    }

    @Override
    public void close() throws IOException {
        stop();
    }

    private static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing a socket that is already broken
        }
    }
}
