package io.jdmcache.metadata;

import java.util.Arrays;

/**
 * Everything a committed dm-cache metadata image holds, as plain arrays: what tests compare after a crash,
 * a fault or a round trip through other tools. Built either from a {@link MetadataModel} (what should be
 * there) or by {@link ImageWalker} from the blocks of an image (what is there).
 *
 * @param flags        superblock flags without CLEAN_SHUTDOWN
 * @param clean        CLEAN_SHUTDOWN
 * @param mappings     the raw mapping values, one per cache block
 * @param dirtyWords   format 2: the dirty bitset's words (bits past the end zero); null in format 1
 * @param hints        the hint array's values (its own length), or null when there is no hint array
 * @param discardWords the discard bitset's words (bits past the end zero)
 */
record Content(int version, int flags, boolean clean, long dataBlockSize, long[] mappings, long[] dirtyWords,
               String policyName, int[] policyVersion, int hintSize, long[] hints, long discardBlockSize,
               long discardNrBlocks, long[] discardWords, CacheStats stats) {

    long cacheBlocks() {
        return mappings.length;
    }

    /** A one-line description of the first difference from {@code o} (ignoring CLEAN_SHUTDOWN), or null. */
    String difference(Content o) {
        if (version != o.version) {
            return "version " + version + " vs " + o.version;
        }
        if (flags != o.flags) {
            return "flags " + flags + " vs " + o.flags;
        }
        if (dataBlockSize != o.dataBlockSize) {
            return "data block size " + dataBlockSize + " vs " + o.dataBlockSize;
        }
        String d = arrays("mappings", mappings, o.mappings);
        if (d != null) {
            return d;
        }
        if ((dirtyWords == null) != (o.dirtyWords == null)) {
            return "dirty bitset present " + (dirtyWords != null) + " vs " + (o.dirtyWords != null);
        }
        if (dirtyWords != null && (d = arrays("dirty words", dirtyWords, o.dirtyWords)) != null) {
            return d;
        }
        if (!policyName.equals(o.policyName) || !Arrays.equals(policyVersion, o.policyVersion)) {
            return "policy " + policyName + Arrays.toString(policyVersion) + " vs " + o.policyName
                    + Arrays.toString(o.policyVersion);
        }
        if (hintSize != o.hintSize) {
            return "hint size " + hintSize + " vs " + o.hintSize;
        }
        if ((hints == null) != (o.hints == null)) {
            return "hint array present " + (hints != null) + " vs " + (o.hints != null);
        }
        if (hints != null && (d = arrays("hints", hints, o.hints)) != null) {
            return d;
        }
        if (discardBlockSize != o.discardBlockSize || discardNrBlocks != o.discardNrBlocks) {
            return "discard geometry " + discardBlockSize + "x" + discardNrBlocks + " vs " + o.discardBlockSize
                    + "x" + o.discardNrBlocks;
        }
        if ((d = arrays("discard words", discardWords, o.discardWords)) != null) {
            return d;
        }
        if (!stats.equals(o.stats)) {
            return "stats " + stats + " vs " + o.stats;
        }
        return null;
    }

    private static String arrays(String what, long[] a, long[] b) {
        if (a.length != b.length) {
            return what + ": length " + a.length + " vs " + b.length;
        }
        int i = Arrays.mismatch(a, b);
        return i < 0 ? null : what + "[" + i + "]: " + Long.toHexString(a[i]) + " vs " + Long.toHexString(b[i]);
    }
}
