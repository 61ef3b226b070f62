package io.jdmcache.nbd;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/** A server's request counters, shared by its connections (contention-free adders, one increment a request). */
public final class NbdStats {
    /** The commands by number, as the protocol numbers them; anything else counts as {@code other}. */
    static final String[] COMMANDS = {"read", "write", "disc", "flush", "trim", "cache", "write_zeroes",
        "block_status"};

    private final LongAdder[] requests = new LongAdder[COMMANDS.length + 1];
    private final LongAdder readBytes = new LongAdder();
    private final LongAdder writtenBytes = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder accepted = new LongAdder();

    NbdStats() {
        for (int i = 0; i < requests.length; i++) {
            requests[i] = new LongAdder();
        }
    }

    void request(int type) {
        requests[type >= 0 && type < COMMANDS.length ? type : COMMANDS.length].increment();
    }

    void read(long bytes) {
        readBytes.add(bytes);
    }

    void written(long bytes) {
        writtenBytes.add(bytes);
    }

    void error() {
        errors.increment();
    }

    void accepted() {
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

    /** Connections accepted since the server started. */
    public long connectionsAccepted() {
        return accepted.sum();
    }
}
