package io.jdmcache.pdata.testing;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.SaltedValidator;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.sm.BitmapBlock;
import io.jdmcache.pdata.sm.IndexBlock;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;
import io.jdmcache.pdata.tm.TransactionManager;
import io.jdmcache.pdata.array.ArrayBlock;

import java.io.IOException;
import java.util.function.LongConsumer;

/**
 * A minimal transactional store for pdata tests: a test superblock at block 0 with the space map root,
 * a commit sequence number and eight (root, length, kind) slots, committed the kernel's way.
 */
public final class TestStore implements AutoCloseable {
    public static final SaltedValidator SB = new SaltedValidator("test superblock", 0x7E57AB1E, 8);
    public static final int SLOTS = 8;

    /** What a slot's root points at, for the reference walk. */
    public enum Kind { NONE, BTREE, ARRAY }

    public final BlockManager bm;
    public final MetadataSpaceMap sm;
    public final TransactionManager tm;
    public final long[] roots = new long[SLOTS];
    public final long[] lengths = new long[SLOTS];
    public final Kind[] kinds = new Kind[SLOTS];
    public final int[] widths = new int[SLOTS];
    public long sequence;

    private TestStore(BlockManager bm, MetadataSpaceMap sm) {
        this.bm = bm;
        this.sm = sm;
        this.tm = new TransactionManager(bm, sm);
        java.util.Arrays.fill(kinds, Kind.NONE);
    }

    public static TestStore format(BlockDevice dev, int cacheBlocks) throws IOException {
        BlockManager bm = new BlockManager(dev, cacheBlocks, false);
        MetadataSpaceMap sm = MetadataSpaceMap.format(bm, MetadataSpaceMap.blocksManaged(bm.nrBlocks()), 1);
        TestStore s = new TestStore(bm, sm);
        s.commit();
        return s;
    }

    public static TestStore open(BlockDevice dev, int cacheBlocks) throws IOException {
        BlockManager bm = new BlockManager(dev, cacheBlocks, false);
        SpaceMapRoot root;
        long[] roots = new long[SLOTS];
        long[] lengths = new long[SLOTS];
        int[] kinds = new int[SLOTS];
        long seq;
        try (ReadBlock sb = bm.read(0, SB)) {
            byte[] d = sb.data();
            root = SpaceMapRoot.unpack(d, 16);
            seq = Bytes.i64(d, 48);
            for (int i = 0; i < SLOTS; i++) {
                roots[i] = Bytes.i64(d, 56 + 8 * i);
                lengths[i] = Bytes.i64(d, 120 + 8 * i);
                kinds[i] = Bytes.i32(d, 184 + 4 * i);
            }
        }
        TestStore s = new TestStore(bm, MetadataSpaceMap.open(bm, root));
        s.sequence = seq;
        for (int i = 0; i < SLOTS; i++) {
            s.roots[i] = roots[i];
            s.lengths[i] = lengths[i];
            s.kinds[i] = Kind.values()[kinds[i] & 0xffff];
            s.widths[i] = kinds[i] >>> 16;
        }
        return s;
    }

    /** The kernel's commit: space map, all blocks, flush, superblock last, flush. */
    public void commit() throws MetadataException {
        SpaceMapRoot smRoot = tm.preCommit();
        WriteBlock sb = bm.writeZeroed(0, SB);
        byte[] d = sb.data();
        smRoot.pack(d, 16);
        sequence++;
        Bytes.put64(d, 48, sequence);
        for (int i = 0; i < SLOTS; i++) {
            Bytes.put64(d, 56 + 8 * i, roots[i]);
            Bytes.put64(d, 120 + 8 * i, lengths[i]);
            Bytes.put32(d, 184 + 4 * i, kinds[i].ordinal() | widths[i] << 16);
        }
        tm.commit(sb);
    }

    /**
     * Walks every structure reachable from the superblock and returns the number of references found per
     * block (block 0, the space map's own blocks, and every slot's tree and array blocks).
     */
    public int[] referencesFound() throws MetadataException {
        int[] refs = new int[(int) sm.nrBlocks()];
        refs[0]++;
        SpaceMapRoot r = sm.committedRoot();
        refs[(int) r.indexBlock()]++;
        int nrBitmaps = (int) ((sm.nrBlocks() + BitmapBlock.ENTRIES - 1) / BitmapBlock.ENTRIES);
        try (ReadBlock idx = bm.read(r.indexBlock(), IndexBlock.VALIDATOR)) {
            for (int i = 0; i < nrBitmaps; i++) {
                refs[(int) IndexBlock.bitmapBlock(idx.data(), i)]++;
            }
        }
        walkTree(r.refCountRoot(), b -> refs[(int) b]++, null);
        for (int i = 0; i < SLOTS; i++) {
            if (kinds[i] == Kind.BTREE) {
                walkTree(roots[i], b -> refs[(int) b]++, null);
            } else if (kinds[i] == Kind.ARRAY) {
                walkTree(roots[i], b -> refs[(int) b]++, b -> refs[(int) b]++);
            }
        }
        return refs;
    }

    private void walkTree(long b, LongConsumer node, LongConsumer leafValueBlock) throws MetadataException {
        node.accept(b);
        try (ReadBlock r = bm.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = r.data();
            int nr = BtreeNode.nrEntries(d);
            long[] vals = new long[nr];
            boolean leaf = BtreeNode.isLeaf(d);
            if (!leaf || leafValueBlock != null) {
                for (int i = 0; i < nr; i++) {
                    vals[i] = BtreeNode.value64(d, i);
                }
            }
            r.close();
            for (long v : leaf ? (leafValueBlock == null ? new long[0] : vals) : vals) {
                if (leaf) {
                    leafValueBlock.accept(v);
                    try (ReadBlock ab = bm.read(v, ArrayBlock.VALIDATOR)) {
                        // validated as an array block
                    }
                } else {
                    walkTree(v, node, leafValueBlock);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        bm.close();
    }
}
