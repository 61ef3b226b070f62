package io.jdmcache.nbd;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Request counters shared by connections (contention-free adders, one increment a request): a server's, over all
 * its exports, and each export's, which also count into the server's.
 */
public final class NbdStats {
    /** The commands by number, as the protocol numbers them; anything else counts as {@code other}. */
    static final String[] COMMANDS = {"read", "write", "disc", "flush", "trim", "cache", "write_zeroes",
        "block_status"};

    private final LongAdder[] requests = new LongAdder[COMMANDS.length + 1];
    private final LongAdder readBytes = new LongAdder();
    private final LongAdder writtenBytes = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder accepted = new LongAdder();
    /** Where the counts also go (an export's counters feed the server's), or null. */
    private final NbdStats parent;

    NbdStats() {
        this(null);
    }

    NbdStats(NbdStats parent) {
        this.parent = parent;
        for (int i = 0; i < requests.length; i++) {
            requests[i] = new LongAdder();
        }
    }

    void request(int type) {
        requests[type >= 0 && type < COMMANDS.length ? type : COMMANDS.length].increment();
        if (parent != null) {
            parent.request(type);
        }
    }

    void read(long bytes) {
        readBytes.add(bytes);
        if (parent != null) {
            parent.read(bytes);
        }
    }

    void written(long bytes) {
        writtenBytes.add(bytes);
        if (parent != null) {
            parent.written(bytes);
        }
    }

    void error() {
        errors.increment();
        if (parent != null) {
            parent.error();
        }
    }

    /** A connection accepted by the server. */
    void accepted() {
        accepted.increment();
    }

    /** A connection selected an export (counted by the export only: the server counted it when accepted). */
    void selected() {
        accepted.increment();
    }

    /** Requests received (with a good magic), by command name, {@code other} last. */
    public Map<String, Long> requests() {
        Map<String, Long> m = new LinkedHashMap<>();
        for (int i = 0; i < COMMANDS.length; i++) {
            m.put(COMMANDS[i], requests[i].sum());
        }
        m.put("other", requests[COMMANDS.length].sum());
        return m;
    }

    /** Bytes of the READ requests that passed validation. */
    public long readBytes() {
        return readBytes.sum();
    }

    /** Bytes of the WRITE requests that passed validation. */
    public long writtenBytes() {
        return writtenBytes.sum();
    }

    /** Requests answered with an error. */
    public long errors() {
        return errors.sum();
    }

    /** A server's: connections accepted since it started; an export's: connections that selected it. */
    public long connectionsAccepted() {
        return accepted.sum();
    }
}
