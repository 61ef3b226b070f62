package io.jdmcache.engine.core;

import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * Failures of work nobody waits for (migrations, the timer's commits): each is counted in
 * {@link EngineCounters} (so the status and the metrics show it), logged as a warning on the
 * {@code io.jdmcache.engine} logger, and the last one is kept ({@link #last()}). A failure is recorded once
 * however many layers it passes through on its way up.
 */
public final class BackgroundFailures {
    private static final System.Logger LOG = System.getLogger("io.jdmcache.engine");

    private final String device;
    private final EngineCounters counters;
    private volatile IOException last;
    /** The failure this thread recorded last, so that a caller further up does not record it again. */
    private final ThreadLocal<Throwable> recordedHere = new ThreadLocal<>();

    public BackgroundFailures(String device, EngineCounters counters) {
        this.device = device;
        this.counters = counters;
    }

    /** {@code items} migrations (described by {@code what}) failed with {@code e}. */
    public void migrationFailed(String what, int items, Throwable e) {
        if (recorded(e)) {
            return;
        }
        counters.migrationsFailed(items);
        record(what, e);
    }

    /** A periodic commit (or the policy tick before it) failed. */
    public void commitFailed(Throwable e) {
        if (recorded(e)) {
            return;
        }
        counters.backgroundCommitFailed();
        record("the periodic commit", e);
    }

    /** Whether this thread recorded {@code e} (or the failure it wraps) already. */
    private boolean recorded(Throwable e) {
        Throwable r = recordedHere.get();
        return r != null && (r == e || r == e.getCause());
    }

    private void record(String what, Throwable e) {
        recordedHere.set(e);
        last = e instanceof IOException io ? io : new IOException(what + " failed: " + e, e);
        if (e instanceof IOException) {
            LOG.log(Level.WARNING, "{0}: {1} failed: {2}", device, what, e.getMessage());
        } else {
            LOG.log(Level.WARNING, device + ": " + what + " failed", e); // a bug: with its stack trace
        }
    }

    /** The last failure recorded, or null. */
    public IOException last() {
        return last;
    }
}
