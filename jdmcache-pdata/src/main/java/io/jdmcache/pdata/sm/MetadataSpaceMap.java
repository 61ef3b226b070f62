package io.jdmcache.pdata.sm;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.NoSpaceException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.node.BtreeBuilder;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.node.BtreeReader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeMap;

/**
 * The metadata space map: a reference count for every metadata block, in the kernel's on-disk format
 * (index block, bitmap blocks of 2-bit counts, overflow btree of u32 counts for counts of 3 or more).
 *
 * <p>Design: metadata devices are small (at most 4,161,600 blocks), so the counts live in memory: the
 * current counts in an {@code int[]}, and the committed transaction's "in use" set in a bitset. A block can
 * be allocated only when its count is zero in both, so no block reachable from the committed superblock is
 * ever overwritten, and blocks freed in this transaction are not reused before the commit.
 *
 * <p>{@link #commit()} writes the changed bitmaps and a new index block, each to a freshly allocated
 * location (shadowing them; allocating those locations may change other bitmaps, which are then relocated
 * too, until nothing is left), and rebuilds the overflow btree when a count of three or more changed.
 *
 * <p>Not thread-safe: the transaction manager's owner serialises writers.
 */
public final class MetadataSpaceMap {
    public static final int ENTRIES_PER_BITMAP = BitmapBlock.ENTRIES;
    public static final long MAX_BLOCKS = (long) IndexBlock.MAX_ENTRIES * ENTRIES_PER_BITMAP;
    private static final int OVERFLOW_VALUE_SIZE = 4;

    private final BlockManager bm;
    private final int nrBlocks;
    private final int nrBitmaps;
    private final int[] counts;
    private final long[] committedUsed;
    private final long[] bitmapLoc;
    private final boolean[] bitmapChanged;
    private final boolean[] bitmapNew;
    private long indexLoc;
    private boolean indexNew;
    private long overflowRoot;
    private long[] overflowNodes;
    private boolean overflowChanged;
    private boolean changed;
    private int nrAllocated;
    private int nrAllocatable;
    private int allocHint;
    private SpaceMapRoot lastRoot;

    private MetadataSpaceMap(BlockManager bm, long nrBlocks) {
        if (nrBlocks <= 0 || nrBlocks > MAX_BLOCKS) {
            throw new IllegalArgumentException("space map of " + nrBlocks + " blocks (1.." + MAX_BLOCKS + ")");
        }
        this.bm = bm;
        this.nrBlocks = (int) nrBlocks;
        this.nrBitmaps = (int) ((nrBlocks + ENTRIES_PER_BITMAP - 1) / ENTRIES_PER_BITMAP);
        this.counts = new int[this.nrBlocks];
        this.committedUsed = new long[(this.nrBlocks + 63) >>> 6];
        this.bitmapLoc = new long[nrBitmaps];
        this.bitmapChanged = new boolean[nrBitmaps];
        this.bitmapNew = new boolean[nrBitmaps];
    }

    /** The number of blocks a space map manages on a device of {@code deviceBlocks} blocks. */
    public static long blocksManaged(long deviceBlocks) {
        return Math.min(deviceBlocks, MAX_BLOCKS);
    }

    /**
     * A new space map over the first {@code nrBlocks} blocks, with blocks {@code 0..reserved-1} counted
     * once (the superblock) and its own index, overflow root and bitmaps allocated. Nothing is durable until
     * {@link #commit()} and the caller's superblock write.
     */
    public static MetadataSpaceMap format(BlockManager bm, long nrBlocks, int reserved) throws MetadataException {
        MetadataSpaceMap sm = new MetadataSpaceMap(bm, nrBlocks);
        sm.nrAllocatable = sm.nrBlocks;
        for (int b = 0; b < reserved; b++) {
            sm.setCount(b, 1);
        }
        sm.indexLoc = sm.allocate();
        sm.indexNew = true;
        try (WriteBlock w = bm.writeZeroed(sm.allocate(), BtreeNode.VALIDATOR)) {
            BtreeNode.init(w.data(), BtreeNode.LEAF, OVERFLOW_VALUE_SIZE);
            sm.overflowRoot = w.location();
            sm.overflowNodes = new long[] {w.location()};
        }
        for (int i = 0; i < sm.nrBitmaps; i++) {
            sm.bitmapLoc[i] = sm.allocate();
            sm.bitmapNew[i] = true;
            sm.bitmapChanged[i] = true;
        }
        sm.changed = true;
        return sm;
    }

    /** Loads a committed space map from its root, validating every block on the way. */
    public static MetadataSpaceMap open(BlockManager bm, SpaceMapRoot root) throws MetadataException {
        long nr = root.nrBlocks();
        if (nr <= 0 || nr > MAX_BLOCKS) {
            throw new CorruptBlockException("superblock", 0, "space map manages " + nr
                    + " blocks (must be 1.." + MAX_BLOCKS + ")");
        }
        if (nr > bm.nrBlocks() && !bm.isReadOnly()) {
            // a reader may go on (every block it reads is bounds-checked), but a writer would allocate
            // blocks that do not exist
            throw new CorruptBlockException("superblock", 0, "space map manages " + nr
                    + " blocks but the metadata device has only " + bm.nrBlocks());
        }
        MetadataSpaceMap sm = new MetadataSpaceMap(bm, nr);
        sm.indexLoc = root.indexBlock();
        sm.overflowRoot = root.refCountRoot();

        TreeMap<Long, Integer> overflow = new TreeMap<>();
        List<Long> nodes = new ArrayList<>();
        collectNodes(bm, sm.overflowRoot, nodes, 0);
        BtreeReader.walk(bm, sm.overflowRoot, OVERFLOW_VALUE_SIZE, (key, leaf, off) -> {
            overflow.put(key, (int) Bytes.u32(leaf, off));
            return true;
        });
        sm.overflowNodes = nodes.stream().mapToLong(Long::longValue).toArray();

        try (ReadBlock idx = bm.read(sm.indexLoc, IndexBlock.VALIDATOR)) {
            for (int i = 0; i < sm.nrBitmaps; i++) {
                sm.bitmapLoc[i] = IndexBlock.bitmapBlock(idx.data(), i);
            }
        }
        for (int i = 0; i < sm.nrBitmaps; i++) {
            int base = i * ENTRIES_PER_BITMAP;
            int n = Math.min(ENTRIES_PER_BITMAP, sm.nrBlocks - base);
            try (ReadBlock bmp = bm.read(sm.bitmapLoc[i], BitmapBlock.VALIDATOR)) {
                BitmapBlock.decode(bmp.data(), n, sm.counts, base);
            }
            for (int j = 0; j < n; j++) {
                if (sm.counts[base + j] == 3) {
                    Integer c = overflow.get((long) (base + j));
                    if (c == null || c < 3) {
                        throw new CorruptBlockException(BitmapBlock.KIND, sm.bitmapLoc[i], "block " + (base + j)
                                + " has count 3 or more but the reference count tree says "
                                + (c == null ? "nothing" : c.toString()));
                    }
                    sm.counts[base + j] = c;
                }
            }
        }
        for (int b = 0; b < sm.nrBlocks; b++) {
            if (sm.counts[b] != 0) {
                sm.nrAllocated++;
                sm.committedUsed[b >>> 6] |= 1L << b;
            }
        }
        sm.nrAllocatable = sm.nrBlocks - sm.nrAllocated;
        sm.lastRoot = new SpaceMapRoot(nr, sm.nrAllocated, sm.indexLoc, sm.overflowRoot);
        return sm;
    }

    private static void collectNodes(BlockManager bm, long b, List<Long> out, int depth) throws MetadataException {
        if (depth > BtreeReader.MAX_DEPTH) {
            throw new CorruptBlockException(BtreeNode.KIND, b, "reference count tree too deep");
        }
        out.add(b);
        long[] children;
        try (ReadBlock n = bm.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = n.data();
            if (BtreeNode.isLeaf(d)) {
                return;
            }
            children = new long[BtreeNode.nrEntries(d)];
            for (int i = 0; i < children.length; i++) {
                children[i] = BtreeNode.value64(d, i);
            }
        }
        for (long c : children) {
            collectNodes(bm, c, out, depth + 1);
        }
    }

    public long nrBlocks() {
        return nrBlocks;
    }

    /** Blocks with a non-zero count now. */
    public long nrAllocated() {
        return nrAllocated;
    }

    /** Blocks that can be allocated now: count zero now and in the committed transaction. */
    public long nrFree() {
        return nrAllocatable;
    }

    /** True when any count changed since the last commit. */
    public boolean changed() {
        return changed;
    }

    public int count(long b) {
        checkBlock(b);
        return counts[(int) b];
    }

    /** True when {@code b} was in use at the last commit. */
    public boolean usedInCommitted(long b) {
        checkBlock(b);
        return (committedUsed[(int) (b >>> 6)] & (1L << b)) != 0;
    }

    /** Allocates a block that is free now and was free at the last commit; its count becomes 1. */
    public long allocate() throws NoSpaceException {
        int start = allocHint;
        int b = findFree(start, nrBlocks);
        if (b < 0) {
            b = findFree(0, start);
        }
        if (b < 0) {
            throw new NoSpaceException(nrBlocks);
        }
        allocHint = b + 1 == nrBlocks ? 0 : b + 1;
        setCount(b, 1);
        return b;
    }

    private int findFree(int from, int to) {
        for (int b = from; b < to; b++) {
            if (counts[b] == 0 && (committedUsed[b >>> 6] & (1L << b)) == 0) {
                return b;
            }
        }
        return -1;
    }

    public void inc(long b) {
        checkBlock(b);
        int c = counts[(int) b];
        if (c == Integer.MAX_VALUE) {
            throw new IllegalStateException("reference count of block " + b + " overflows");
        }
        setCount((int) b, c + 1);
    }

    /** Decrements; a block whose count reaches zero is free again after the next commit. */
    public void dec(long b) {
        checkBlock(b);
        int c = counts[(int) b];
        if (c == 0) {
            throw new IllegalStateException("reference count of block " + b + " is already zero");
        }
        setCount((int) b, c - 1);
    }

    private void checkBlock(long b) {
        if (b < 0 || b >= nrBlocks) {
            throw new IllegalArgumentException("block " + b + " outside the space map (" + nrBlocks + " blocks)");
        }
    }

    private void setCount(int b, int c) {
        int old = counts[b];
        counts[b] = c;
        if (old == 0 && c != 0) {
            nrAllocated++;
            if ((committedUsed[b >>> 6] & (1L << b)) == 0) {
                nrAllocatable--;
            }
        } else if (old != 0 && c == 0) {
            nrAllocated--;
            if ((committedUsed[b >>> 6] & (1L << b)) == 0) {
                nrAllocatable++;
            }
        }
        if (old >= 3 || c >= 3) {
            overflowChanged = true;
        }
        bitmapChanged[b / ENTRIES_PER_BITMAP] = true;
        changed = true;
    }

    /** A copy of the current counts (for checkers). */
    public int[] countsSnapshot() {
        return counts.clone();
    }

    /** The root as of the last commit (or open). */
    public SpaceMapRoot committedRoot() {
        return lastRoot;
    }

    /**
     * Writes the changed parts of the space map to new locations and returns the new root. The caller
     * must flush the block manager before writing the superblock that holds the root.
     */
    public SpaceMapRoot commit() throws MetadataException {
        if (!changed && lastRoot != null) {
            return lastRoot;
        }
        if (overflowChanged) {
            rebuildOverflow();
        }
        if (!indexNew) {
            long ni = allocate();
            dec(indexLoc);
            indexLoc = ni;
            indexNew = true;
        }
        boolean moved = true;
        while (moved) {
            moved = false;
            for (int i = 0; i < nrBitmaps; i++) {
                if (bitmapChanged[i] && !bitmapNew[i]) {
                    long nb = allocate();
                    dec(bitmapLoc[i]);
                    bitmapLoc[i] = nb;
                    bitmapNew[i] = true;
                    moved = true;
                }
            }
        }
        try (WriteBlock idx = bm.writeZeroed(indexLoc, IndexBlock.VALIDATOR)) {
            for (int i = 0; i < nrBitmaps; i++) {
                int base = i * ENTRIES_PER_BITMAP;
                int n = Math.min(ENTRIES_PER_BITMAP, nrBlocks - base);
                if (bitmapChanged[i]) {
                    try (WriteBlock w = bm.writeZeroed(bitmapLoc[i], BitmapBlock.VALIDATOR)) {
                        BitmapBlock.encode(w.data(), counts, base, n);
                    }
                }
                int free = 0;
                int firstFree = -1;
                for (int j = 0; j < n; j++) {
                    if (counts[base + j] == 0) {
                        free++;
                        if (firstFree < 0) {
                            firstFree = j;
                        }
                    }
                }
                IndexBlock.setEntry(idx.data(), i, bitmapLoc[i], free, firstFree < 0 ? n : firstFree);
            }
        }
        Arrays.fill(committedUsed, 0);
        for (int b = 0; b < nrBlocks; b++) {
            if (counts[b] != 0) {
                committedUsed[b >>> 6] |= 1L << b;
            }
        }
        nrAllocatable = nrBlocks - nrAllocated;
        Arrays.fill(bitmapChanged, false);
        Arrays.fill(bitmapNew, false);
        indexNew = false;
        overflowChanged = false;
        changed = false;
        lastRoot = new SpaceMapRoot(nrBlocks, nrAllocated, indexLoc, overflowRoot);
        return lastRoot;
    }

    private void rebuildOverflow() throws MetadataException {
        for (long node : overflowNodes) {
            dec(node);
        }
        int n = 0;
        for (int c : counts) {
            if (c >= 3) {
                n++;
            }
        }
        List<Long> created = new ArrayList<>();
        BtreeBuilder builder = new BtreeBuilder(v -> {
            WriteBlock w = bm.writeZeroed(allocate(), v);
            created.add(w.location());
            return w;
        }, OVERFLOW_VALUE_SIZE, n);
        for (int b = 0; b < nrBlocks; b++) {
            if (counts[b] >= 3) {
                builder.add(b, counts[b]);
            }
        }
        overflowRoot = builder.finish();
        overflowNodes = created.stream().mapToLong(Long::longValue).toArray();
        overflowChanged = false;
    }
}
