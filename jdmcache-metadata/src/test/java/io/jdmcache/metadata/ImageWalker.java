package io.jdmcache.metadata;

import io.jdmcache.pdata.array.ArrayBlock;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.sm.BitmapBlock;
import io.jdmcache.pdata.sm.IndexBlock;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;
import io.jdmcache.pdata.testing.TreeChecker;

import java.io.IOException;
import java.util.Arrays;

/**
 * Walks a cache metadata image from its superblock without the CacheMetadata code: the space map (index,
 * bitmaps, overflow tree), the mapping array, the hint array, the v2 dirty bitset and the discard bitset.
 * Every block is validated (location, checksum, header), every btree is checked against the kernel's
 * structural rules, every array for its shape (keys 0..k-1, all blocks full but the last, the length its
 * owner records), and the references found per block are compared with the space map's counts.
 */
final class ImageWalker {
    private final BlockManager bm;
    private final Superblock sb;
    private final int[] refs;

    private ImageWalker(BlockManager bm, Superblock sb) {
        this.bm = bm;
        this.sb = sb;
        this.refs = new int[(int) Math.min(sb.spaceMapRoot().nrBlocks(), bm.nrBlocks())];
    }

    /** The result of a walk: what the image holds, the references found, the space map's counts. */
    record Walk(Superblock superblock, Content content, int[] references, int[] counts) {

        /** Fails unless every count equals the references found and nr_allocated is right. */
        void assertExactCounts() {
            for (int b = 0; b < counts.length; b++) {
                if (counts[b] != references[b]) {
                    throw new AssertionError("block " + b + ": space map count " + counts[b] + " but "
                            + references[b] + " references found (" + describe() + ")");
                }
            }
            assertAllocated();
        }

        /** Fails if a reachable block is under-counted (leaks, like cache_restore's, are allowed). */
        void assertNoUnderCount() {
            for (int b = 0; b < counts.length; b++) {
                if (counts[b] < references[b]) {
                    throw new AssertionError("block " + b + ": space map count " + counts[b] + " but "
                            + references[b] + " references found");
                }
            }
            assertAllocated();
        }

        private void assertAllocated() {
            long nonZero = Arrays.stream(counts).filter(c -> c != 0).count();
            if (nonZero != superblock.spaceMapRoot().nrAllocated()) {
                throw new AssertionError("nr_allocated " + superblock.spaceMapRoot().nrAllocated() + " but "
                        + nonZero + " blocks have a count");
            }
        }

        private String describe() {
            return "superblock " + superblock;
        }
    }

    /** Walks the image on {@code dev} (read-only). */
    static Walk walk(BlockDevice dev) throws IOException {
        BlockManager bm = new BlockManager(dev, 64, true);
        Superblock sb;
        try (ReadBlock r = bm.read(0, Superblock.VALIDATOR)) {
            sb = Superblock.unpack(r.data());
        }
        return new ImageWalker(bm, sb).run();
    }

    private Walk run() throws MetadataException {
        if (sb.magic() != Superblock.MAGIC || sb.version() < 1 || sb.version() > 2) {
            throw new AssertionError("bad superblock " + sb);
        }
        refs[0]++;
        int[] counts = spaceMap();
        long n = sb.cacheBlocks();
        long[] mappings = array(sb.mappingRoot(), 8, n);
        long[] dirty = sb.version() >= 2 ? bitset(sb.dirtyRoot(), n) : null;
        if (sb.version() < 2 && sb.dirtyRoot() != 0) {
            throw new AssertionError("format 1 superblock with a dirty root " + sb.dirtyRoot());
        }
        long[] hints = null;
        if (sb.hintRoot() != 0) {
            hints = array(sb.hintRoot(), sb.policyHintSize() == 0 ? 4 : sb.policyHintSize(), -1);
        }
        long[] discards = bitset(sb.discardRoot(), sb.discardNrBlocks());
        Content c = new Content(sb.version(), sb.flags() & ~Superblock.CLEAN_SHUTDOWN, sb.cleanShutdown(),
                sb.dataBlockSize(), mappings, dirty, sb.policyName(), sb.policyVersion(), sb.policyHintSize(), hints,
                sb.discardBlockSize(), sb.discardNrBlocks(), discards, sb.stats());
        return new Walk(sb, c, refs, counts);
    }

    private int[] spaceMap() throws MetadataException {
        SpaceMapRoot root = sb.spaceMapRoot();
        MetadataSpaceMap sm = MetadataSpaceMap.open(bm, root);
        int[] counts = sm.countsSnapshot();
        ref(root.indexBlock());
        int nrBitmaps = (int) ((root.nrBlocks() + BitmapBlock.ENTRIES - 1) / BitmapBlock.ENTRIES);
        try (ReadBlock idx = bm.read(root.indexBlock(), IndexBlock.VALIDATOR)) {
            byte[] d = idx.data();
            for (int i = 0; i < nrBitmaps; i++) {
                long bitmap = IndexBlock.bitmapBlock(d, i);
                ref(bitmap);
                int base = i * BitmapBlock.ENTRIES;
                int entries = (int) Math.min(BitmapBlock.ENTRIES, root.nrBlocks() - base);
                int free = 0;
                int firstFree = -1;
                for (int j = 0; j < entries; j++) {
                    if (counts[base + j] == 0) {
                        free++;
                        if (firstFree < 0) {
                            firstFree = j;
                        }
                    }
                }
                // the kernel skips a bitmap whose nr_free is 0, and searches from none_free_before
                if (free > 0 && IndexBlock.nrFree(d, i) == 0) {
                    throw new AssertionError("bitmap " + i + " has " + free + " free entries but nr_free 0");
                }
                if (firstFree >= 0 && IndexBlock.noneFreeBefore(d, i) > firstFree) {
                    throw new AssertionError("bitmap " + i + ": none_free_before " + IndexBlock.noneFreeBefore(d, i)
                            + " but entry " + firstFree + " is free");
                }
            }
            for (int i = nrBitmaps; i < IndexBlock.MAX_ENTRIES; i++) {
                if (IndexBlock.bitmapBlock(d, i) != 0) {
                    throw new AssertionError("index entry " + i + " used past the " + nrBitmaps + " bitmaps");
                }
            }
        }
        TreeChecker.check(bm, root.refCountRoot(), 4);
        nodes(root.refCountRoot(), null, 0);
        return counts;
    }

    /**
     * The values of the array at {@code root}; {@code length} is what its owner records (-1: not recorded,
     * take the array's own length).
     */
    private long[] array(long root, int width, long length) throws MetadataException {
        TreeChecker.check(bm, root, 8);
        long[][] blocks = new long[1][];
        int[] nrBlocks = {0};
        blocks[0] = new long[16];
        nodes(root, (key, loc) -> {
            if (key != nrBlocks[0]) {
                throw new AssertionError("array at " + root + ": key " + key + " where " + nrBlocks[0] + " belongs");
            }
            if (nrBlocks[0] == blocks[0].length) {
                blocks[0] = Arrays.copyOf(blocks[0], nrBlocks[0] * 2);
            }
            blocks[0][nrBlocks[0]++] = loc;
        }, 0);
        int per = ArrayBlock.maxEntriesFor(width);
        long total = 0;
        long[] values = new long[(int) ((long) per * nrBlocks[0])];
        for (int i = 0; i < nrBlocks[0]; i++) {
            long loc = blocks[0][i];
            ref(loc);
            try (ReadBlock r = bm.read(loc, ArrayBlock.VALIDATOR)) {
                byte[] d = r.data();
                int nr = ArrayBlock.nrEntries(d);
                if (ArrayBlock.valueSize(d) != width || ArrayBlock.maxEntries(d) != per) {
                    throw new AssertionError("array block " + loc + ": value size " + ArrayBlock.valueSize(d)
                            + ", max " + ArrayBlock.maxEntries(d) + " (expected " + width + ", " + per + ")");
                }
                if (i < nrBlocks[0] - 1 && nr != per) {
                    throw new AssertionError("array block " + loc + " (index " + i + ") is not full: " + nr);
                }
                if (nr == 0) {
                    throw new AssertionError("empty array block " + loc);
                }
                for (int j = 0; j < nr; j++) {
                    values[(int) total + j] = io.jdmcache.pdata.block.Bytes.getN(d, ArrayBlock.offset(j, width), width);
                }
                total += nr;
            }
        }
        if (length >= 0 && total != length) {
            throw new AssertionError("array at " + root + " holds " + total + " entries, its owner records " + length);
        }
        return Arrays.copyOf(values, (int) total);
    }

    private long[] bitset(long root, long bits) throws MetadataException {
        long[] words = array(root, 8, (bits + 63) / 64);
        if (bits % 64 != 0) {
            words[words.length - 1] &= (1L << (bits % 64)) - 1;
        }
        return words;
    }

    @FunctionalInterface
    private interface LeafValue {
        void accept(long key, long value);
    }

    /** Counts every node of the tree at {@code b}; hands leaf entries to {@code leaf} (array trees). */
    private void nodes(long b, LeafValue leaf, int depth) throws MetadataException {
        if (depth > 16) {
            throw new AssertionError("tree deeper than 16 at block " + b);
        }
        ref(b);
        long[] keys;
        long[] vals;
        boolean isLeaf;
        try (ReadBlock r = bm.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = r.data();
            int nr = BtreeNode.nrEntries(d);
            isLeaf = BtreeNode.isLeaf(d);
            keys = new long[nr];
            vals = new long[nr];
            for (int i = 0; i < nr; i++) {
                keys[i] = BtreeNode.key(d, i);
                vals[i] = isLeaf && BtreeNode.valueSize(d) != 8 ? 0 : BtreeNode.value64(d, i);
            }
        }
        for (int i = 0; i < keys.length; i++) {
            if (!isLeaf) {
                nodes(vals[i], leaf, depth + 1);
            } else if (leaf != null) {
                leaf.accept(keys[i], vals[i]);
            }
        }
    }

    private void ref(long b) {
        if (b < 0 || b >= refs.length) {
            throw new AssertionError("reference to block " + b + " outside the space map (" + refs.length + ")");
        }
        refs[(int) b]++;
    }
}
