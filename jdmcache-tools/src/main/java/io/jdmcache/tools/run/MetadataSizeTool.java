package io.jdmcache.tools.run;

import io.jdmcache.metadata.MetadataSize;

import java.io.PrintStream;
import java.math.BigInteger;

/**
 * cache_metadata_size: the formula of {@link MetadataSize} (the reference's, verified against its binary), with
 * the validation the reference lacks (a block size of 0 is refused, not a crash).
 */
public final class MetadataSizeTool {
    private MetadataSizeTool() {
    }

    /** The size in sectors for {@code nrBlocks} cache blocks with hints of {@code hintWidth} bytes. */
    public static BigInteger sectors(BigInteger nrBlocks, long hintWidth) {
        return MetadataSize.sectors(nrBlocks, hintWidth);
    }

    /** Validates the option combination and prints "N sectors"; returns the exit code. */
    public static int run(Long blockSize, Long deviceSize, Long nrBlocks, long hintWidth, PrintStream out,
                          PrintStream err) {
        if (blockSize == null && deviceSize == null && nrBlocks == null) {
            err.println("Please specify either --device-size and --block-size, or --nr-blocks.");
            return 1;
        }
        if (deviceSize != null && blockSize == null) {
            err.println("If you specify --device-size you must also give --block-size.");
            return 1;
        }
        if (blockSize != null && deviceSize == null) {
            err.println("If you specify --block-size you must also give --device-size.");
            return 1;
        }
        if (blockSize != null && blockSize <= 0) {
            err.println("Invalid block size: " + blockSize + " sectors (must be greater than 0)");
            return 1;
        }
        if ((deviceSize != null && deviceSize < 0) || (nrBlocks != null && nrBlocks < 0) || hintWidth < 0) {
            err.println("Sizes must not be negative.");
            return 1;
        }
        long blocks;
        if (blockSize != null) {
            blocks = deviceSize / blockSize;
            if (nrBlocks != null && nrBlocks != blocks) {
                err.println("Contradictory arguments given, --nr-blocks doesn't match the --device-size and --block-size.");
                return 1;
            }
        } else {
            blocks = nrBlocks;
        }
        out.println(sectors(BigInteger.valueOf(blocks), hintWidth) + " sectors");
        return 0;
    }
}
