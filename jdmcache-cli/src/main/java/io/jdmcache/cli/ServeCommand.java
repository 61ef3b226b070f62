package io.jdmcache.cli;

import io.jdmcache.cli.config.Addresses;
import io.jdmcache.cli.config.ConfigFileException;
import io.jdmcache.cli.config.ServeConfig;
import io.jdmcache.cli.serve.ControlServer;
import io.jdmcache.cli.serve.RemoteOrigin;
import io.jdmcache.cli.serve.EventLog;
import io.jdmcache.cli.serve.Metrics;
import io.jdmcache.cli.serve.ServedVolumes;
import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.nbd.NbdServer;
import io.jdmcache.nbd.SocketPaths;
import io.jdmcache.tools.run.MetadataSizeTool;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.math.BigInteger;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code jdmcache serve}: the cache engine over an NBD export (or, with {@code --config FILE}, every volume of
 * the file, each its own export, the file re-read on SIGHUP), with a local control socket for
 * {@code jdmcache status}, {@code metrics} and {@code message}. Stops cleanly (in-flight requests finished,
 * metadata committed with the clean-shutdown flag) on SIGTERM or SIGINT.
 */
@Command(name = "serve", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Serve a cached volume over NBD, or with --config every volume of a configuration file.",
                "With no devices: an embedded default under --data-dir (origin 1 GiB, cache 128 MiB, metadata "
                        + "sized by metadata-size, sparse files made on the first run and reused after)."})
final class ServeCommand implements Callable<Integer> {
    static final long DEFAULT_ORIGIN = 1L << 30;
    static final long DEFAULT_CACHE = 128L << 20;
    static final long DEFAULT_BLOCK_SECTORS = 128;

    @ParentCommand
    Jdmcache root;

    @Option(names = "--table", paramLabel = "LINE", description = "a dm-cache table line: META CACHE ORIGIN "
            + "BLOCKSIZE #FEATURES [FEATURE...] POLICY #ARGS [KEY VALUE...] (a leading '0 SECTORS cache' is accepted)")
    String table;

    @Option(names = "--metadata", paramLabel = "DEV", description = "metadata device or file")
    Path metadata;

    @Option(names = "--cache", paramLabel = "DEV", description = "cache (fast) device or file")
    Path cache;

    @Option(names = "--origin", paramLabel = "DEV|URI", description = "origin (slow) device or file, or a remote "
            + "NBD export: nbd://HOST[:PORT][/EXPORT] or nbd+unix:///EXPORT?socket=PATH")
    String origin;

    @Option(names = "--origin-connections", paramLabel = "N", defaultValue = "4",
            description = "NBD connections to a remote origin, when its server allows several (multi-conn; "
                    + "default ${DEFAULT-VALUE})")
    int originConnections;

    @Option(names = "--origin-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "how long a request waits for a remote origin (its answer, or its connection back) before "
                    + "it fails with EIO; an origin away longer is 'failed' until it is back (0 = wait for ever; "
                    + "default ${DEFAULT-VALUE})")
    double originTimeout;

    @Option(names = "--origin-retry", paramLabel = "SECONDS", defaultValue = "5",
            description = "the longest wait between reconnection attempts to a remote origin (from 0.1 s, "
                    + "doubling; default ${DEFAULT-VALUE})")
    double originRetry;

    @Option(names = "--block-size", paramLabel = "SECTORS", defaultValue = "128",
            description = "cache block size in sectors (64..2097152, a multiple of 64; default ${DEFAULT-VALUE})")
    long blockSize;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = "writeback",
            description = "writeback, writethrough or passthrough (default ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--metadata-version", paramLabel = "1|2", defaultValue = "2",
            description = "metadata format for a new cache (default ${DEFAULT-VALUE}); an existing one keeps its own")
    int metadataVersion;

    @Option(names = "--policy", paramLabel = "NAME", defaultValue = "smq",
            description = "smq (also mq, default), cleaner or wtlfu (default ${DEFAULT-VALUE})")
    String policy;

    @Option(names = "--policy-arg", paramLabel = "KEY=VALUE", description = "a policy or core argument, e.g. "
            + "migration_threshold=4096 (repeatable)")
    List<String> policyArgs = new ArrayList<>();

    @Option(names = "--no-discard-passdown", description = "do not pass discards down to the origin")
    boolean noDiscardPassdown;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "jdmcache-data",
            description = "where the embedded default keeps its files (default ./${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--listen", paramLabel = "HOST:PORT|unix:PATH", defaultValue = "127.0.0.1:10809",
            description = "where to accept NBD clients (default ${DEFAULT-VALUE})")
    String listen;

    @Option(names = "--export-name", paramLabel = "NAME", defaultValue = "",
            description = "the export's name (default: the empty name, which every client asks for)")
    String exportName;

    @Option(names = "--read-only", description = "refuse writes, trims and write-zeroes")
    boolean readOnly;

    @Option(names = "--busy-poll", paramLabel = "USEC", defaultValue = "50",
            description = "before a connection's reader sleeps waiting for the next request, poll the socket for "
                    + "up to USEC microseconds (0 = never; default ${DEFAULT-VALUE}): faster small requests, "
                    + "at the cost of that much CPU each time a client pauses")
    int busyPollMicros;

    @Option(names = "--handshake-timeout", paramLabel = "SECONDS", defaultValue = "10",
            description = "disconnect a client that has not finished the NBD handshake this long after connecting "
                    + "(default ${DEFAULT-VALUE})")
    double handshakeTimeoutSeconds;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "128",
            description = "serve at most N NBD connections at once; a client beyond them is told why it is "
                    + "refused (default ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--control", paramLabel = "PATH", description = "the control socket for status and message "
            + "(default: " + Control.DEFAULT_HINT + ")")
    Path control;

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT", description = "serve the metrics of every "
            + "volume (and the JVM's) over HTTP at /metrics, in the Prometheus text format; a bare PORT listens on "
            + "the loopback address (default: no HTTP endpoint; with --config, the file's metrics_listen)")
    String metricsListen;

    @Option(names = "--trace", paramLabel = "FILE", description = "record every NBD request (time, operation, "
            + "offset, length) to FILE, created or truncated, in jdmcache's binary trace format, which 'jdmcache "
            + "sim' reads; buffered off the I/O path (a request the writer cannot keep up with is left out and "
            + "counted in status --human). The messages 'trace start FILE' and 'trace stop' do the same while "
            + "serving; with --config, a volume's trace: key")
    Path trace;

    @Option(names = "--config", paramLabel = "FILE", description = "serve every volume of this configuration "
            + "file (YAML, see dist/jdmcache.yaml), each an NBD export named after it; SIGHUP re-reads it. "
            + "--listen, --busy-poll and --control override the file's settings")
    Path configFile;

    @Spec
    CommandSpec spec;

    /** The options that describe the one volume of a command line, which a configuration file replaces. */
    private static final List<String> SINGLE_VOLUME_OPTIONS = List.of("--table", "--metadata", "--cache", "--origin",
            "--block-size", "--mode", "--metadata-version", "--policy", "--policy-arg", "--no-discard-passdown",
            "--data-dir", "--export-name", "--read-only");

    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    @Override
    public Integer call() throws Exception {
        if (busyPollMicros < 0 || busyPollMicros > 1_000_000) {
            root.err.println("serve: --busy-poll must be 0 to 1000000 microseconds, got " + busyPollMicros);
            return 1;
        }
        if (!(handshakeTimeoutSeconds >= 0.001 && handshakeTimeoutSeconds <= 3600)) {
            root.err.println("serve: --handshake-timeout must be 0.001 to 3600 seconds, got "
                    + handshakeTimeoutSeconds);
            return 1;
        }
        if (maxConnections < 1 || maxConnections > 65536) {
            root.err.println("serve: --max-connections must be 1 to 65536, got " + maxConnections);
            return 1;
        }
        try {
            RemoteOrigin.configure(originConnections, originTimeout, originRetry, root.err);
        } catch (IllegalArgumentException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }
        if (configFile != null) {
            return serveConfig();
        }
        EventLog log = EventLog.forProcess(root.err);
        CacheConfig config;
        boolean embedded = table == null && metadata == null && cache == null && origin == null;
        try {
            config = embedded ? embeddedDefault(log) : config();
        } catch (IllegalArgumentException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }
        SocketAddress address;
        try {
            address = parseListen(listen);
        } catch (IllegalArgumentException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }
        Path controlPath = control != null ? control : Control.defaultPath(embedded ? dataDir : null);
        InetSocketAddress metricsAt;
        try {
            metricsAt = metricsAddress(metricsListen, "--metrics-listen");
            checkSocketPaths(controlPath, address);
        } catch (IOException | IllegalArgumentException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }

        long t0 = System.nanoTime();
        log.event("opening the cache (%s)", config.toTableLine());
        CacheDevice dev;
        try {
            dev = CacheDevice.open(config);
        } catch (IOException | RuntimeException e) {
            root.err.println("serve: " + Jdmcache.messageOf(e));
            return 1;
        }
        NbdServer server = new NbdServer(nbdOptions(busyPollMicros));
        ServedVolumes volumes = new ServedVolumes(server, log, false, true);
        boolean exportReadOnly = readOnly || RemoteOrigin.readOnlyExport(dev, root.err);
        try {
            volumes.serve(Metrics.SINGLE_VOLUME, exportName,
                    "jdmcache " + config.mode().name().toLowerCase(Locale.ROOT) + " cache", dev, exportReadOnly, null,
                    trace);
        } catch (IOException e) {
            root.err.println("serve: " + Jdmcache.messageOf(e));
            return 1;
        }
        server.setDefaultExport(exportName);
        Running r = listen(volumes, controlPath, address, listen, metricsAt);
        if (r == null) {
            return 1;
        }
        printHowToConnect(dev, r, controlPath, (System.nanoTime() - t0) / 1_000_000);
        DrainProgress.startIfCleaning(dev, root.err);
        r.stopped().await();
        return 0;
    }

    /** The NBD server's settings from the options (the busy-poll time from them or the file). */
    private NbdServer.Options nbdOptions(int busyPoll) {
        return NbdServer.Options.defaults().withBusyPollMicros(busyPoll)
                .withHandshakeTimeoutMillis((int) Math.max(1, Math.round(handshakeTimeoutSeconds * 1000)))
                .withMaxConnections(maxConnections);
    }

    /**
     * A server that listens, and the latch its stop counts down.
     *
     * @param metricsUrl where the HTTP metrics endpoint answers, or null for none
     */
    private record Running(SocketAddress bound, CountDownLatch stopped, String metricsUrl) {
    }

    /** The HTTP metrics address ({@code HOST:PORT} or a loopback {@code PORT}), or null when none is asked for. */
    private static InetSocketAddress metricsAddress(String text, String what) {
        if (text == null) {
            return null;
        }
        InetSocketAddress a = Addresses.tcp(text, what);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException(what + " " + text + ": the host name " + a.getHostString()
                    + " does not resolve");
        }
        return a;
    }

    /**
     * Opens the control socket, starts the NBD server and installs the clean stop on SIGTERM/SIGINT; on a
     * failure says why, stops the volumes and returns null.
     */
    private Running listen(ServedVolumes volumes, Path controlPath, SocketAddress address, String listenText,
            InetSocketAddress metricsAt) throws IOException {
        ControlServer ctl;
        try {
            ctl = ControlServer.start(controlPath, volumes);
        } catch (IOException e) {
            root.err.println("serve: " + e.getMessage());
            volumes.stopAll();
            return null;
        }
        SocketAddress bound;
        try {
            bound = volumes.nbd().start(address);
        } catch (IOException e) {
            root.err.println("serve: cannot listen on " + listenText + ": " + e.getMessage());
            ctl.close();
            volumes.stopAll();
            return null;
        }
        HTTPServer http = null;
        String metricsUrl = null;
        if (metricsAt != null) {
            try {
                http = volumes.metrics().serveHttp(metricsAt);
            } catch (IOException | RuntimeException e) {
                root.err.println("serve: cannot serve the metrics on " + metricsAt.getHostString() + ":"
                        + metricsAt.getPort() + ": " + Jdmcache.messageOf(e));
                ctl.close();
                volumes.stopAll();
                return null;
            }
            String host = hintHost(metricsAt.getAddress());
            metricsUrl = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + http.getPort() + "/metrics";
            volumes.log().event("metrics for Prometheus at %s", metricsUrl);
        }
        HTTPServer httpServer = http;
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            int rc = 0;
            try {
                if (httpServer != null) {
                    httpServer.close();
                }
                ctl.close();
                if (!volumes.stopAll()) {
                    rc = 1;
                }
            } catch (IOException | RuntimeException e) {
                volumes.log().event("stopping failed: %s", Jdmcache.messageOf(e));
                rc = 1;
            } finally {
                stopped.countDown();
            }
            // a stop asked for by SIGTERM or SIGINT that went well is a success, not "killed by a signal"
            root.out.flush();
            root.err.flush();
            Runtime.getRuntime().halt(rc);
        }, "jdmcache-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        warnIfReachable(bound);
        return new Running(bound, stopped, metricsUrl);
    }

    /**
     * Before any device is opened: the control socket and a Unix NBD socket must be two different paths where
     * nothing but a stale socket is (a stale one is removed; a file, even a device of this cache, is refused).
     */
    private static void checkSocketPaths(Path controlPath, SocketAddress listen) throws IOException {
        if (listen instanceof UnixDomainSocketAddress u) {
            if (u.getPath().toAbsolutePath().normalize().equals(controlPath.toAbsolutePath().normalize())) {
                throw new IOException("--listen unix:" + u.getPath() + " and the control socket " + controlPath
                        + " are the same path; give --control another one");
            }
            SocketPaths.prepareForBind(u.getPath(), "NBD socket");
        }
        SocketPaths.prepareForBind(controlPath, "control socket");
    }

    /** {@code serve --config FILE}: every volume of the file, re-read on SIGHUP. */
    private int serveConfig() throws Exception {
        if (trace != null) {
            root.err.println("serve: --trace records one volume of the command line; with --config give a volume "
                    + "its trace: key in " + configFile + " (or send it 'trace start FILE')");
            return 1;
        }
        for (String o : SINGLE_VOLUME_OPTIONS) {
            if (given(o)) {
                root.err.println("serve: " + o + " describes a volume on the command line; with --config the file "
                        + configFile + " names the volumes");
                return 1;
            }
        }
        ServeConfig file;
        try {
            file = ServeConfig.load(configFile);
        } catch (ConfigFileException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }
        ServeConfig.Settings set = file.settings();
        String listenText = given("--listen") || set.listen() == null ? listen : set.listen();
        int busy = given("--busy-poll") || set.busyPollMicros() == null ? busyPollMicros : set.busyPollMicros();
        Path controlPath = control != null ? control : set.control() != null ? set.control()
                : Control.defaultPath(null);
        SocketAddress address;
        InetSocketAddress metricsAt;
        try {
            metricsAt = metricsListen != null ? metricsAddress(metricsListen, "--metrics-listen")
                    : metricsAddress(set.metricsListen(), configFile + ": metrics_listen");
            address = Addresses.parse(listenText, given("--listen") ? "--listen" : configFile + ": listen");
            if (address instanceof InetSocketAddress in && in.isUnresolved()) {
                throw new IllegalArgumentException((given("--listen") ? "--listen " : configFile + ": listen ")
                        + listenText + ": the host name " + in.getHostString() + " does not resolve");
            }
        } catch (IllegalArgumentException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }
        try {
            checkSocketPaths(controlPath, address);
        } catch (IOException e) {
            root.err.println("serve: " + e.getMessage());
            return 1;
        }
        long t0 = System.nanoTime();
        EventLog log = EventLog.forProcess(root.err);
        NbdServer server = new NbdServer(nbdOptions(busy));
        ServedVolumes volumes = new ServedVolumes(server, log, true, true);
        log.event("reading %s: %d volume%s (%s)", configFile, file.volumes().size(),
                file.volumes().size() == 1 ? "" : "s", String.join(", ", file.volumes().keySet()));
        if (volumes.startAll(file) == 0) {
            root.err.println("serve: no volume of " + configFile + " could be opened");
            volumes.stopAll();
            return 1;
        }
        Running r = listen(volumes, controlPath, address, listenText, metricsAt);
        if (r == null) {
            return 1;
        }
        ExecutorService reloads = Executors.newSingleThreadExecutor(t -> {
            Thread th = new Thread(t, "jdmcache-reload");
            th.setDaemon(true);
            return th;
        });
        Path reloadFrom = configFile;
        Signal.handle(new Signal("HUP"), sig -> reloads.execute(() -> {
            log.event("SIGHUP: reading %s again", reloadFrom);
            volumes.reload(reloadFrom);
        }));
        printHowToConnect(volumes, r, controlPath, (System.nanoTime() - t0) / 1_000_000);
        r.stopped().await();
        return 0;
    }

    private void printHowToConnect(ServedVolumes volumes, Running r, Path controlPath, long openMs) {
        String base = uriBase(r.bound());
        PrintLines p = new PrintLines(root.out);
        List<ServedVolumes.Volume> vs = volumes.running();
        p.line("jdmcache: serving %s with %d volume%s from %s, ready in %d ms", base.replace("{}", ""), vs.size(),
                vs.size() == 1 ? "" : "s", configFile, openMs);
        for (ServedVolumes.Volume v : vs) {
            CacheDevice dev = v.cache();
            p.line("  %s: %s  (%d MiB through %d cache blocks of %d KiB, %s, policy %s)", v.name(),
                    base.replace("{}", v.exportName()), dev.size() >> 20, dev.cacheBlocks(), dev.blockBytes() >> 10,
                    dev.mode().name().toLowerCase(Locale.ROOT), dev.config().policy());
        }
        for (Map.Entry<String, String> e : volumes.leftOut().entrySet()) {
            p.line("  %s: not served: %s", e.getKey(), e.getValue());
        }
        String dflt = volumes.nbd().defaultExport();
        p.line("  nbdinfo --list '%s'%s", base.replace("{}", ""), dflt == null ? ""
                : "   (the empty export name selects " + dflt + ")");
        p.line("  jdmcache status%s   (all volumes; --volume NAME for one)",
                controlPath.equals(Control.find(null)) ? "" : " --control " + controlPath);
        if (r.metricsUrl() != null) {
            p.line("  curl %s   (Prometheus metrics of every volume)", r.metricsUrl());
        }
        p.line("Reload %s with SIGHUP (kill -HUP %d); stop with Ctrl-C or SIGTERM (in-flight requests finish, every "
                + "volume's metadata is committed clean).", configFile, ProcessHandle.current().pid());
    }

    /** The NBD URI of the server at {@code bound}, with {} where an export name goes. */
    private static String uriBase(SocketAddress bound) {
        if (bound instanceof UnixDomainSocketAddress u) {
            return "nbd+unix:///{}?socket=" + u.getPath();
        }
        InetSocketAddress in = (InetSocketAddress) bound;
        String host = hintHost(in.getAddress());
        return "nbd://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + in.getPort() + "/{}";
    }

    private void printHowToConnect(CacheDevice dev, Running r, Path controlPath, long openMs) {
        SocketAddress bound = r.bound();
        String uri;
        String nbdClient;
        if (bound instanceof UnixDomainSocketAddress u) {
            uri = "nbd+unix:///" + exportName + "?socket=" + u.getPath();
            nbdClient = "nbd-client -unix " + u.getPath() + " /dev/nbd0";
        } else {
            InetSocketAddress in = (InetSocketAddress) bound;
            String host = hintHost(in.getAddress());
            uri = "nbd://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + in.getPort() + "/" + exportName;
            nbdClient = "nbd-client " + host + " " + in.getPort() + (exportName.isEmpty() ? "" : " -N " + exportName)
                    + " /dev/nbd0";
        }
        PrintLines p = new PrintLines(root.out);
        p.line("jdmcache: serving %s (%d MiB) through %d cache blocks of %d KiB, %s, policy %s, ready in %d ms",
                uri, dev.size() >> 20, dev.cacheBlocks(), dev.blockBytes() >> 10,
                dev.mode().name().toLowerCase(Locale.ROOT), dev.config().policy(), openMs);
        p.line("  nbdinfo '%s'", uri);
        p.line("  qemu-img info '%s'", uri);
        p.line("  %s", nbdClient);
        p.line("  jdmcache status%s   (control socket %s)",
                controlPath.equals(Control.find(null)) ? "" : " --control " + controlPath, controlPath);
        if (r.metricsUrl() != null) {
            p.line("  curl %s   (Prometheus metrics)", r.metricsUrl());
        }
        p.line("Stop with Ctrl-C or SIGTERM: in-flight requests finish and the metadata is committed clean.");
    }

    /**
     * A non-loopback listener is reachable from the network, and NBD has neither TLS nor authentication here:
     * anybody who can reach the port can read and overwrite the volume.
     */
    private void warnIfReachable(SocketAddress bound) {
        if (bound instanceof InetSocketAddress in && !in.getAddress().isLoopbackAddress()) {
            root.err.println("jdmcache: warning: the export listens on " + hintHost(in.getAddress()) + " port "
                    + in.getPort() + (in.getAddress().isAnyLocalAddress() ? " (every address of this machine)" : "")
                    + ": anybody who can reach it from the network can read and overwrite the volume "
                    + "(no TLS, no authentication); use --listen 127.0.0.1:PORT or unix:PATH to keep it local");
        }
    }

    /** The host to put in a connection hint: a wildcard becomes this machine's name, IPv6 is compressed. */
    static String hintHost(InetAddress a) {
        if (a.isAnyLocalAddress()) {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                return a instanceof Inet6Address ? "::1" : "127.0.0.1";
            }
        }
        return a instanceof Inet6Address ? compressV6(a.getHostAddress()) : a.getHostAddress();
    }

    /** RFC 5952 form of a full IPv6 address: the longest run of two or more zero groups becomes "::". */
    static String compressV6(String full) {
        int pct = full.indexOf('%');
        String scope = pct >= 0 ? full.substring(pct) : "";
        String[] g = (pct >= 0 ? full.substring(0, pct) : full).split(":");
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < g.length; ) {
            if (Integer.parseInt(g[i], 16) != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < g.length && Integer.parseInt(g[j], 16) == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < g.length; i++) {
            if (i == bestStart) {
                b.append("::");
                i += bestLen - 1;
                continue;
            }
            if (b.length() > 0 && b.charAt(b.length() - 1) != ':') {
                b.append(':');
            }
            b.append(Integer.toHexString(Integer.parseInt(g[i], 16)));
        }
        return b + scope;
    }

    /** Prints formatted lines and flushes (the first line is what scripts wait for). */
    private record PrintLines(java.io.PrintStream out) {
        void line(String fmt, Object... args) {
            out.println(String.format(Locale.ROOT, fmt, args));
            out.flush();
        }
    }

    CacheConfig config() {
        if (table != null) {
            if (metadata != null || cache != null || origin != null) {
                throw new IllegalArgumentException("give either --table or --metadata/--cache/--origin, not both");
            }
            return CacheConfig.parse(table);
        }
        if (metadata == null || cache == null || origin == null) {
            throw new IllegalArgumentException("--metadata, --cache and --origin go together (or use --table, "
                    + "or none of them for the embedded default)");
        }
        return explicitConfig(metadata, cache, origin);
    }

    private CacheConfig explicitConfig(Path md, Path cd, String od) {
        CacheMode m;
        try {
            m = CacheMode.valueOf(mode.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--mode " + mode + ": writeback, writethrough or passthrough");
        }
        List<String> args = new ArrayList<>();
        for (String kv : policyArgs) {
            int eq = kv.indexOf('=');
            if (eq <= 0 || eq == kv.length() - 1) {
                throw new IllegalArgumentException("--policy-arg " + kv + ": KEY=VALUE expected");
            }
            args.add(kv.substring(0, eq));
            args.add(kv.substring(eq + 1));
        }
        return CacheConfig.of(md.toString(), cd.toString(), od, blockSize, m)
                .withMetadataVersion(metadataVersion).withPolicy(policy, args).withDiscardPassdown(!noDiscardPassdown);
    }

    /** Creates (first run) or reuses the embedded default's sparse files. */
    private CacheConfig embeddedDefault(EventLog log) throws IOException {
        Files.createDirectories(dataDir);
        Path o = dataDir.resolve("origin.img");
        Path c = dataDir.resolve("cache.img");
        Path m = dataDir.resolve("metadata.img");
        long sectors = MetadataSizeTool.sectors(BigInteger.valueOf(DEFAULT_CACHE / (blockSize * 512)), 4).longValue();
        long mdBytes = ((sectors * 512 + (1 << 20) - 1) >> 20) << 20;
        boolean created = sparse(o, DEFAULT_ORIGIN) | sparse(c, DEFAULT_CACHE) | sparse(m, mdBytes);
        if (created) {
            log.event("created the embedded default in %s (origin 1 GiB, cache 128 MiB, metadata %d MiB; sparse files)",
                    dataDir.toAbsolutePath(), mdBytes >> 20);
        }
        return explicitConfig(m, c, o.toString());
    }

    private static boolean sparse(Path p, long bytes) throws IOException {
        if (Files.exists(p)) {
            return false;
        }
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return true;
    }

    /** {@code HOST:PORT}, {@code [V6]:PORT}, {@code PORT}, or {@code unix:PATH}. */
    static SocketAddress parseListen(String s) {
        if (s.startsWith("unix:")) {
            if (s.length() == 5) {
                throw new IllegalArgumentException("--listen unix:PATH needs a path");
            }
            return UnixDomainSocketAddress.of(s.substring(5));
        }
        String host = "127.0.0.1";
        String port = s;
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen " + s + ": HOST:PORT or unix:PATH expected");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException("--listen " + s + ": port " + p + " is out of range");
        }
        InetSocketAddress a = new InetSocketAddress(host, p);
        if (a.isUnresolved()) {
            throw new IllegalArgumentException("--listen " + s + ": the host name " + host + " does not resolve");
        }
        return a;
    }
}
