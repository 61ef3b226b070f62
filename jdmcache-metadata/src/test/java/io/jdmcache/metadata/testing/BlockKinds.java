package io.jdmcache.metadata.testing;

import io.jdmcache.metadata.Superblock;
import io.jdmcache.pdata.array.ArrayBlock;
import io.jdmcache.pdata.block.Checksums;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.sm.BitmapBlock;
import io.jdmcache.pdata.sm.IndexBlock;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Tells the kind of each 4 KiB block of a metadata image by its checksum salt, for tests that damage images. */
public final class BlockKinds {
    public static final int BLOCK = 4096;
    private static final int[] SALTS = {Superblock.SALT, BtreeNode.SALT, ArrayBlock.SALT, IndexBlock.SALT,
        BitmapBlock.SALT};

    private BlockKinds() {
    }

    /** The salt whose checksum block {@code block} of {@code image} carries, or 0 for a block not in use. */
    public static int saltOf(byte[] image, int block) {
        byte[] b = Arrays.copyOfRange(image, block * BLOCK, (block + 1) * BLOCK);
        for (int salt : SALTS) {
            if (Checksums.stored(b) == Checksums.compute(b, salt)) {
                return salt;
            }
        }
        return 0;
    }

    /** The blocks of {@code image} in use (those with a valid checksum of some kind), in order. */
    public static List<Integer> used(byte[] image) {
        List<Integer> used = new ArrayList<>();
        for (int b = 0; b < image.length / BLOCK; b++) {
            if (saltOf(image, b) != 0) {
                used.add(b);
            }
        }
        return used;
    }

    /** Stamps block {@code block} of {@code image} with a valid checksum for {@code salt} (after a test changed it). */
    public static void restamp(byte[] image, int block, int salt) {
        byte[] b = Arrays.copyOfRange(image, block * BLOCK, (block + 1) * BLOCK);
        Checksums.stamp(b, salt);
        System.arraycopy(b, 0, image, block * BLOCK, BLOCK);
    }
}
