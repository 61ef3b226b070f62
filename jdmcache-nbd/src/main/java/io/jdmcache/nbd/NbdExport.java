package io.jdmcache.nbd;

import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One export of an {@link NbdServer}: a name that clients select it by, a description (NBD_OPT_LIST and
 * NBD_INFO_DESCRIPTION), the backend that serves it, and its own counters and connections.
 */
public final class NbdExport {
    private final String name;
    private final String description;
    private final NbdBackend backend;
    private final NbdStats stats;
    /** Connections that selected this export (GO or EXPORT_NAME) and are still open. */
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    /** Set once removal began: no connection may select the export after that. */
    private boolean closing;

    NbdExport(String name, String description, NbdBackend backend, NbdStats serverStats) {
        this.name = Objects.requireNonNull(name, "name");
        this.description = Objects.requireNonNull(description, "description");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.stats = new NbdStats(serverStats);
    }

    public String name() {
        return name;
    }

    public String description() {
        return description;
    }

    public NbdBackend backend() {
        return backend;
    }

    /**
     * This export's counters: requests, bytes and errors of its connections; {@code connectionsAccepted} counts
     * the connections that selected it.
     */
    public NbdStats stats() {
        return stats;
    }

    /** Connections transmitting on this export now. */
    public int connectionCount() {
        return connections.size();
    }

    /** Registers {@code c} as a user of this export; false once the export is being removed. */
    synchronized boolean attach(NbdConnection c) {
        if (closing) {
            return false;
        }
        connections.add(c);
        stats.selected();
        return true;
    }

    void detach(NbdConnection c) {
        connections.remove(c);
    }

    /** Refuses further connections and returns those attached now. */
    synchronized Set<NbdConnection> close() {
        closing = true;
        return Set.copyOf(connections);
    }

    @Override
    public String toString() {
        return "export '" + name + "'";
    }
}
