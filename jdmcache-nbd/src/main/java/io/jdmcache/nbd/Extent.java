package io.jdmcache.nbd;

/**
 * One run of a block-status answer: {@code length} bytes with the given {@code base:allocation} flags
 * ({@link NbdBackend#STATE_HOLE}, {@link NbdBackend#STATE_ZERO}; 0 = allocated data).
 */
public record Extent(long length, int flags) {
    public Extent {
        if (length <= 0) {
            throw new IllegalArgumentException("extent length must be positive: " + length);
        }
    }
}
