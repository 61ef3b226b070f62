package io.jdmcache.tools.check;

/**
 * What to check (cache_check's options).
 *
 * @param superBlockOnly     check the superblock, then only the discard bitset (as the reference does)
 * @param skipMappings       skip the mapping array (and the dirty bitset)
 * @param skipHints          skip the hint array
 * @param skipDiscards       skip the discard bitset
 * @param clearNeedsCheck    clear NEEDS_CHECK when everything passed
 */
public record CheckOptions(boolean superBlockOnly, boolean skipMappings, boolean skipHints, boolean skipDiscards,
                           boolean clearNeedsCheck) {
    public static final CheckOptions ALL = new CheckOptions(false, false, false, false, false);

    /** Everything is walked, so the space map can be verified against what was found. */
    public boolean complete() {
        return !superBlockOnly && !skipMappings && !skipHints && !skipDiscards;
    }
}
