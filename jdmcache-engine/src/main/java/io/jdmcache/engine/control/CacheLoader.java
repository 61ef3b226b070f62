package io.jdmcache.engine.control;

import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.engine.ConfigException;
import io.jdmcache.engine.EngineOptions;
import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.DeferredFlushOrigin;
import io.jdmcache.engine.core.DiscardSet;
import io.jdmcache.engine.migration.MigrationWorkers;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.metadata.MetadataSize;
import io.jdmcache.metadata.PolicyInfo;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.DeviceBusyException;
import io.jdmcache.pdata.io.DeviceLocks;
import io.jdmcache.pdata.io.Devices;
import io.jdmcache.pdata.io.FileIdentity;
import io.jdmcache.pdata.io.FileBlockDevice;
import io.jdmcache.policy.CachePolicy;
import io.jdmcache.policy.Policies;
import io.jdmcache.policy.PolicyException;
import io.jdmcache.policy.PolicyVersion;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Opening a cache (the kernel's {@code cache_ctr} and {@code cache_preresume}): the devices of the table line,
 * the geometry, the policy and its arguments, the metadata, every mapping (those beyond a shrunk cache or
 * origin dropped, unless dirty), and the discard bits. Whatever fails, the devices are closed and the metadata
 * is left as it was found when the refusal came before anything changed.
 */
public final class CacheLoader {
    private CacheLoader() {
    }

    /** What to build over a loaded cache; a failure here also closes everything. */
    @FunctionalInterface
    public interface Starter<T> {
        T start(LoadedCache cache) throws IOException;
    }

    /**
     * Opens the three devices named by the table line (files or block devices), each claimed exclusively for as
     * long as it is open ({@link DeviceLocks}), closing them all if one fails. Before anything is opened the three
     * paths are resolved to the files they name: one file in two roles is refused, whatever the spelling.
     */
    public static BlockDevice[] openDevices(CacheConfig config) throws IOException {
        String[] roles = {"metadata", "cache", "origin"};
        String[] paths = {config.metadataDevice(), config.cacheDevice(), config.originDevice()};
        requireDistinct(roles, paths);
        List<BlockDevice> opened = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                openFile(paths[i], roles[i], opened);
            }
            return opened.toArray(new BlockDevice[0]);
        } catch (IOException | RuntimeException e) {
            for (BlockDevice d : opened) {
                closeQuietly(d);
            }
            throw e;
        }
    }

    /** Refuses one file (by device and inode, not by spelling) named in two roles. */
    public static void requireDistinct(String[] roles, String[] paths) throws IOException {
        FileIdentity[] ids = new FileIdentity[paths.length];
        for (int i = 0; i < paths.length; i++) {
            if (Devices.isNamed(paths[i])) {
                continue; // a remote device (nbd://...): no file to compare
            }
            try {
                ids[i] = FileIdentity.of(Path.of(paths[i]));
            } catch (IOException e) {
                throw new IOException("Error opening " + roles[i] + " device " + paths[i] + ": " + e.getMessage(), e);
            }
            for (int j = 0; j < i; j++) {
                if (ids[i] != null && ids[i].equals(ids[j])) {
                    throw new ConfigException("the " + roles[j] + " device " + paths[j] + " and the " + roles[i]
                            + " device " + paths[i] + " are the same " + (ids[i].blockDevice() ? "device" : "file")
                            + "; each role needs its own");
                }
            }
        }
    }

    private static void openFile(String path, String role, List<BlockDevice> opened) throws IOException {
        try {
            if (Devices.isNamed(path)) {
                opened.add(Devices.openNamed(path, false));
                return;
            }
            opened.add(FileBlockDevice.open(Path.of(path), false, DeviceLocks.Mode.EXCLUSIVE,
                    "the " + role + " device " + path));
        } catch (DeviceBusyException e) {
            throw new DeviceBusyException("Error opening " + role + " device " + path + ": " + e.getMessage(),
                    e.holder());
        } catch (IOException e) {
            throw new IOException("Error opening " + role + " device " + path + ": " + e.getMessage(), e);
        }
    }

    /** The policy's name, version and hint size as the metadata stores them. */
    public static PolicyInfo policyInfo(CachePolicy policy) {
        PolicyVersion v = policy.version();
        return new PolicyInfo(policy.name(), v.major(), v.minor(), v.patch(), policy.hintSize());
    }

    /**
     * Loads the cache over the given devices and hands it to {@code starter}. An all-zero metadata device is
     * formatted. On any failure the devices are closed.
     */
    public static <T> T open(CacheConfig config, BlockDevice metadataDev, BlockDevice cacheDev, BlockDevice originDev,
                             EngineOptions options, Starter<T> starter) throws IOException {
        CacheMetadata[] md = {null};
        try {
            return starter.start(load(config, metadataDev, cacheDev, originDev, options, md));
        } catch (IOException | RuntimeException e) {
            if (md[0] != null) {
                // refused before anything changed (a shrunk device, passthrough over dirty blocks): leave the
                // metadata as it was, clean-shutdown flag included, so fixing the table costs no write-backs
                CacheMetadata m = md[0];
                closeQuietly(m::closeUnused);
            } else {
                closeQuietly(metadataDev);
            }
            closeQuietly(cacheDev);
            closeQuietly(originDev);
            throw e;
        }
    }

    private static LoadedCache load(CacheConfig config, BlockDevice metadataDev, BlockDevice cacheDev,
                                    BlockDevice originDev, EngineOptions options, CacheMetadata[] opened)
            throws IOException {
        CacheGeometry g = geometry(config, cacheDev, originDev);
        CachePolicy policy;
        try {
            policy = Policies.create(config.policy(), g.cacheBlocks(), g.originBlocks(), config.blockSectors(),
                    options.clock());
        } catch (PolicyException e) {
            throw new ConfigException("Error creating cache's policy: " + e.getMessage());
        }
        long threshold = MigrationWorkers.DEFAULT_THRESHOLD;
        for (int i = 0; i < config.policyArgs().size(); i += 2) {
            String k = config.policyArgs().get(i);
            String v = config.policyArgs().get(i + 1);
            if (k.equals("migration_threshold")) {
                threshold = TargetMessages.parseThreshold(v);
            } else {
                try {
                    policy.setConfigValue(k, v);
                } catch (PolicyException e) {
                    throw new ConfigException("Error setting cache policy's config values: " + e.getMessage());
                }
            }
        }

        MetadataSize.requireRoom(metadataDev, g.cacheBlocks(), policy.hintSize()); // before anything is written
        CacheMetadata md = CacheMetadata.open(metadataDev, new MetadataOptions(config.blockSectors(),
                config.metadataVersion(), true, false, true, MetadataOptions.DEFAULT_CACHE_BLOCKS));
        opened[0] = md;
        PolicyInfo pinfo = policyInfo(policy);
        loadMappings(config, g, md, policy, pinfo);
        DiscardSet discards = loadDiscards(config, g, md);
        StartState start = new StartState(md.cleanWhenOpened(), md.exactDirtyWhenOpened(), policy.residency(),
                policy.dirtyCount());
        return new LoadedCache(g, cacheDev, DeferredFlushOrigin.forMode(originDev, config.mode() == CacheMode.WRITEBACK),
                md, policy, pinfo, discards, md.stats(), threshold, start);
    }

    private static CacheGeometry geometry(CacheConfig config, BlockDevice cacheDev, BlockDevice originDev)
            throws IOException {
        long bb = config.blockBytes();
        long originSize = originDev.size();
        long size = originSize;
        if (config.targetSectors() >= 0) {
            if (config.targetSectors() > originSize / 512) {
                throw new ConfigException("Device size larger than cached device: the target has "
                        + config.targetSectors() + " sectors, origin " + originDev.name() + " has "
                        + originSize / 512);
            }
            size = config.targetSectors() * 512;
        }
        long cb = cacheDev.size() / bb;
        if (cb < 1) {
            throw new ConfigException("Cache device " + cacheDev.name() + " (" + cacheDev.size()
                    + " bytes) is smaller than one cache block (" + bb + " bytes)");
        }
        if (cb > Integer.MAX_VALUE - 1024) {
            throw new ConfigException("Cache device " + cacheDev.name() + " has too many cache blocks: " + cb);
        }
        return new CacheGeometry(bb, config.blockSectors(), (int) cb, size / bb, size);
    }

    /** Loads the mappings that fit; those beyond a shrunk cache or origin are dropped, unless one is dirty. */
    private static void loadMappings(CacheConfig config, CacheGeometry g, CacheMetadata md, CachePolicy policy,
                                     PolicyInfo pinfo) throws IOException {
        int cacheBlocks = g.cacheBlocks();
        long originBlocks = g.originBlocks();
        long[][] dropped = {new long[16]};
        int[] nDropped = {0};
        String[] refusal = {null};
        md.loadMappings(pinfo, (o, c, dirty, hint, hintValid) -> {
            if (c >= cacheBlocks || o >= originBlocks) {
                if (dirty && refusal[0] == null) {
                    refusal[0] = c >= cacheBlocks
                            ? "cannot shrink the cache to " + cacheBlocks + " blocks: cache block " + c
                              + " (origin block " + o + ") is dirty"
                            : "the origin shrank to " + originBlocks + " blocks but cache block " + c
                              + " holds dirty origin block " + o + " beyond its end";
                }
                if (nDropped[0] == dropped[0].length) {
                    dropped[0] = Arrays.copyOf(dropped[0], nDropped[0] * 2);
                }
                dropped[0][nDropped[0]++] = c;
            } else {
                policy.loadMapping(o, (int) c, dirty, (int) hint, hintValid);
            }
        });
        if (refusal[0] != null) {
            throw new ConfigException(refusal[0]);
        }
        if (config.mode() == CacheMode.PASSTHROUGH && policy.dirtyCount() > 0) {
            throw new ConfigException("unable to enter passthrough mode: the cache has " + policy.dirtyCount()
                    + " dirty blocks (clean it in writeback or writethrough mode, or with the cleaner policy)");
        }
        for (int i = 0; i < nDropped[0]; i++) {
            md.removeMapping(dropped[0][i]);
        }
        if (md.cacheBlocks() != cacheBlocks) {
            md.resize(cacheBlocks);
        }
    }

    /** The discard bits, kept when the stored bitset has the cache's block size, resized to the origin. */
    private static DiscardSet loadDiscards(CacheConfig config, CacheGeometry g, CacheMetadata md) throws IOException {
        long originBlocks = g.originBlocks();
        DiscardSet discards = new DiscardSet(originBlocks);
        long storedDbs = md.discardBlockSize();
        long storedNr = md.discardNrBlocks();
        if (storedDbs == config.blockSectors()) {
            md.loadDiscards((dbs, d, on) -> {
                if (on) {
                    discards.load(d);
                }
            });
        }
        if (storedDbs != config.blockSectors() || storedNr != originBlocks) {
            md.resizeDiscards(config.blockSectors(), originBlocks);
            if (storedDbs != config.blockSectors()) {
                discards.clearLoaded();
            }
        }
        // the bits kept across an origin resize are not in the resized bitset yet
        discards.endLoad(!(storedDbs == config.blockSectors() && storedNr != originBlocks));
        return discards;
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // reporting the original failure
        }
    }
}
