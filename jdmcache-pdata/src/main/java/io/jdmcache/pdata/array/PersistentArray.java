package io.jdmcache.pdata.array;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.CorruptBlockException;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.WriteBlock;
import io.jdmcache.pdata.btree.Btree;
import io.jdmcache.pdata.btree.ValueType;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.node.BtreeReader;
import io.jdmcache.pdata.tm.Shadow;
import io.jdmcache.pdata.tm.TransactionManager;

import java.util.function.LongUnaryOperator;

/**
 * A persistent fixed-length array of fixed-width values (the kernel's dm_array): a btree from array-block
 * index (0, 1, 2, ...) to array blocks of {@code ⌊4072 / width⌋} values each; every block is full except
 * the last. The length is not stored: the owner keeps it and passes it in.
 *
 * <p>Values are at most 8 bytes wide and carry no references. The object holds no array state; every
 * change returns the new root. Not thread-safe (one writer per transaction).
 */
public final class PersistentArray {
    private final TransactionManager tm;
    private final int width;
    private final int perBlock;
    private final Btree tree;

    public PersistentArray(TransactionManager tm, int width) {
        if (width < 1 || width > 8) {
            throw new IllegalArgumentException("array value width " + width + " (1..8)");
        }
        this.tm = tm;
        this.width = width;
        this.perBlock = ArrayBlock.maxEntriesFor(width);
        this.tree = new Btree(tm, ValueType.blockRef(tm));
    }

    public int width() {
        return width;
    }

    /** Values per array block. */
    public int entriesPerBlock() {
        return perBlock;
    }

    /** A new empty array. */
    public long empty() throws MetadataException {
        return tree.create();
    }

    /** A new array of {@code n} values, value i being {@code fill(i)} (the kernel's dm_array_new). */
    public long create(long n, LongUnaryOperator fill) throws MetadataException {
        ArrayBuilder b = new ArrayBuilder(tm, width, n);
        for (long i = 0; i < n; i++) {
            b.append(fill.applyAsLong(i));
        }
        return b.finish();
    }

    /** A builder for a new array of {@code n} values given in order. */
    public ArrayBuilder builder(long n) {
        return new ArrayBuilder(tm, width, n);
    }

    /** Value {@code i} (which must be below the owner's length). */
    public long get(long root, long i) throws MetadataException {
        long bi = i / perBlock;
        int slot = (int) (i % perBlock);
        long loc = blockOf(root, bi, i);
        try (ReadBlock r = tm.read(loc, ArrayBlock.VALIDATOR)) {
            checkSlot(r.data(), loc, slot, i);
            return Bytes.getN(r.data(), ArrayBlock.offset(slot, width), width);
        }
    }

    /** Sets value {@code i}; returns the new root. */
    public long set(long root, long i, long value) throws MetadataException {
        long bi = i / perBlock;
        int slot = (int) (i % perBlock);
        long loc = blockOf(root, bi, i);
        Shadow s = tm.shadow(loc, ArrayBlock.VALIDATOR);
        try (WriteBlock w = s.block()) {
            checkSlot(w.data(), loc, slot, i);
            Bytes.putN(w.data(), ArrayBlock.offset(slot, width), width, value);
        }
        return rehome(root, bi, loc, s.location());
    }

    /**
     * Changes the length from {@code oldLength} to {@code newLength}; new values are {@code fill}. Shrinking
     * frees the blocks beyond the new end and trims the new last block. Returns the new root.
     */
    public long resize(long root, long oldLength, long newLength, long fill) throws MetadataException {
        if (oldLength < 0 || newLength < 0) {
            throw new IllegalArgumentException("negative array length");
        }
        if (newLength == oldLength) {
            return root;
        }
        long oldBlocks = blocksFor(oldLength);
        long newBlocks = blocksFor(newLength);
        if (newLength > oldLength) {
            int tail = (int) (oldLength % perBlock);
            if (tail != 0) {
                long bi = oldBlocks - 1;
                int newCount = (int) Math.min(perBlock, newLength - bi * perBlock);
                root = setCount(root, bi, newCount, tail, fill);
            }
            for (long bi = oldBlocks; bi < newBlocks; bi++) {
                int count = (int) Math.min(perBlock, newLength - bi * perBlock);
                long loc;
                try (WriteBlock w = tm.newBlock(ArrayBlock.VALIDATOR)) {
                    ArrayBlock.init(w.data(), width, count);
                    if (fill != 0) {
                        for (int j = 0; j < count; j++) {
                            Bytes.putN(w.data(), ArrayBlock.offset(j, width), width, fill);
                        }
                    }
                    loc = w.location();
                }
                root = tree.insert(root, bi, loc);
            }
            return root;
        }
        for (long bi = oldBlocks - 1; bi >= newBlocks; bi--) {
            root = tree.remove(root, bi);
        }
        int tail = (int) (newLength % perBlock);
        if (tail != 0) {
            root = setCount(root, newBlocks - 1, tail, tail, 0);
        }
        return root;
    }

    /**
     * The length the stored array actually has (its last block's key and entry count), for arrays whose owner
     * may have changed the recorded length without resizing this one (the hint array after a cache resize).
     * O(depth) block reads.
     */
    public long length(long root) throws MetadataException {
        long b = root;
        for (int depth = 0; depth < BtreeReader.MAX_DEPTH; depth++) {
            long last;
            long loc;
            try (ReadBlock r = tm.read(b, BtreeNode.VALIDATOR)) {
                byte[] d = r.data();
                int nr = BtreeNode.nrEntries(d);
                if (nr == 0) {
                    return 0;
                }
                if (!BtreeNode.isLeaf(d)) {
                    b = BtreeNode.value64(d, nr - 1);
                    continue;
                }
                last = BtreeNode.key(d, nr - 1);
                loc = BtreeNode.value64(d, nr - 1);
            }
            try (ReadBlock r = tm.read(loc, ArrayBlock.VALIDATOR)) {
                return last * perBlock + ArrayBlock.nrEntries(r.data());
            }
        }
        throw new CorruptBlockException(BtreeNode.KIND, b, "array btree deeper than " + BtreeReader.MAX_DEPTH);
    }

    /** Frees the whole array. */
    public void delete(long root) throws MetadataException {
        tree.delete(root);
    }

    // ------------------------------------------------------------------ internals

    private long blocksFor(long length) {
        return (length + perBlock - 1) / perBlock;
    }

    private long blockOf(long root, long bi, long index) throws MetadataException {
        long loc = tree.lookupLong(root, bi, -1);
        if (loc == -1) {
            throw new CorruptBlockException(ArrayBlock.KIND, -1, "array block " + bi + " holding entry "
                    + index + " is missing");
        }
        return loc;
    }

    private void checkSlot(byte[] d, long loc, int slot, long index) throws CorruptBlockException {
        if (ArrayBlock.valueSize(d) != width) {
            throw new CorruptBlockException(ArrayBlock.KIND, loc, "value size " + ArrayBlock.valueSize(d)
                    + ", expected " + width);
        }
        if (slot >= ArrayBlock.nrEntries(d)) {
            throw new CorruptBlockException(ArrayBlock.KIND, loc, "entry " + index + " is beyond the "
                    + ArrayBlock.nrEntries(d) + " entries of its array block");
        }
    }

    /**
     * Sets the entry count of block {@code bi} to {@code count}: slots from {@code keep} up to {@code count}
     * get {@code fill}, slots past {@code count} are zeroed.
     */
    private long setCount(long root, long bi, int count, int keep, long fill) throws MetadataException {
        long loc = blockOf(root, bi, bi * perBlock);
        Shadow s = tm.shadow(loc, ArrayBlock.VALIDATOR);
        try (WriteBlock w = s.block()) {
            byte[] d = w.data();
            for (int j = keep; j < count; j++) {
                Bytes.putN(d, ArrayBlock.offset(j, width), width, fill);
            }
            for (int j = count; j < ArrayBlock.nrEntries(d); j++) {
                Bytes.putN(d, ArrayBlock.offset(j, width), width, 0);
            }
            ArrayBlock.setNrEntries(d, count);
        }
        return rehome(root, bi, loc, s.location());
    }

    /** Points the tree at a block's new location after it was shadowed elsewhere. */
    private long rehome(long root, long bi, long oldLoc, long newLoc) throws MetadataException {
        if (newLoc == oldLoc) {
            return root;
        }
        // the shadow already dropped the old block's reference; the overwrite will drop it again
        tm.inc(oldLoc);
        return tree.insert(root, bi, newLoc);
    }
}
