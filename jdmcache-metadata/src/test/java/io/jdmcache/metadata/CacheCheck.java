package io.jdmcache.metadata;

import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Debian's {@code cache_check} (thin-provisioning-tools 0.9.0) as a judge of images jdmcache wrote.
 *
 * <p>One known oracle bug is allowed for: 0.9.0 cannot read an array of zero entries, so every cache of 0
 * blocks (its own {@code cache_restore} output included, see vectors zero-blocks-v1/v2) is reported as
 * {@code missing mappings [1, 0]: missing blocks}. For such an image exactly that complaint, and nothing
 * else, is accepted.
 */
final class CacheCheck {
    private CacheCheck() {
    }

    /** Fails unless cache_check accepts the image in {@code file} of {@code cacheBlocks} cache blocks. */
    static void assertAccepted(Path file, long cacheBlocks, String where) throws IOException {
        ExternalTools.Result r;
        try {
            r = ExternalTools.run("cache_check", file.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running cache_check", e);
        }
        if (cacheBlocks > 0) {
            if (r.rc() != 0) {
                throw new AssertionError(where + ": cache_check exit " + r.rc() + ":\n" + r.stderr());
            }
            return;
        }
        List<String> complaints = complaints(r.stderr());
        boolean onlyTheKnownBug = r.rc() == 1 && !complaints.isEmpty() && complaints.stream()
                .allMatch(l -> l.equals("missing mappings [1, 0]:") || l.equals("missing blocks"));
        if (!onlyTheKnownBug && r.rc() != 0) {
            throw new AssertionError(where + ": cache_check exit " + r.rc() + " on an empty cache, with more than "
                    + "0.9.0's empty-array bug:\n" + r.stderr());
        }
    }

    static void assertAccepted(MemoryBlockDevice img, long cacheBlocks, String where) throws IOException {
        Path f = Files.createTempFile("jdmcache-check", ".img");
        try {
            Images.toFile(img, f);
            assertAccepted(f, cacheBlocks, where);
        } finally {
            Files.deleteIfExists(f);
        }
    }

    /** The lines of a report that are not progress ("examining ...", "no hint array present"). */
    static List<String> complaints(String stderr) {
        List<String> out = new ArrayList<>();
        for (String l : stderr.split("\n")) {
            String t = l.trim();
            if (!t.isEmpty() && !t.startsWith("examining ") && !t.equals("no hint array present")) {
                out.add(t);
            }
        }
        return out;
    }
}
