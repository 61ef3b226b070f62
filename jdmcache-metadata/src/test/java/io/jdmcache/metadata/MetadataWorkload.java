package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * A random but reproducible sequence of metadata operations (format, resize, insert, remove, dirty bits,
 * hints, discards, statistics, commits with and without clean shutdown, aborts, reopenings), applied to a
 * CacheMetadata and to a {@link MetadataModel} side by side. It checks every answer against the model as
 * it goes and records what each commit wrote, so that a crash or fault test can tell which states an image
 * may be in afterwards. The same seed always issues the same operations, whatever the device does.
 */
final class MetadataWorkload {
    static final PolicyInfo MQ = new PolicyInfo("mq", 1, 0, 0, 4);
    static final PolicyInfo NO_HINTS = new PolicyInfo("nohints", 1, 2, 3, 0);
    private static final PolicyInfo[] POLICIES = {Images.SMQ, Images.SMQ, MQ, NO_HINTS};

    /** Opens (formatting an all-zero device) the metadata under test. */
    @FunctionalInterface
    interface Opener {
        CacheMetadata open() throws IOException;
    }

    /** Called after every completed commit with what it committed. */
    @FunctionalInterface
    interface CommitHook {
        void committed(Content c) throws IOException;
    }

    final int version;
    final long seed;
    final int steps;
    final int maxCacheBlocks;

    /** Contents as committed: [0] is the format. */
    final List<Content> commits = new ArrayList<>();
    /** The contents being committed while a commit (or the format) runs, else null. */
    Content inFlight;
    /** The clean-shutdown flag as it should be on disk after the last completed operation. */
    boolean diskClean;
    /** Operations issued so far (the one that failed included). */
    int issued;
    /** The name of the operation running, for messages. */
    String current = "";

    /** Called when an operation failed, with the metadata it failed on (still open), before it is closed. */
    @FunctionalInterface
    interface FailureHook {
        void failed(CacheMetadata md, Exception e) throws IOException;
    }

    /** Runs when an operation fails; by default nothing. */
    FailureHook onFailure = (md, e) -> {
    };
    /** The metadata the workload works on (null while reopening). */
    private CacheMetadata live;
    /** Runs after each commit; by default nothing. */
    CommitHook afterCommit = c -> {
    };
    private MetadataModel model;
    private boolean sessionClean;
    private final Set<Long> usedOrigins = new HashSet<>();
    private long nextOrigin;

    MetadataWorkload(int version, long seed, int steps, int maxCacheBlocks) {
        this.version = version;
        this.seed = seed;
        this.steps = steps;
        this.maxCacheBlocks = maxCacheBlocks;
    }

    Content lastCommit() {
        return commits.get(commits.size() - 1);
    }

    /** Runs every step on the metadata {@code opener} opens; leaves it closed after a final clean commit. */
    void run(Opener opener) throws IOException {
        Random rnd = new Random(seed);
        model = new MetadataModel(version, 128);
        current = "format";
        inFlight = model.content();
        live = opener.open();
        try {
            commits.add(inFlight);
            inFlight = null;
            diskClean = false;
            sessionClean = true;
            steps(opener, rnd);
            // every run reopens at least once, so each seed reads committed blocks back from the device
            commit(live, rnd.nextBoolean());
            reopen(opener);
            commit(live, true);
        } catch (IOException | RuntimeException e) {
            if (live != null) {
                onFailure.failed(live, e);
            }
            throw e;
        } finally {
            if (live != null) {
                live.close();
            }
        }
    }

    private void steps(Opener opener, Random rnd) throws IOException {
        resize(live, 1 + rnd.nextInt(maxCacheBlocks));
        for (int step = 0; step < steps; step++) {
            CacheMetadata md = live;
            issued++;
            int what = rnd.nextInt(100);
            long n = model.cacheBlocks();
            if (what < 30 && n > 0) {
                long c = rnd.nextInt((int) n);
                long o = origin(rnd);
                current = "insert mapping";
                long old = model.mappings[(int) c];
                md.insertMapping(c, o);
                if (Mapping.valid(old)) {
                    usedOrigins.remove(Mapping.oblock(old));
                }
                model.insert(c, o);
            } else if (what < 40 && n > 0) {
                long c = rnd.nextInt((int) n);
                current = "remove mapping";
                long old = model.mappings[(int) c];
                md.removeMapping(c);
                if (Mapping.valid(old)) {
                    usedOrigins.remove(Mapping.oblock(old));
                }
                model.remove(c);
            } else if (what < 46) {
                long target = rnd.nextInt(4) == 0 ? rnd.nextInt((int) n + 1) : 1 + rnd.nextInt(maxCacheBlocks);
                resize(md, target);
            } else if (what < 54) {
                setDirtyBits(md, rnd);
            } else if (what < 59) {
                PolicyInfo p = POLICIES[rnd.nextInt(POLICIES.length)];
                long salt = rnd.nextLong();
                current = "write hints";
                md.writeHints(p, c -> mix(salt + c));
                model.writeHints(p, c -> mix(salt + c));
            } else if (what < 63) {
                long bs = 128L << rnd.nextInt(4);
                long nr = rnd.nextInt(8) == 0 ? rnd.nextInt(40_000) : rnd.nextInt(700);
                current = "discard bitset resize";
                md.resizeDiscards(bs, nr);
                model.resizeDiscards(bs, nr);
            } else if (what < 71 && model.discardNrBlocks > 0) {
                long d = rnd.nextInt((int) model.discardNrBlocks);
                boolean on = rnd.nextInt(3) != 0;
                current = "set discard";
                md.setDiscard(d, on);
                model.setDiscard(d, on);
            } else if (what < 74) {
                CacheStats s = new CacheStats(rnd.nextInt(), rnd.nextInt(), rnd.nextInt(), rnd.nextInt());
                current = "set stats";
                md.setStats(s);
                model.stats = s;
            } else if (what < 86) {
                commit(md, rnd.nextInt(3) == 0);
            } else if (what < 89) {
                current = "abort";
                md.abort();
                model = MetadataModel.of(lastCommit());
                sessionClean = diskClean;
                forgetOrigins();
            } else if (what < 92) {
                reopen(opener);
            } else if (what < 96) {
                current = "load mappings";
                PolicyInfo p = POLICIES[rnd.nextInt(POLICIES.length)];
                List<M> got = Images.load(md, p);
                List<M> want = MetadataModel.expectedLoad(model.content(), p, sessionClean);
                if (!got.equals(want)) {
                    throw new AssertionError("step " + step + ": loadMappings(" + p.name() + ") gave " + got.size()
                            + " mappings, the model " + want.size() + "; first difference "
                            + firstDifference(got, want));
                }
            } else if (what < 98) {
                current = "load discards";
                List<Long> got = new ArrayList<>();
                long[] calls = {0};
                md.loadDiscards((bs, d, on) -> {
                    calls[0]++;
                    if (bs != model.discardBlockSize) {
                        throw new AssertionError("discard block size " + bs + ", model " + model.discardBlockSize);
                    }
                    if (on) {
                        got.add(d);
                    }
                });
                check(calls[0] == model.discardNrBlocks, "loadDiscards calls " + calls[0]);
                check(got.equals(MetadataModel.expectedDiscards(model.content(), sessionClean)), "discards " + got);
            } else if (n > 0) {
                current = "read mapping";
                long c = rnd.nextInt((int) n);
                check(md.mappingValue(c) == model.mappings[(int) c], "mapping value of " + c);
                check(md.cacheBlocks() == n, "cache blocks");
            }
        }
    }

    private void reopen(Opener opener) throws IOException {
        current = "reopen";
        CacheMetadata md = live;
        live = null;
        md.close();
        live = opener.open();
        sessionClean = diskClean;
        diskClean = false;
        model = MetadataModel.of(lastCommit());
        forgetOrigins();
    }

    private void resize(CacheMetadata md, long target) throws IOException {
        current = "resize";
        long dirty = model.firstDirty(Math.min(target, model.cacheBlocks()), model.cacheBlocks());
        if (target < model.cacheBlocks() && dirty >= 0) {
            try {
                md.resize(target);
                throw new AssertionError("shrink to " + target + " over dirty cache block " + dirty + " was allowed");
            } catch (DirtyBlockException e) {
                check(e.cblock() == dirty, "refusal names " + e.cblock() + ", model says " + dirty);
            }
            return;
        }
        md.resize(target);
        for (long c = target; c < model.cacheBlocks(); c++) {
            if (model.valid(c)) {
                usedOrigins.remove(Mapping.oblock(model.mappings[(int) c]));
            }
        }
        model.resize(target);
    }

    private void setDirtyBits(CacheMetadata md, Random rnd) throws IOException {
        long n = model.cacheBlocks();
        long[] words = new long[(int) ((n + 63) / 64) + 1];
        boolean onlyMapped = rnd.nextInt(4) != 0;
        for (int c = 0; c < n; c++) {
            if (rnd.nextInt(3) == 0 && (!onlyMapped || model.valid(c))) {
                words[c >>> 6] |= 1L << c;
            }
        }
        // format 1 may be given fewer bits than the cache has; format 2 needs them all
        long nrBits = version == 1 && rnd.nextBoolean() ? rnd.nextInt((int) n + 1) : n;
        current = "set dirty bits";
        md.setDirtyBits(words, nrBits);
        model.setDirtyBits(words, nrBits);
    }

    private void commit(CacheMetadata md, boolean clean) throws IOException {
        current = "commit";
        model.clean = clean;
        inFlight = model.content();
        md.commit(clean);
        commits.add(inFlight);
        inFlight = null;
        diskClean = clean;
        afterCommit.committed(lastCommit());
    }

    private long origin(Random rnd) {
        long o;
        do {
            o = rnd.nextInt(4) == 0 ? nextOrigin++ : (rnd.nextLong() & Mapping.MAX_OBLOCK);
        } while (!usedOrigins.add(o));
        return o;
    }

    private void forgetOrigins() {
        usedOrigins.clear();
        for (long v : model.mappings) {
            if (Mapping.valid(v)) {
                usedOrigins.add(Mapping.oblock(v));
            }
        }
    }

    static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        return x;
    }

    private static String firstDifference(List<M> got, List<M> want) {
        for (int i = 0; i < Math.min(got.size(), want.size()); i++) {
            if (!got.get(i).equals(want.get(i))) {
                return got.get(i) + " vs " + want.get(i);
            }
        }
        return "one list is longer";
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
