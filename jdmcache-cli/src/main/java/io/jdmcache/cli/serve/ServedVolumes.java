package io.jdmcache.cli.serve;

import io.jdmcache.cli.config.ConfigFileException;
import io.jdmcache.cli.config.ServeConfig;
import io.jdmcache.cli.config.ServeConfig.VolumeSpec;
import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.nbd.NbdExport;
import io.jdmcache.nbd.NbdServer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The volumes one {@code jdmcache serve} serves, each a cache engine behind an export of the one NBD server:
 * opened from a configuration file (a volume that cannot be opened is reported and left out; the others
 * serve) or given one by one; re-read from the file on SIGHUP (added volumes start, removed ones stop with
 * their metadata committed clean, changed ones are reported and keep running as they are); all stopped
 * together at the end. Every event is one line of the {@link EventLog}. The metrics of every volume served
 * come from one {@link ServeMetrics}.
 */
public final class ServedVolumes {
    /**
     * A volume being served.
     *
     * @param name       its name: the {@code volume} label of its metrics and what {@code --volume} selects
     * @param exportName its NBD export name (the name, for a volume of a configuration file)
     * @param spec       the file's entry it was opened from, or null (given on the command line)
     * @param cache      its cache engine
     * @param export     its NBD export
     * @param origin     its origin's state (a remote origin's connection, or always connected)
     * @param backend    the adapter between its export and its cache (where its requests are traced)
     */
    public record Volume(String name, String exportName, VolumeSpec spec, CacheDevice cache, NbdExport export,
            OriginState.Source origin, CacheBackend backend) {
    }

    private final NbdServer nbd;
    private final EventLog log;
    private final boolean named;
    private final ServeMetrics metrics;
    /** Served now, in the order they started; guarded by {@code this}. */
    private final Map<String, Volume> running = new LinkedHashMap<>();
    /** Volumes of the file not served, with the reason; guarded by {@code this}. */
    private final Map<String, String> leftOut = new LinkedHashMap<>();
    /** One change (a reload or the stop) at a time. */
    private final ReentrantLock changes = new ReentrantLock();
    private final AtomicBoolean stopFailed = new AtomicBoolean();
    private boolean stopping;
    /** The configuration file as last applied, or null (volumes given on the command line). */
    private ServeConfig config;

    /**
     * @param nbd   the server whose exports the volumes are
     * @param log   where the events go
     * @param named whether the volumes come from a configuration file (status then names each volume)
     * @param jvm   whether the metrics include the JVM's (for the HTTP endpoint)
     */
    public ServedVolumes(NbdServer nbd, EventLog log, boolean named, boolean jvm) {
        this.nbd = Objects.requireNonNull(nbd, "nbd");
        this.log = Objects.requireNonNull(log, "log");
        this.named = named;
        this.metrics = new ServeMetrics(this::sources, jvm);
    }

    public ServeMetrics metrics() {
        return metrics;
    }

    public NbdServer nbd() {
        return nbd;
    }

    public EventLog log() {
        return log;
    }

    /** Whether the volumes come from a configuration file (and status names them). */
    public boolean named() {
        return named;
    }

    /** The volumes served now. */
    public synchronized List<Volume> running() {
        return List.copyOf(running.values());
    }

    /** The volume named {@code name} if it is served, else null. */
    public synchronized Volume get(String name) {
        return running.get(name);
    }

    /** The file's volumes that are not served, with the reason. */
    public synchronized Map<String, String> leftOut() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(leftOut));
    }

    /** The reason {@code name} is not served, or null when the file does not name it or it is served. */
    public synchronized String whyLeftOut(String name) {
        return leftOut.get(name);
    }

    private synchronized List<ServeMetrics.Source> sources() {
        List<ServeMetrics.Source> s = new ArrayList<>(running.size());
        for (Volume v : running.values()) {
            s.add(new ServeMetrics.Source(v.name(), v.cache(), v.export().stats(), v.export()::connectionCount,
                    v.origin()));
        }
        return s;
    }

    // ------------------------------------------------------------------ starting

    /**
     * Serves an opened cache as export {@code exportName}. On failure (the export exists, the server is
     * stopping) the cache is closed and the exception thrown.
     */
    public Volume serve(String name, String exportName, String description, CacheDevice dev, boolean readOnly,
            VolumeSpec spec) throws IOException {
        return serve(name, exportName, description, dev, readOnly, spec, spec == null ? null : spec.trace());
    }

    /**
     * As {@link #serve(String, String, String, CacheDevice, boolean, VolumeSpec)}, recording every request to
     * {@code trace} from the first (null: no trace); a trace that cannot be written is refused before the export
     * is added (the cache is closed and the exception thrown).
     */
    public Volume serve(String name, String exportName, String description, CacheDevice dev, boolean readOnly,
            VolumeSpec spec, Path trace) throws IOException {
        CacheBackend backend = new CacheBackend(dev, readOnly, metrics.timer(name)).onClose(e -> closed(name, e))
                .onTraceStoppedByClose(t -> traceStopped(name, t));
        if (trace != null) {
            try {
                backend.startTrace(trace, name);
            } catch (IOException | RuntimeException e) {
                metrics.forget(name);
                dev.close();
                throw e;
            }
            log.event("volume %s: recording its requests to %s", name, trace);
        }
        NbdExport export;
        try {
            export = nbd.addExport(exportName, description, backend);
        } catch (IllegalArgumentException | IllegalStateException e) {
            backend.stopTrace();
            metrics.forget(name);
            dev.close();
            throw e;
        }
        Volume v = new Volume(name, exportName, spec, dev, export, RemoteOrigin.source(dev), backend);
        synchronized (this) {
            running.put(name, v);
            leftOut.remove(name);
        }
        String start = dev.startState().describe(); // after an unclean stop: what will be written back
        if (start != null) {
            log.event("volume %s: %s", name, start);
        }
        return v;
    }

    /** Opens and serves one volume of the file; when that fails, says why and leaves it out (returns null). */
    public Volume start(VolumeSpec spec) {
        long t0 = System.nanoTime();
        CacheDevice dev;
        try {
            RemoteOrigin.settingsFor(spec.config().originDevice(), spec.originSettings());
            dev = CacheDevice.open(spec.config());
        } catch (IOException | RuntimeException e) {
            leaveOut(spec.name(), messageOf(e));
            return null;
        }
        if (dev.metadataMode() == MetadataMode.FAIL) {
            dev.abandon();
            leaveOut(spec.name(), "its metadata is in fail mode");
            return null;
        }
        Volume v;
        boolean readOnly;
        try {
            readOnly = spec.readOnly() || RemoteOrigin.readOnlyExport(dev,
                    line -> log.event("volume %s: %s", spec.name(), line));
            v = serve(spec.name(), spec.name(), spec.description(), dev, readOnly, spec);
        } catch (IOException | RuntimeException e) {
            leaveOut(spec.name(), messageOf(e));
            return null;
        }
        log.event("volume %s: serving export '%s': %d MiB through %d cache blocks of %d KiB, %s, policy %s%s "
                        + "(opened in %d ms)", spec.name(), spec.name(), dev.size() >> 20, dev.cacheBlocks(),
                dev.blockBytes() >> 10, dev.mode().name().toLowerCase(Locale.ROOT), dev.config().policy(),
                readOnly || dev.isReadOnly() ? ", read-only" : "", (System.nanoTime() - t0) / 1_000_000);
        return v;
    }

    private void leaveOut(String name, String reason) {
        synchronized (this) {
            leftOut.put(name, reason);
        }
        log.event("volume %s: left out, not served: %s", name, reason);
    }

    /**
     * Serves every volume of {@code file} (already read); the ones that cannot be opened are reported and left
     * out. Returns how many serve.
     */
    public int startAll(ServeConfig file) {
        changes.lock();
        try {
            config = file;
            nbd.setDefaultExport(file.settings().defaultVolume());
            int n = 0;
            for (VolumeSpec spec : file.volumes().values()) {
                if (start(spec) != null) {
                    n++;
                }
            }
            return n;
        } finally {
            changes.unlock();
        }
    }

    // ------------------------------------------------------------------ tracing

    /** {@code trace start FILE}: starts recording {@code v}'s requests to {@code file}. */
    public void startTrace(Volume v, Path file) throws IOException {
        v.backend().startTrace(file, v.name());
        log.event("volume %s: recording its requests to %s", v.name(), file);
    }

    /** {@code trace stop}: stops recording {@code v}'s requests; returns what the trace holds, in one line. */
    public String stopTrace(Volume v) {
        TraceRecorder t = v.backend().stopTrace();
        if (t == null) {
            throw new IllegalStateException("no trace is being recorded for volume " + v.name());
        }
        return traceStopped(v.name(), t);
    }

    private String traceStopped(String name, TraceRecorder t) {
        String line = summary(t);
        log.event("volume %s: %s", name, line);
        return line;
    }

    /** What a stopped trace holds, in one line. */
    static String summary(TraceRecorder t) {
        long d = t.dropped();
        return "trace " + t.file() + " closed: " + t.written() + " requests written, " + d + " dropped"
                + (d > 0 ? " (the trace writer fell behind)" : "")
                + (t.failure() != null ? "; writing it failed: " + t.failure() : "");
    }

    // ------------------------------------------------------------------ stopping

    /** Stops one volume: its export goes, its connections finish, its metadata is committed clean. */
    public void stop(String name) {
        Volume v;
        synchronized (this) {
            v = running.remove(name);
        }
        if (v == null) {
            return;
        }
        try {
            nbd.removeExport(v.exportName());
        } catch (IOException e) {
            // the close listener said so
        }
        metrics.forget(name);
    }

    private void closed(String name, IOException failure) {
        if (failure == null) {
            log.event("volume %s: stopped; its metadata is committed with the clean-shutdown flag", name);
        } else {
            stopFailed.set(true);
            log.event("volume %s: stopping failed: %s", name, messageOf(failure));
        }
    }

    /**
     * Stops everything (after a reload in progress finishes): the NBD server stops accepting, every
     * connection finishes what it sent, every volume's metadata is committed clean. Returns false when a
     * volume failed to stop cleanly (each failure was logged).
     */
    public boolean stopAll() throws IOException {
        changes.lock();
        try {
            stopping = true;
            nbd.stop();
            synchronized (this) {
                running.clear();
            }
            return !stopFailed.get();
        } catch (IOException e) {
            return false; // each volume's failure was logged by its close listener
        } finally {
            changes.unlock();
        }
    }

    // ------------------------------------------------------------------ reloading

    /**
     * Reads the configuration file again and applies it: volumes no longer named stop (metadata committed
     * clean), volumes added start, as do volumes left out before (they may have been fixed); volumes whose
     * settings changed are reported and keep running as they are until serve restarts. The default export
     * follows the file; other server settings changed are reported (they take effect at the next start). A
     * file that does not read is reported and nothing changes.
     */
    public void reload(Path file) {
        changes.lock();
        try {
            if (stopping) {
                return;
            }
            ServeConfig next;
            try {
                next = ServeConfig.load(file);
            } catch (ConfigFileException e) {
                log.event("reload refused, nothing changed: %s", e.getMessage());
                return;
            }
            Map<String, VolumeSpec> want = next.volumes();
            List<String> added = new ArrayList<>();
            List<String> removed = new ArrayList<>();
            List<String> changed = new ArrayList<>();
            for (Volume v : running()) {
                if (!want.containsKey(v.name())) {
                    log.event("volume %s: no longer in %s; stopping it", v.name(), file);
                    stop(v.name());
                    removed.add(v.name());
                }
            }
            synchronized (this) {
                leftOut.keySet().removeIf(n -> !want.containsKey(n));
            }
            for (VolumeSpec spec : want.values()) {
                Volume v = get(spec.name());
                if (v == null) {
                    if (start(spec) != null) {
                        added.add(spec.name());
                    }
                } else if (v.spec() != null && !v.spec().sameAs(spec)) {
                    log.event("volume %s: changed in %s (%s); it keeps running as it is until serve restarts",
                            spec.name(), file, differences(v.spec(), spec));
                    changed.add(spec.name());
                }
            }
            ServeConfig.Settings was = config == null ? null : config.settings();
            ServeConfig.Settings now = next.settings();
            if (was != null) {
                List<String> later = new ArrayList<>();
                if (!Objects.equals(was.listen(), now.listen())) {
                    later.add("listen");
                }
                if (!Objects.equals(was.control(), now.control())) {
                    later.add("control");
                }
                if (!Objects.equals(was.metricsListen(), now.metricsListen())) {
                    later.add("metrics_listen");
                }
                if (!Objects.equals(was.busyPollMicros(), now.busyPollMicros())) {
                    later.add("busy_poll");
                }
                if (!later.isEmpty()) {
                    log.event("%s changed in %s; that takes effect when serve restarts", String.join(", ", later),
                            file);
                }
                if (!Objects.equals(was.defaultVolume(), now.defaultVolume())) {
                    log.event("default_volume is now %s", now.defaultVolume() == null ? "none (a client must name "
                            + "its export)" : "'" + now.defaultVolume() + "'");
                }
            }
            nbd.setDefaultExport(now.defaultVolume());
            config = next;
            List<String> serving = new ArrayList<>();
            for (Volume v : running()) {
                serving.add(v.name());
            }
            log.event("reloaded %s: %d volume%s served (%s); started %s, stopped %s, changed %s", file,
                    serving.size(), serving.size() == 1 ? "" : "s", String.join(", ", serving), list(added),
                    list(removed), list(changed));
        } finally {
            changes.unlock();
        }
    }

    private static String list(List<String> names) {
        return names.isEmpty() ? "none" : String.join(", ", names);
    }

    /** The keys of the file whose values differ between two entries of the same volume. */
    static String differences(VolumeSpec was, VolumeSpec now) {
        CacheConfig a = was.config();
        CacheConfig b = now.config();
        List<String> keys = new ArrayList<>();
        diff(keys, "description", was.description(), now.description());
        diff(keys, "metadata", a.metadataDevice(), b.metadataDevice());
        diff(keys, "cache", a.cacheDevice(), b.cacheDevice());
        diff(keys, "origin", a.originDevice(), b.originDevice());
        diff(keys, "block_size", a.blockSectors(), b.blockSectors());
        diff(keys, "mode", a.mode(), b.mode());
        diff(keys, "metadata_version", a.metadataVersion(), b.metadataVersion());
        diff(keys, "policy", a.policy(), b.policy());
        diff(keys, "policy_args", a.policyArgs(), b.policyArgs());
        diff(keys, "discard_passdown", a.discardPassdown(), b.discardPassdown());
        diff(keys, "read_only", was.readOnly(), now.readOnly());
        diff(keys, "trace", was.trace(), now.trace());
        diff(keys, "origin_connections", was.originSettings().connections(), now.originSettings().connections());
        diff(keys, "origin_timeout", was.originSettings().timeoutMillis(), now.originSettings().timeoutMillis());
        diff(keys, "origin_retry", was.originSettings().retryMillis(), now.originSettings().retryMillis());
        return keys.isEmpty() ? "no key" : String.join(", ", keys);
    }

    private static void diff(List<String> keys, String key, Object a, Object b) {
        if (!Objects.equals(a, b)) {
            keys.add(key);
        }
    }

    static String messageOf(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }
}
