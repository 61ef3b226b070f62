package io.jdmcache.engine.control;

import io.jdmcache.engine.CacheMode;
import io.jdmcache.engine.ConfigException;
import io.jdmcache.engine.migration.MigrationWorkers;
import io.jdmcache.engine.migration.Migrator;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.PolicyConfigException;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Target messages (the kernel's {@code cache_message}): each is parsed into a {@link TargetMessage}, refused
 * with a {@link ConfigException} naming the argument at fault, and only then acted on.
 */
public final class TargetMessages {
    private final CacheMode mode;
    private final int cacheBlocks;
    private final CacheMetadata md;
    private final CachePolicy policy;
    private final MigrationWorkers workers;
    private final Migrator migrator;

    public TargetMessages(CacheMode mode, int cacheBlocks, CacheMetadata md, CachePolicy policy,
                          MigrationWorkers workers, Migrator migrator) {
        this.mode = mode;
        this.cacheBlocks = cacheBlocks;
        this.md = md;
        this.policy = policy;
        this.workers = workers;
        this.migrator = migrator;
    }

    /** Parses and carries out one message. */
    public void handle(String... argv) throws IOException {
        if (argv.length == 0) {
            throw new ConfigException("Invalid message: empty");
        }
        if (md.mode() != MetadataMode.READ_WRITE) {
            throw new ConfigException("unable to service cache target messages in " + md.mode().status()
                    + " mode");
        }
        apply(parse(argv));
    }

    /** Parses a message (not empty) for a cache in {@code mode} with {@code cacheBlocks} blocks. */
    public static TargetMessage parse(String[] argv, CacheMode mode, int cacheBlocks) {
        if (argv[0].equals("invalidate_cblocks")) {
            if (mode != CacheMode.PASSTHROUGH) {
                throw new ConfigException("invalidate_cblocks: the cache has to be in passthrough mode for"
                        + " invalidation (it is in " + mode.word() + " mode)");
            }
            if (argv.length == 1) {
                throw new ConfigException("invalidate_cblocks: no cache block ranges given");
            }
            List<TargetMessage.Range> ranges = new ArrayList<>();
            for (int i = 1; i < argv.length; i++) {
                ranges.add(parseRange(argv[i], cacheBlocks));
            }
            return new TargetMessage.InvalidateCblocks(ranges);
        }
        if (argv.length != 2) {
            throw new ConfigException("Invalid message '" + String.join(" ", argv) + "': expected <key> <value>"
                    + " or invalidate_cblocks <ranges>");
        }
        if (argv[0].equals("migration_threshold")) {
            return new TargetMessage.SetThreshold(parseThreshold(argv[1]));
        }
        return new TargetMessage.SetTunable(argv[0], argv[1]);
    }

    private TargetMessage parse(String[] argv) {
        return parse(argv, mode, cacheBlocks);
    }

    private void apply(TargetMessage m) throws IOException {
        if (m instanceof TargetMessage.SetThreshold t) {
            workers.setThreshold(t.sectors());
        } else if (m instanceof TargetMessage.SetTunable t) {
            try {
                policy.setConfigValue(t.key(), t.value());
            } catch (PolicyConfigException e) {
                throw new ConfigException(e.getMessage());
            }
        } else if (m instanceof TargetMessage.InvalidateCblocks inv) {
            for (TargetMessage.Range r : inv.ranges()) {
                for (long c = r.begin(); c < r.end(); c++) {
                    migrator.invalidate((int) c);
                }
            }
        }
    }

    /** A {@code migration_threshold} value: a non-negative number of sectors. */
    public static long parseThreshold(String v) {
        try {
            long t = Long.parseLong(v);
            if (t < 0) {
                throw new NumberFormatException();
            }
            return t;
        } catch (NumberFormatException e) {
            throw new ConfigException("Invalid migration_threshold '" + v + "': not a number of sectors");
        }
    }

    private static TargetMessage.Range parseRange(String r, int cacheBlocks) {
        long b;
        long e;
        try {
            int dash = r.indexOf('-');
            if (dash < 0) {
                b = Long.parseLong(r);
                e = b + 1;
            } else {
                b = Long.parseLong(r.substring(0, dash));
                e = Long.parseLong(r.substring(dash + 1));
            }
        } catch (NumberFormatException x) {
            throw new ConfigException("invalidate_cblocks: invalid cblock range '" + r + "'");
        }
        if (b < 0 || e <= b) {
            throw new ConfigException("invalidate_cblocks: invalid cblock range '" + r + "' (begin must be below end)");
        }
        if (b >= cacheBlocks) {
            throw new ConfigException("invalidate_cblocks: begin cblock out of range: " + b + " >= " + cacheBlocks);
        }
        if (e > cacheBlocks) {
            throw new ConfigException("invalidate_cblocks: end cblock out of range: " + e + " > " + cacheBlocks);
        }
        return new TargetMessage.Range(b, e);
    }
}
