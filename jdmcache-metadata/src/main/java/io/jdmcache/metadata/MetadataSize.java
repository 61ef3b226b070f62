package io.jdmcache.metadata;

import io.jdmcache.pdata.io.BlockDevice;

import java.io.IOException;
import java.math.BigInteger;
import java.util.Locale;

/**
 * How big a metadata device must be for a cache: cache_metadata_size's formula,
 * sectors = 8192 + ⌊blocks×16/512⌋ + ⌊blocks×(hint width+8)/512⌋ (verified against the reference's binary).
 * The tools' {@code metadata-size} prints it; the engine refuses a smaller device before it writes anything,
 * so a commit is never the first to find out that the metadata cannot hold the cache.
 */
public final class MetadataSize {
    /** The fixed part: room for the superblock, space maps and the transaction's shadow copies. */
    public static final long BASE_SECTORS = 8192;

    private MetadataSize() {
    }

    /** The size in sectors for {@code nrBlocks} cache blocks with hints of {@code hintWidth} bytes. */
    public static BigInteger sectors(BigInteger nrBlocks, long hintWidth) {
        BigInteger s512 = BigInteger.valueOf(512);
        return BigInteger.valueOf(BASE_SECTORS)
                .add(nrBlocks.multiply(BigInteger.valueOf(16)).divide(s512))
                .add(nrBlocks.multiply(BigInteger.valueOf(hintWidth + 8)).divide(s512));
    }

    /** {@link #sectors(BigInteger, long)} for the sizes an engine has (exact: no overflow below 2^54 blocks). */
    public static long sectors(long nrBlocks, int hintWidth) {
        return sectors(BigInteger.valueOf(nrBlocks), hintWidth).longValueExact();
    }

    /**
     * Refuses a metadata device smaller than {@link #sectors} requires for {@code cacheBlocks} blocks with
     * {@code hintWidth}-byte hints; the message names the device, its size and the size needed.
     */
    public static void requireRoom(BlockDevice metadata, long cacheBlocks, int hintWidth) throws IOException {
        long need = sectors(cacheBlocks, hintWidth);
        long have = metadata.size() / 512;
        if (have < need) {
            throw new MetadataTooSmallException(String.format(Locale.ROOT,
                    "metadata device %s is too small: it has %d sectors (%s), and %d cache blocks with %d-byte "
                            + "hints need at least %d sectors (%d bytes, %s; what 'metadata-size --nr-blocks %d "
                            + "--max-hint-width %d' prints)",
                    metadata.name(), have, human(have * 512), cacheBlocks, hintWidth, need, need * 512,
                    human(need * 512), cacheBlocks, hintWidth));
        }
    }

    private static String human(long bytes) {
        if (bytes < 1 << 20) {
            return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        }
        if (bytes < 1L << 30) {
            return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
        }
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
