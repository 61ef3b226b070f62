package io.jdmcache.metadata;

import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.FaultyDevice;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * I/O errors at every position of a workload: the random workload of the crash test runs once to count the
 * reads, writes and flushes it issues after the first open, then once per position with an I/O error
 * injected there (once, or from there on: "sticky").
 *
 * <p>A single error must take the kernel's path: abort, needs_check, read-only. The metadata then reports
 * READ_ONLY and needs_check, refuses every change with a MetadataModeException, still answers reads with the
 * last commit, and the error names the operation. A sticky error makes the abort or the needs_check update
 * fail too: fail mode, where every operation fails at once. Either way, once the device is healed, a
 * read-only open finds the last commit intact (or the one that failed after its superblock was written),
 * with exact space-map counts, and needs_check set exactly when the read-only path was taken.
 */
class MetadataFaultTest {
    private static final long DEVICE = 2 << 20;
    private static final FaultyDevice.Kind[] KINDS = {FaultyDevice.Kind.READ, FaultyDevice.Kind.WRITE,
            FaultyDevice.Kind.FLUSH};

    static CacheMetadata open(FaultyDevice dev, int version) throws IOException {
        return CacheMetadata.open(dev, new MetadataOptions(128, version, true, false, false, 16));
    }

    /** What the failure hook saw. */
    static final class Seen {
        MetadataMode mode;
        String op;
    }

    @Property(tries = 10)
    void anErrorAtEveryPositionIsContained(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int version,
                                            @ForAll boolean sticky) throws Exception {
        int steps = 50 + (int) Math.floorMod(seed, 40);
        Random rnd = new Random(seed);
        int cacheChecks = 0;
        for (FaultyDevice.Kind kind : KINDS) {
            long count = count(kind, seed, version, steps);
            Statistics.label(kind + " operations").collect(count < 50 ? "<50" : count < 150 ? "50-149" : "150+");
            assertThat(count).as(kind + " operations after the first open").isPositive();
            for (long n = 1; n <= count; n++) {
                boolean check = cacheChecks < 4 && rnd.nextInt(8) == 0;
                faultAt(kind, n, sticky, seed, version, steps, check);
                cacheChecks += check ? 1 : 0;
            }
        }
    }

    /** The operations of {@code kind} the workload issues after the first open. */
    private static long count(FaultyDevice.Kind kind, long seed, int version, int steps) throws IOException {
        FaultyDevice dev = new FaultyDevice(new MemoryBlockDevice(DEVICE));
        boolean[] armed = {false};
        new MetadataWorkload(version, seed, steps, 2500).run(() -> {
            CacheMetadata md = open(dev, version);
            if (!armed[0]) {
                armed[0] = true;
                dev.failAt(kind, Long.MAX_VALUE, false);
            }
            return md;
        });
        return dev.operations();
    }

    /** Runs the workload with an error at the {@code n}-th operation of {@code kind} and checks the outcome. */
    private static void faultAt(FaultyDevice.Kind kind, long n, boolean sticky, long seed, int version,
                                             int steps, boolean cacheCheck) throws IOException {
        MemoryBlockDevice disk = new MemoryBlockDevice(DEVICE);
        FaultyDevice dev = new FaultyDevice(disk);
        boolean[] armed = {false};
        MetadataWorkload w = new MetadataWorkload(version, seed, steps, 2500);
        Seen seen = new Seen();
        String where = kind + " error at " + n + (sticky ? " and after" : "");
        w.onFailure = (md, e) -> contained(md, e, w, sticky, seen, where);
        try {
            w.run(() -> {
                CacheMetadata md = open(dev, version);
                if (!armed[0]) {
                    armed[0] = true;
                    dev.failAt(kind, n, sticky);
                }
                return md;
            });
            throw new AssertionError(where + ": the workload finished despite the error");
        } catch (IOException | RuntimeException e) {
            assertThat(dev.failures()).as(where + ": failed without an injected error: " + e).isPositive();
        }
        dev.heal();

        // nothing committed is lost
        List<Content> allowed = new ArrayList<>();
        allowed.add(w.lastCommit());
        if (w.inFlight != null) {
            allowed.add(w.inFlight);
        }
        ImageWalker.Walk walk = ImageWalker.walk(disk);
        walk.assertExactCounts();
        Content got = walk.content();
        boolean needsCheck = (got.flags() & Superblock.NEEDS_CHECK) != 0;
        // read-only mode means needs_check reached the disk; no failure means it was not set; in fail mode
        // the flag's write may have landed before its flush failed
        if (seen.mode != MetadataMode.FAIL) {
            assertThat(needsCheck).as(where + " during '" + w.current + "': needs_check on disk after mode "
                    + seen.mode).isEqualTo(seen.mode == MetadataMode.READ_ONLY);
        }
        Content plain = new Content(got.version(), got.flags() & ~Superblock.NEEDS_CHECK, got.clean(),
                got.dataBlockSize(), got.mappings(), got.dirtyWords(), got.policyName(), got.policyVersion(),
                got.hintSize(), got.hints(), got.discardBlockSize(), got.discardNrBlocks(), got.discardWords(),
                got.stats());
        List<String> diffs = new ArrayList<>();
        boolean found = false;
        for (Content c : allowed) {
            String d = plain.difference(c);
            if (d == null && (!got.clean() || c.clean())) {
                found = true;
            }
            diffs.add(String.valueOf(d));
        }
        assertThat(found).as(where + " during '" + w.current + "': committed state lost: " + diffs).isTrue();
        if (needsCheck) {
            // a device that needs checking cannot be opened for writing
            MemoryBlockDevice copy = disk.copy();
            try {
                CacheMetadata.open(copy, MetadataOptions.readWrite(128)).close();
                throw new AssertionError(where + ": opened for writing despite needs_check");
            } catch (MetadataModeException expected) {
                assertThat(expected.getMessage()).contains("needs checking");
            }
        }
        if (cacheCheck) {
            CacheCheck.assertAccepted(disk, got.cacheBlocks(), where);
        }
    }

    /** Checks the metadata right after a failed operation, before the workload closes it. */
    private static void contained(CacheMetadata md, Exception e, MetadataWorkload w, boolean sticky, Seen seen,
                                  String where) throws IOException {
        String ctx = where + " during '" + w.current + "'";
        assertThat(e).as(ctx).isInstanceOf(MetadataModeException.class);
        MetadataModeException m = (MetadataModeException) e;
        seen.mode = md.mode();
        seen.op = w.current;
        assertThat(m.mode()).as(ctx).isEqualTo(md.mode());
        boolean abortFailed = w.current.equals("abort");
        if (abortFailed) {
            assertThat(m.getMessage()).as(ctx).contains("abort failed");
        } else {
            assertThat(m.getMessage()).as(ctx).contains("metadata operation '" + w.current + "' failed")
                    .contains("injected I/O error");
        }
        if (sticky || abortFailed) {
            assertThat(md.mode()).as(ctx + ": " + m.getMessage()).isEqualTo(MetadataMode.FAIL);
        } else {
            assertThat(md.mode()).as(ctx + ": " + m.getMessage()).isEqualTo(MetadataMode.READ_ONLY);
        }
        if (md.mode() == MetadataMode.READ_ONLY) {
            readOnly(md, w, ctx);
        } else {
            failMode(md, ctx);
        }
    }

    private static void readOnly(CacheMetadata md, MetadataWorkload w, String ctx) throws IOException {
        assertThat(md.needsCheck()).as(ctx).isTrue();
        // reads still work, and they see a committed state
        List<Images.M> got = Images.load(md, Images.SMQ);
        boolean committed = got.equals(MetadataModel.expectedLoad(w.lastCommit(), Images.SMQ, md.cleanWhenOpened()))
                || (w.inFlight != null
                && got.equals(MetadataModel.expectedLoad(w.inFlight, Images.SMQ, md.cleanWhenOpened())));
        assertThat(committed).as(ctx + ": after the abort, loadMappings shows a committed state").isTrue();
        assertThat(md.stats()).isNotNull();
        assertThat(md.freeMetadataBlocks()).isPositive();
        if (md.cacheBlocks() > 0) {
            md.mappingValue(0);
        }
        // changes are refused, naming the mode
        for (Callable<?> change : changes(md)) {
            try {
                change.call();
                throw new AssertionError(ctx + ": a change was accepted in read-only mode");
            } catch (MetadataModeException r) {
                assertThat(r.mode()).isEqualTo(MetadataMode.READ_ONLY);
                assertThat(r.getMessage()).contains("read-only");
            } catch (Exception other) {
                throw new AssertionError(ctx + ": refused with " + other, other);
            }
        }
        assertThat(md.mode()).isEqualTo(MetadataMode.READ_ONLY);
        try {
            md.setReadWrite();
            throw new AssertionError(ctx + ": write access granted despite needs_check");
        } catch (MetadataModeException r) {
            assertThat(r.getMessage()).contains("needs checking");
        }
    }

    private static List<Callable<?>> changes(CacheMetadata md) {
        return List.of(() -> {
            md.insertMapping(0, 1);
            return null;
        }, () -> {
            md.removeMapping(0);
            return null;
        }, () -> {
            md.resize(10);
            return null;
        }, () -> {
            md.setDirtyBits(new long[1], 0);
            return null;
        }, () -> {
            md.writeHints(Images.SMQ, c -> 0);
            return null;
        }, () -> {
            md.resizeDiscards(128, 4);
            return null;
        }, () -> {
            md.setStats(CacheStats.ZERO);
            return null;
        }, () -> {
            md.commit(true);
            return null;
        });
    }

    private static void failMode(CacheMetadata md, String ctx) {
        List<Callable<?>> all = new ArrayList<>(changes(md));
        all.addAll(List.of(() -> Images.load(md, Images.SMQ), md::stats, md::cacheBlocks, md::needsCheck,
                md::freeMetadataBlocks, md::totalMetadataBlocks, () -> md.mappingValue(0), md::allClean,
                md::committedSuperblock, md::changedThisTransaction, () -> md.hint(0), () -> {
                    md.loadDiscards((bs, d, on) -> {
                    });
                    return null;
                }, () -> {
                    md.abort();
                    return null;
                }, () -> {
                    md.setReadWrite();
                    return null;
                }, () -> {
                    md.setNeedsCheck();
                    return null;
                }));
        for (Callable<?> op : all) {
            try {
                op.call();
                throw new AssertionError(ctx + ": an operation worked in fail mode");
            } catch (MetadataModeException f) {
                assertThat(f.mode()).as(ctx).isEqualTo(MetadataMode.FAIL);
            } catch (MetadataException other) {
                throw new AssertionError(ctx + ": failed with " + other + " instead of the fail mode", other);
            } catch (Exception other) {
                throw new AssertionError(ctx + ": failed with " + other, other);
            }
        }
        assertThat(md.mode()).isEqualTo(MetadataMode.FAIL);
    }

    /**
     * Errors while opening: formatting a zeroed device, and opening a committed image for writing (reads of
     * the superblock and space map, the in-place clear of the clean flag). The open fails with a metadata
     * error, and after healing the device opens with the previous contents (or, for the format, either
     * unformatted or freshly formatted).
     */
    @org.junit.jupiter.api.Test
    void errorsWhileOpeningLeaveTheDeviceAsItWas() throws Exception {
        for (int version = 1; version <= 2; version++) {
            MemoryBlockDevice committed = new MemoryBlockDevice(DEVICE);
            MetadataWorkload w = new MetadataWorkload(version, 99, 30, 2000);
            int v = version;
            w.run(() -> CacheMetadata.open(committed, new MetadataOptions(128, v, true, false, false, 16)));
            Content before = ImageWalker.walk(committed).content();
            for (FaultyDevice.Kind kind : KINDS) {
                for (boolean zeroed : new boolean[] {true, false}) {
                    for (long n = 1; ; n++) {
                        MemoryBlockDevice disk = zeroed ? new MemoryBlockDevice(DEVICE) : committed.copy();
                        FaultyDevice dev = new FaultyDevice(disk);
                        dev.failAt(kind, n, false);
                        String where = kind + " error " + n + (zeroed ? " while formatting" : " while opening");
                        try {
                            open(dev, version).close();
                        } catch (MetadataException e) {
                            assertThat(dev.failures()).as(where).isOne();
                        }
                        if (dev.failures() == 0) {
                            break; // past the last operation of this kind
                        }
                        dev.heal();
                        if (zeroed) {
                            // either nothing was committed (all-zero superblock) or an empty cache was
                            try (CacheMetadata md = open(dev, version)) {
                                assertThat(md.cacheBlocks()).as(where).isZero();
                                assertThat(md.version()).as(where).isEqualTo(version);
                            }
                            ImageWalker.walk(disk).assertExactCounts();
                        } else {
                            ImageWalker.Walk after = ImageWalker.walk(disk);
                            after.assertExactCounts();
                            assertThat(after.content().difference(before)).as(where).isNull();
                        }
                    }
                }
            }
        }
    }
}
