package io.jdmcache.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A parsed dm-cache table line (the kernel's {@code cache_args}):
 * <pre>
 * [0 &lt;length in sectors&gt; cache] &lt;metadata dev&gt; &lt;cache dev&gt; &lt;origin dev&gt; &lt;block size&gt;
 *     &lt;#feature args&gt; [writeback|writethrough|passthrough] [metadata2] [no_discard_passdown]
 *     &lt;policy&gt; &lt;#policy args&gt; [&lt;key&gt; &lt;value&gt;]...
 * </pre>
 *
 * @param targetSectors   the length from a leading {@code 0 <sectors> cache}, or -1 when the line has none
 *                        (then the whole origin is used)
 * @param metadataDevice  path of the metadata device
 * @param cacheDevice     path of the fast device
 * @param originDevice    path of the slow device
 * @param blockSectors    cache block size in 512-byte sectors (64..2097152, a multiple of 64)
 * @param mode            the I/O mode (writeback when none is given, as in the kernel)
 * @param metadataVersion 2 with the {@code metadata2} feature, else 1
 * @param discardPassdown false with {@code no_discard_passdown}
 * @param policy          the policy name as written ({@code smq}, {@code mq}, {@code default}, {@code cleaner})
 * @param policyArgs      the key/value pairs after the policy, in order ({@code migration_threshold} among them)
 */
public record CacheConfig(long targetSectors, String metadataDevice, String cacheDevice, String originDevice,
                          long blockSectors, CacheMode mode, int metadataVersion, boolean discardPassdown,
                          String policy, List<String> policyArgs) {
    public static final long MIN_BLOCK_SECTORS = 64;
    public static final long MAX_BLOCK_SECTORS = 2097152;
    /** The most feature arguments the kernel accepts. */
    public static final int MAX_FEATURES = 3;
    /** The most policy arguments the kernel accepts. */
    public static final int MAX_POLICY_ARGS = 1024;

    public CacheConfig {
        Objects.requireNonNull(metadataDevice, "metadataDevice");
        Objects.requireNonNull(cacheDevice, "cacheDevice");
        Objects.requireNonNull(originDevice, "originDevice");
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(policy, "policy");
        policyArgs = List.copyOf(policyArgs);
        if (!validBlockSize(blockSectors)) {
            throw new ConfigException("Invalid data block size: " + blockSectors
                    + " sectors (64 to 2097152, a multiple of 64)");
        }
        if (metadataVersion != 1 && metadataVersion != 2) {
            throw new ConfigException("Invalid metadata version " + metadataVersion + " (1 or 2)");
        }
        if (policyArgs.size() % 2 != 0) {
            throw new ConfigException("Invalid policy arguments: an odd number (" + policyArgs.size()
                    + ") given but they should be <key> <value> pairs");
        }
    }

    /** A writeback smq configuration with no policy arguments, for programs and tests. */
    public static CacheConfig of(String metadata, String cache, String origin, long blockSectors, CacheMode mode) {
        return new CacheConfig(-1, metadata, cache, origin, blockSectors, mode, 1, true, "smq", List.of());
    }

    public CacheConfig withMode(CacheMode m) {
        return new CacheConfig(targetSectors, metadataDevice, cacheDevice, originDevice, blockSectors, m,
                metadataVersion, discardPassdown, policy, policyArgs);
    }

    public CacheConfig withPolicy(String name, List<String> args) {
        return new CacheConfig(targetSectors, metadataDevice, cacheDevice, originDevice, blockSectors, mode,
                metadataVersion, discardPassdown, name, args);
    }

    public CacheConfig withMetadataVersion(int v) {
        return new CacheConfig(targetSectors, metadataDevice, cacheDevice, originDevice, blockSectors, mode,
                v, discardPassdown, policy, policyArgs);
    }

    public CacheConfig withDiscardPassdown(boolean passdown) {
        return new CacheConfig(targetSectors, metadataDevice, cacheDevice, originDevice, blockSectors, mode,
                metadataVersion, passdown, policy, policyArgs);
    }

    static boolean validBlockSize(long sectors) {
        return sectors >= MIN_BLOCK_SECTORS && sectors <= MAX_BLOCK_SECTORS && sectors % MIN_BLOCK_SECTORS == 0;
    }

    /** The cache block size in bytes. */
    public long blockBytes() {
        return blockSectors * 512;
    }

    /**
     * Parses a table line.
     *
     * @throws ConfigException with the kernel's kind of message, naming the argument at fault
     */
    public static CacheConfig parse(String tableLine) {
        Objects.requireNonNull(tableLine, "tableLine");
        String[] raw = tableLine.trim().isEmpty() ? new String[0] : tableLine.trim().split("\\s+");
        Args a = new Args(raw);
        long target = -1;
        if (raw.length >= 3 && raw[2].equals("cache")) {
            if (!raw[0].equals("0")) {
                throw new ConfigException("Invalid start sector '" + raw[0] + "': a cache target starts at sector 0");
            }
            target = parseUnsigned(raw[1], "Invalid target length");
            if (target == 0) {
                throw new ConfigException("Invalid target length '0': the target must have at least one sector");
            }
            a.pos = 3;
        }
        if (a.remaining() < 6) {
            throw new ConfigException("Insufficient args: expected at least <metadata dev> <cache dev> <origin dev> "
                    + "<block size> <#feature args> <policy>, got " + a.remaining() + " argument"
                    + (a.remaining() == 1 ? "" : "s"));
        }
        String md = a.next();
        String cache = a.next();
        String origin = a.next();
        String bs = a.next();
        long blockSectors;
        try {
            blockSectors = Long.parseLong(bs);
        } catch (NumberFormatException e) {
            throw new ConfigException("Invalid data block size '" + bs + "': not a number of sectors");
        }
        if (!validBlockSize(blockSectors)) {
            throw new ConfigException("Invalid data block size " + blockSectors
                    + ": must be 64 to 2097152 sectors and a multiple of 64");
        }

        String nf = a.next();
        int nrFeatures = parseCount(nf, MAX_FEATURES, "Invalid number of feature arguments");
        if (a.remaining() < nrFeatures) {
            throw new ConfigException("Invalid number of feature arguments: " + nrFeatures
                    + " announced, only " + a.remaining() + " argument" + (a.remaining() == 1 ? "" : "s") + " follow");
        }
        CacheMode mode = null;
        int version = 1;
        boolean passdown = true;
        for (int i = 0; i < nrFeatures; i++) {
            String f = a.next();
            switch (f) {
                case "writeback", "writethrough", "passthrough" -> {
                    if (mode != null) {
                        throw new ConfigException("Duplicate cache io_mode features requested: '" + mode.word()
                                + "' and '" + f + "'");
                    }
                    mode = CacheMode.fromWord(f);
                }
                case "metadata2" -> version = 2;
                case "no_discard_passdown" -> passdown = false;
                default -> throw new ConfigException("Unrecognised cache feature requested: '" + f
                        + "' (writeback, writethrough, passthrough, metadata2, no_discard_passdown)");
            }
        }
        if (!a.hasNext()) {
            throw new ConfigException("Insufficient args: the policy name is missing");
        }
        String policy = a.next();
        if (!a.hasNext()) {
            throw new ConfigException("Insufficient args: the number of policy arguments is missing after '"
                    + policy + "'");
        }
        String np = a.next();
        int nrPolicyArgs = parseCount(np, MAX_POLICY_ARGS, "Invalid number of policy arguments");
        if (a.remaining() < nrPolicyArgs) {
            throw new ConfigException("Invalid number of policy arguments: " + nrPolicyArgs + " announced, only "
                    + a.remaining() + " argument" + (a.remaining() == 1 ? "" : "s") + " follow");
        }
        if (nrPolicyArgs % 2 != 0) {
            throw new ConfigException("Invalid number of policy arguments: " + nrPolicyArgs
                    + " is odd but they should be <key> <value> pairs");
        }
        List<String> pargs = new ArrayList<>();
        for (int i = 0; i < nrPolicyArgs; i++) {
            pargs.add(a.next());
        }
        if (a.hasNext()) {
            throw new ConfigException("Too many arguments: '" + a.next() + "' after the policy arguments");
        }
        return new CacheConfig(target, md, cache, origin, blockSectors, mode == null ? CacheMode.WRITEBACK : mode,
                version, passdown, policy, pargs);
    }

    private static int parseCount(String s, int max, String what) {
        long n;
        try {
            n = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ConfigException(what + ": '" + s + "' is not a number");
        }
        if (n < 0 || n > max) {
            throw new ConfigException(what + ": " + n + " (0 to " + max + ")");
        }
        return (int) n;
    }

    private static long parseUnsigned(String s, String what) {
        try {
            long v = Long.parseLong(s);
            if (v < 0) {
                throw new ConfigException(what + " '" + s + "': negative");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ConfigException(what + " '" + s + "': not a number");
        }
    }

    /** The table line this configuration came from (normalised: single spaces, features in kernel order). */
    public String toTableLine() {
        List<String> t = new ArrayList<>();
        if (targetSectors >= 0) {
            t.add("0");
            t.add(Long.toString(targetSectors));
            t.add("cache");
        }
        t.add(metadataDevice);
        t.add(cacheDevice);
        t.add(originDevice);
        t.add(Long.toString(blockSectors));
        List<String> f = features();
        t.add(Integer.toString(f.size()));
        t.addAll(f);
        t.add(policy);
        t.add(Integer.toString(policyArgs.size()));
        t.addAll(policyArgs);
        return String.join(" ", t);
    }

    /** The feature words, as the kernel's status emits them: metadata2, the mode, no_discard_passdown. */
    public List<String> features() {
        List<String> f = new ArrayList<>();
        if (metadataVersion == 2) {
            f.add("metadata2");
        }
        f.add(mode.word());
        if (!discardPassdown) {
            f.add("no_discard_passdown");
        }
        return f;
    }

    private static final class Args {
        final String[] a;
        int pos;

        Args(String[] a) {
            this.a = a;
        }

        int remaining() {
            return a.length - pos;
        }

        boolean hasNext() {
            return pos < a.length;
        }

        String next() {
            return a[pos++];
        }
    }
}
