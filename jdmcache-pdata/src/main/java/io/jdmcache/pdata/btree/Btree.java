package io.jdmcache.pdata.btree;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.node.BtreeBuilder;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.node.BtreeReader;
import io.jdmcache.pdata.tm.Shadow;
import io.jdmcache.pdata.tm.TransactionManager;

/**
 * A persistent, copy-on-write btree with u64 keys and fixed-width values (the kernel's dm-btree, single
 * level). The object holds no tree state: every operation takes a root and every change returns the new
 * root, which the caller stores (the old root stays valid if it was committed).
 *
 * <ul>
 *   <li>Insert walks top-down, shadowing each node; a full root is split beneath itself, a full child is
 *       split in two before the walk descends into it, so a parent always has room for the new entry.</li>
 *   <li>Remove walks top-down too; a child at its minimum (max_entries/3) is first merged with or refilled
 *       from a neighbour, so every non-root node keeps at least max_entries/3 entries; an internal root
 *       left with one child absorbs it (the tree loses a level).</li>
 *   <li>Node layout and max_entries are exactly the kernel's.</li>
 * </ul>
 * Complexity O(log n) block locks per operation. Not thread-safe (one writer, the transaction's).
 */
public final class Btree {
    private final TransactionManager tm;
    private final ValueType vt;
    private final int width;

    public Btree(TransactionManager tm, ValueType vt) {
        if (BtreeNode.maxEntriesFor(vt.width()) < 3) {
            throw new IllegalArgumentException("values of " + vt.width() + " bytes do not fit in a node");
        }
        this.tm = tm;
        this.vt = vt;
        this.width = vt.width();
    }

    public ValueType valueType() {
        return vt;
    }

    /** A new empty tree (an empty leaf root). */
    public long create() throws MetadataException {
        try (WriteBlock w = tm.newBlock(BtreeNode.VALIDATOR)) {
            BtreeNode.init(w.data(), BtreeNode.LEAF, width);
            return w.location();
        }
    }

    /** A bulk builder for a new tree of {@code n} entries given in ascending key order. */
    public BtreeBuilder builder(long n) {
        return new BtreeBuilder(tm, width, n);
    }

    /** Copies the value of {@code key} into {@code out} and returns true, or returns false. */
    public boolean lookup(long root, long key, byte[] out) throws MetadataException {
        return BtreeReader.lookup(tm, root, key, out);
    }

    /** The value (of width ≤ 8) of {@code key}, or {@code missing}. */
    public long lookupLong(long root, long key, long missing) throws MetadataException {
        byte[] out = new byte[width];
        return BtreeReader.lookup(tm, root, key, out) ? Bytes.getN(out, 0, width) : missing;
    }

    /** Inserts or overwrites {@code key} with a value of width ≤ 8. Returns the new root. */
    public long insert(long root, long key, long value) throws MetadataException {
        byte[] v = new byte[width];
        Bytes.putN(v, 0, width, value);
        return insert(root, key, v, 0);
    }

    /**
     * Inserts or overwrites {@code key} with the value at {@code value[off..]}; the tree takes over the
     * reference the value holds. On an overwrite with a different value the old value is decremented.
     * Returns the new root.
     */
    public long insert(long root, long key, byte[] value, int off) throws MetadataException {
        WriteBlock node = shadowNode(root);
        long newRoot = node.location();
        try {
            if (isFull(node.data(), key)) {
                splitBeneath(node.data());
            }
            while (true) {
                byte[] d = node.data();
                if (BtreeNode.isLeaf(d)) {
                    insertIntoLeaf(d, key, value, off);
                    return newRoot;
                }
                int i = BtreeNode.lowerBound(d, key);
                if (i < 0) {
                    i = 0;
                    BtreeNode.setKey(d, 0, key);
                }
                WriteBlock child = shadowNode(BtreeNode.value64(d, i));
                BtreeNode.setValue64(d, i, child.location());
                if (isFull(child.data(), key)) {
                    child = splitChild(d, i, child, key);
                }
                node.close();
                node = child;
            }
        } finally {
            node.close();
        }
    }

    /** Removes {@code key} if present. Returns the new root (the same root when the key is absent). */
    public long remove(long root, long key) throws MetadataException {
        byte[] probe = new byte[width];
        if (!lookup(root, key, probe)) {
            return root;
        }
        WriteBlock node = shadowNode(root);
        long newRoot = node.location();
        try {
            while (true) {
                byte[] d = node.data();
                int i = BtreeNode.lowerBound(d, key);
                if (BtreeNode.isLeaf(d)) {
                    if (i < 0 || BtreeNode.key(d, i) != key) {
                        throw new CorruptBlockException(BtreeNode.KIND, node.location(),
                                "key " + key + " vanished during remove");
                    }
                    vt.dec(d, BtreeNode.valueOffset(d, i));
                    BtreeNode.closeGap(d, i);
                    return newRoot;
                }
                WriteBlock child = prepareChildForRemove(d, i, key);
                if (node.location() == newRoot && BtreeNode.nrEntries(d) == 1) {
                    // the root has a single child left: pull the child up into the root block
                    long childLoc = child.location();
                    System.arraycopy(child.data(), 0, d, 0, d.length);
                    child.close();
                    tm.dec(childLoc);
                    continue;
                }
                node.close();
                node = child;
            }
        } finally {
            node.close();
        }
    }

    /** Frees the whole tree (values are decremented; shared subtrees only lose one reference). */
    public void delete(long root) throws MetadataException {
        deleteNode(root, 0);
    }

    private void deleteNode(long b, int depth) throws MetadataException {
        if (depth > BtreeReader.MAX_DEPTH) {
            throw new CorruptBlockException(BtreeNode.KIND, b, "btree deeper than " + BtreeReader.MAX_DEPTH);
        }
        if (tm.refCount(b) > 1) {
            tm.dec(b);
            return;
        }
        long[] children = null;
        try (ReadBlock r = tm.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = r.data();
            int nr = BtreeNode.nrEntries(d);
            if (BtreeNode.isLeaf(d)) {
                for (int i = 0; i < nr; i++) {
                    vt.dec(d, BtreeNode.valueOffset(d, i));
                }
            } else {
                children = new long[nr];
                for (int i = 0; i < nr; i++) {
                    children[i] = BtreeNode.value64(d, i);
                }
            }
        }
        if (children != null) {
            for (long c : children) {
                deleteNode(c, depth + 1);
            }
        }
        tm.dec(b);
    }

    /** An in-order cursor over the tree at {@code root}. */
    public BtreeCursor cursor(long root) throws MetadataException {
        return new BtreeCursor(tm, root, width);
    }

    /** Number of entries (walks every leaf). */
    public long count(long root) throws MetadataException {
        long[] n = new long[1];
        BtreeReader.walk(tm, root, width, (k, leaf, off) -> {
            n[0]++;
            return true;
        });
        return n[0];
    }

    // ------------------------------------------------------------------ insert helpers

    private WriteBlock shadowNode(long b) throws MetadataException {
        Shadow s = tm.shadow(b, BtreeNode.VALIDATOR);
        if (s.incChildren()) {
            incChildren(s.block().data());
        }
        return s.block();
    }

    private void incChildren(byte[] d) throws MetadataException {
        int nr = BtreeNode.nrEntries(d);
        if (BtreeNode.isLeaf(d)) {
            for (int i = 0; i < nr; i++) {
                vt.inc(d, BtreeNode.valueOffset(d, i));
            }
        } else {
            for (int i = 0; i < nr; i++) {
                tm.inc(BtreeNode.value64(d, i));
            }
        }
    }

    /** Full, unless it is a leaf that already holds {@code key} (an overwrite needs no slot). */
    private static boolean isFull(byte[] d, long key) {
        int nr = BtreeNode.nrEntries(d);
        if (nr < BtreeNode.maxEntries(d)) {
            return false;
        }
        if (BtreeNode.isLeaf(d)) {
            int i = BtreeNode.lowerBound(d, key);
            return i < 0 || BtreeNode.key(d, i) != key;
        }
        return true;
    }

    private void insertIntoLeaf(byte[] d, long key, byte[] value, int off) throws MetadataException {
        if (BtreeNode.valueSize(d) != width) {
            throw new IllegalStateException("leaf value size " + BtreeNode.valueSize(d) + " != " + width);
        }
        int i = BtreeNode.lowerBound(d, key);
        if (i >= 0 && BtreeNode.key(d, i) == key) {
            int vo = BtreeNode.valueOffset(d, i);
            if (!vt.equal(d, vo, value, off)) {
                vt.dec(d, vo);
                System.arraycopy(value, off, d, vo, width);
            }
            return;
        }
        BtreeNode.openGap(d, i + 1);
        BtreeNode.setKey(d, i + 1, key);
        System.arraycopy(value, off, d, BtreeNode.valueOffset(d, i + 1), width);
    }

    /** Moves a full root's entries into two new children; the root becomes internal with two entries. */
    private void splitBeneath(byte[] root) throws MetadataException {
        int nr = BtreeNode.nrEntries(root);
        int flags = BtreeNode.isLeaf(root) ? BtreeNode.LEAF : BtreeNode.INTERNAL;
        int vs = BtreeNode.valueSize(root);
        int left = nr / 2;
        try (WriteBlock l = tm.newBlock(BtreeNode.VALIDATOR); WriteBlock r = tm.newBlock(BtreeNode.VALIDATOR)) {
            BtreeNode.init(l.data(), flags, vs);
            BtreeNode.init(r.data(), flags, vs);
            BtreeNode.copyEntries(root, 0, l.data(), 0, left);
            BtreeNode.setNrEntries(l.data(), left);
            BtreeNode.copyEntries(root, left, r.data(), 0, nr - left);
            BtreeNode.setNrEntries(r.data(), nr - left);
            BtreeNode.init(root, BtreeNode.INTERNAL, 8);
            BtreeNode.setKey(root, 0, BtreeNode.key(l.data(), 0));
            BtreeNode.setValue64(root, 0, l.location());
            BtreeNode.setKey(root, 1, BtreeNode.key(r.data(), 0));
            BtreeNode.setValue64(root, 1, r.location());
            BtreeNode.setNrEntries(root, 2);
        }
    }

    /**
     * Splits the full child at {@code parent[i]} into itself and a new right sibling (inserted into the
     * parent at i+1) and returns whichever of the two should hold {@code key}, still write-locked.
     */
    private WriteBlock splitChild(byte[] parent, int i, WriteBlock child, long key) throws MetadataException {
        byte[] c = child.data();
        int nr = BtreeNode.nrEntries(c);
        int left = nr / 2;
        WriteBlock right = tm.newBlock(BtreeNode.VALIDATOR);
        byte[] r = right.data();
        BtreeNode.init(r, BtreeNode.isLeaf(c) ? BtreeNode.LEAF : BtreeNode.INTERNAL, BtreeNode.valueSize(c));
        BtreeNode.copyEntries(c, left, r, 0, nr - left);
        BtreeNode.setNrEntries(r, nr - left);
        BtreeNode.setNrEntries(c, left);
        long rightKey = BtreeNode.key(r, 0);
        BtreeNode.openGap(parent, i + 1);
        BtreeNode.setKey(parent, i + 1, rightKey);
        BtreeNode.setValue64(parent, i + 1, right.location());
        if (Long.compareUnsigned(key, rightKey) >= 0) {
            child.close();
            return right;
        }
        right.close();
        return child;
    }

    // ------------------------------------------------------------------ remove helpers

    private static int minEntries(byte[] d) {
        return BtreeNode.maxEntries(d) / 3;
    }

    /**
     * Returns the child of internal node {@code d} that holds {@code key}, shadowed and write-locked, with
     * more than its minimum number of entries (merging with or borrowing from a neighbour if needed).
     */
    private WriteBlock prepareChildForRemove(byte[] d, int i, long key) throws MetadataException {
        long childLoc = BtreeNode.value64(d, i);
        int childNr;
        int childMin;
        try (ReadBlock r = tm.read(childLoc, BtreeNode.VALIDATOR)) {
            childNr = BtreeNode.nrEntries(r.data());
            childMin = minEntries(r.data());
        }
        int nr = BtreeNode.nrEntries(d);
        if (childNr > childMin || nr == 1) {
            WriteBlock child = shadowNode(childLoc);
            BtreeNode.setValue64(d, i, child.location());
            return child;
        }
        int li = i + 1 < nr ? i : i - 1;
        int ri = li + 1;
        WriteBlock l = shadowNode(BtreeNode.value64(d, li));
        BtreeNode.setValue64(d, li, l.location());
        WriteBlock r;
        try {
            r = shadowNode(BtreeNode.value64(d, ri));
        } catch (MetadataException | RuntimeException e) {
            l.close();
            throw e;
        }
        BtreeNode.setValue64(d, ri, r.location());
        byte[] ld = l.data();
        byte[] rd = r.data();
        int ln = BtreeNode.nrEntries(ld);
        int rn = BtreeNode.nrEntries(rd);
        int total = ln + rn;
        int max = Math.min(BtreeNode.maxEntries(ld), BtreeNode.maxEntries(rd));
        if (total <= 2 * (max / 3) + 1 && total <= BtreeNode.maxEntries(ld)) {
            BtreeNode.copyEntries(rd, 0, ld, ln, rn);
            BtreeNode.setNrEntries(ld, total);
            BtreeNode.closeGap(d, ri);
            long rl = r.location();
            r.close();
            tm.dec(rl);
            return l;
        }
        int targetLeft = total / 2;
        if (ln > targetLeft) {
            int move = ln - targetLeft;
            BtreeNode.copyEntries(rd, 0, rd, move, rn);
            BtreeNode.copyEntries(ld, targetLeft, rd, 0, move);
        } else {
            int move = targetLeft - ln;
            BtreeNode.copyEntries(rd, 0, ld, ln, move);
            BtreeNode.copyEntries(rd, move, rd, 0, rn - move);
        }
        BtreeNode.setNrEntries(ld, targetLeft);
        BtreeNode.setNrEntries(rd, total - targetLeft);
        long rightKey = BtreeNode.key(rd, 0);
        BtreeNode.setKey(d, ri, rightKey);
        if (Long.compareUnsigned(key, rightKey) >= 0) {
            l.close();
            return r;
        }
        r.close();
        return l;
    }
}
