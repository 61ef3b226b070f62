package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.CrashingDevice;
import io.jdmcache.pdata.testing.PowerLossException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Power cuts through the whole metadata stack. A random workload (format, resizes, mappings, dirty bits,
 * hints, discards, statistics, commits with and without clean shutdown, aborts, reopenings, which clear
 * the clean flag in place) runs once to count its writes; then it is rerun with the power cut after each
 * single write, and the disk after the cut is rebuilt with the unflushed writes kept, dropped and torn.
 * Every such image must hold exactly the last completed commit or the one being committed, never a mix
 * (compared in full with what the workload committed), with space-map counts equal to the references found
 * by walking it, loadable through the API with the right dirty/hint/discard semantics, and accepted by
 * Debian's cache_check (for a sample of the cut points: every point is walk-checked).
 */
class MetadataCrashTest {
    private static final long DEVICE = 2 << 20;
    private static final int CACHE_CHECKS_PER_RUN = 6;

    static CacheMetadata open(CrashingDevice dev, int version) throws IOException {
        return CacheMetadata.open(dev, new MetadataOptions(128, version, true, false, false, 16));
    }

    @Property(tries = 16)
    void everyCutPointLeavesTheLastOrTheNextCommit(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int version)
            throws Exception {
        allCutPoints(seed, version, 60 + (int) Math.floorMod(seed, 60), 2500, 2 << 20);
    }

    /** Caches big enough for two-level mapping trees (more than 252 array blocks), fewer runs. */
    @Property(tries = 2)
    void everyCutPointOfALargeCache(@ForAll long seed, @ForAll @IntRange(min = 1, max = 2) int version)
            throws Exception {
        allCutPoints(seed, version, 25, 200_000, 16 << 20);
    }

    private static void allCutPoints(long seed, int version, int steps, int maxCacheBlocks, long deviceBytes)
            throws Exception {
        MemoryBlockDevice zero = new MemoryBlockDevice(deviceBytes);

        CrashingDevice full = new CrashingDevice(zero);
        MetadataWorkload reference = new MetadataWorkload(version, seed, steps, maxCacheBlocks);
        reference.run(() -> open(full, version));
        long writes = full.writes();
        Statistics.label("writes per run").collect(writes < 100 ? "<100" : writes < 200 ? "100-199" : "200+");
        Statistics.label("commits per run").collect(reference.commits.size() < 8 ? "<8" : "8+");
        MemoryBlockDevice done = full.survivor(CrashingDevice.Loss.DROP_ALL, new Random(0));
        Content last = verify(done, List.of(reference.lastCommit()), "the finished run");
        assertThat(last.clean()).isTrue();
        CacheCheck.assertAccepted(done, last.cacheBlocks(), "the finished run");

        Random rnd = new Random(seed);
        Set<Long> checkAt = new HashSet<>();
        while (checkAt.size() < Math.min(CACHE_CHECKS_PER_RUN, writes)) {
            checkAt.add(1 + (long) rnd.nextInt((int) writes));
        }
        Set<Integer> commitsSeen = new HashSet<>();
        for (long cut = 1; cut <= writes; cut++) {
            CrashingDevice dev = new CrashingDevice(zero);
            dev.cutPowerAfterWrite(cut);
            MetadataWorkload run = new MetadataWorkload(version, seed, steps, maxCacheBlocks);
            try {
                run.run(() -> open(dev, version));
                throw new AssertionError("the workload finished despite a power cut after write " + cut);
            } catch (IOException e) {
                if (!causedByPowerLoss(e)) {
                    throw new AssertionError("cut " + cut + ": failed for another reason than the power cut", e);
                }
            }
            List<Content> allowed = new ArrayList<>();
            if (!run.commits.isEmpty()) {
                allowed.add(run.lastCommit());
            }
            if (run.inFlight != null) {
                allowed.add(run.inFlight);
            }
            for (CrashingDevice.Loss loss : CrashingDevice.Loss.values()) {
                MemoryBlockDevice img = dev.survivor(loss, rnd);
                String where = "cut after write " + cut + " of " + writes + " (during '" + run.current + "'), " + loss;
                if (run.commits.isEmpty() && Images.bytes(img).length > 0 && superblockAllZero(img)) {
                    continue; // the format had not committed: nothing there yet, and that is allowed
                }
                Content got = verify(img, allowed, where);
                commitsSeen.add(got == run.inFlight ? run.commits.size() : run.commits.size() - 1);
                if (checkAt.contains(cut) && loss == CrashingDevice.Loss.RANDOM) {
                    CacheCheck.assertAccepted(img, got.cacheBlocks(), where);
                }
            }
        }
        // the cut points covered the whole history: every commit was seen as the surviving state
        assertThat(commitsSeen).hasSizeGreaterThanOrEqualTo(reference.commits.size() - 1);
    }

    private static boolean superblockAllZero(MemoryBlockDevice img) throws IOException {
        byte[] b = new byte[4096];
        img.read(0, java.nio.ByteBuffer.wrap(b));
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean causedByPowerLoss(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof PowerLossException) {
                return true;
            }
            for (Throwable s : c.getSuppressed()) {
                if (causedByPowerLoss(s)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Checks an image against the states it may be in; returns the one it holds (the very object from
     * {@code allowed}).
     */
    static Content verify(MemoryBlockDevice img, List<Content> allowed, String where) throws IOException {
        ImageWalker.Walk w;
        try {
            w = ImageWalker.walk(img);
        } catch (IOException | RuntimeException e) {
            throw new AssertionError(where + ": the image does not walk: " + e, e);
        }
        try {
            w.assertExactCounts();
        } catch (AssertionError e) {
            throw new AssertionError(where + ": " + e.getMessage(), e);
        }
        Content got = w.content();
        Content match = null;
        List<String> diffs = new ArrayList<>();
        for (Content c : allowed) {
            String d = got.difference(c);
            if (d == null && (!got.clean() || c.clean())) {
                match = c;
                break;
            }
            diffs.add(d == null ? "clean flag set but not committed" : d);
        }
        if (match == null) {
            throw new AssertionError(where + ": the image holds none of the allowed commits: " + diffs);
        }
        // and the API reads it the way format-spec 9 says, given the clean flag it finds
        try (CacheMetadata md = CacheMetadata.open(img, Images.readOnly128())) {
            assertThat(md.cleanWhenOpened()).isEqualTo(got.clean());
            for (PolicyInfo p : new PolicyInfo[] {Images.SMQ, MetadataWorkload.MQ}) {
                List<M> want = MetadataModel.expectedLoad(got, p, got.clean());
                assertThat(Images.load(md, p)).as(where).isEqualTo(want);
            }
            List<Long> discards = new ArrayList<>();
            md.loadDiscards((bs, d, on) -> {
                if (on) {
                    discards.add(d);
                }
            });
            assertThat(discards).as(where).isEqualTo(MetadataModel.expectedDiscards(got, got.clean()));
            assertThat(md.stats()).isEqualTo(got.stats());
        }
        return match;
    }
}
