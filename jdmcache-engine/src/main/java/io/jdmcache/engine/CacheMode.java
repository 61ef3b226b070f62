package io.jdmcache.engine;

/** The cache's I/O mode (the kernel's {@code cache_io_mode}). */
public enum CacheMode {
    /** Write hits go to the cache only and mark the block dirty (the kernel's default). */
    WRITEBACK("writeback"),
    /** Write hits go to the cache and the origin; a clean block stays clean. */
    WRITETHROUGH("writethrough"),
    /** Everything goes to the origin; write hits invalidate the cached block. Needs a clean cache. */
    PASSTHROUGH("passthrough");

    private final String word;

    CacheMode(String word) {
        this.word = word;
    }

    /** The table-line and status word. */
    public String word() {
        return word;
    }

    static CacheMode fromWord(String w) {
        for (CacheMode m : values()) {
            if (m.word.equals(w)) {
                return m;
            }
        }
        throw new ConfigException("Unrecognised cache io_mode '" + w + "'");
    }
}
