package io.jdmcache.tools.check;

import io.jdmcache.pdata.array.ArrayBlock;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.node.BtreeNode;
import io.jdmcache.pdata.node.BtreeReader;

import java.util.Arrays;
import java.util.BitSet;

/**
 * Walks btrees and arrays in salvage mode: every unreadable or malformed part is reported as a lost key
 * range (and the walk goes on with the rest), every block reached is counted in a {@link RefCounter}.
 * Traversal only: what the values mean is judged by the caller's visitor (thin-provisioning-tools' walker
 * and visitor split).
 */
public final class StructureWalker {
    /** Receives each leaf entry of a btree. */
    @FunctionalInterface
    public interface EntryVisitor {
        void entry(long key, byte[] leaf, int valueOffset);
    }

    /** Receives each value of an array, in index order. */
    @FunctionalInterface
    public interface ValueVisitor {
        void value(long index, long value);
    }

    /** Told about a range of keys (btree) or indices (array), [from, to], that could not be read. */
    @FunctionalInterface
    public interface LossSink {
        void lost(long from, long to, String why);
    }

    /** Told about a rule broken without losing data (it still counts as a problem). */
    @FunctionalInterface
    public interface ProblemSink {
        void problem(String what);
    }

    private final BlockManager bm;
    private final RefCounter refs;
    private final BitSet visited = new BitSet();
    private final ProblemSink problems;

    StructureWalker(BlockManager bm, RefCounter refs, ProblemSink problems) {
        this.bm = bm;
        this.refs = refs;
        this.problems = problems;
    }

    /** A walker that counts nothing and ignores rule breaks: for salvage by dump --repair and repair. */
    public static StructureWalker salvage(BlockManager bm) {
        return new StructureWalker(bm, new RefCounter(0), p -> { });
    }

    /** Counts a block that is not a node or array block (superblock, space map blocks). */
    void countBlock(long b, int owner) {
        refs.add(b, owner);
    }

    /** Walks the btree at {@code root}; lost key ranges go to {@code loss}. */
    public void walkBtree(long root, int valueSize, int owner, EntryVisitor v, LossSink loss) {
        int[] leafDepth = {-1};
        walkNode(root, valueSize, owner, v, loss, true, 0, -1, 1, leafDepth);
    }

    private void walkNode(long b, int vs, int owner, EntryVisitor v, LossSink loss, boolean isRoot, long lo,
                          long hi, int depth, int[] leafDepth) {
        String range = hi < 0 ? "[" + lo + ", -]" : "[" + lo + ", " + (hi - 1) + "]";
        long lastKey = hi < 0 ? Long.MAX_VALUE : hi - 1;
        if (b < 0 || b >= bm.nrBlocks()) {
            loss.lost(lo, lastKey, "block out of bounds (" + Long.toUnsignedString(b) + " >= " + bm.nrBlocks() + ")");
            return;
        }
        refs.add(b, owner);
        if (visited.get((int) b)) {
            loss.lost(lo, lastKey, "btree node " + b + " is reached a second time (a cycle or a shared block)");
            return;
        }
        visited.set((int) b);
        if (depth > BtreeReader.MAX_DEPTH) {
            loss.lost(lo, lastKey, "btree deeper than " + BtreeReader.MAX_DEPTH + " levels at block " + b);
            return;
        }
        long[] keys;
        long[] children;
        try (ReadBlock r = bm.read(b, BtreeNode.VALIDATOR)) {
            byte[] d = r.data();
            int nr = BtreeNode.nrEntries(d);
            int max = BtreeNode.maxEntries(d);
            boolean leaf = BtreeNode.isLeaf(d);
            int nodeVs = BtreeNode.valueSize(d);
            if (leaf && nodeVs != vs) {
                loss.lost(lo, lastKey, "value size " + nodeVs + ", expected " + vs + " (btree node, block " + b + ")");
                return;
            }
            if (max % 3 != 0) {
                problems.problem("max_entries " + max + " is not divisible by 3 (btree node, block " + b + ")");
            }
            if (!isRoot && nr < max / 3) {
                problems.problem("too few entries: " + nr + " < " + max / 3 + " (btree node, block " + b + ")");
            }
            if (!leaf && nr == 0) {
                loss.lost(lo, lastKey, "empty internal node (block " + b + ")");
                return;
            }
            keys = new long[nr];
            for (int i = 0; i < nr; i++) {
                keys[i] = BtreeNode.key(d, i);
                if (i > 0 && Long.compareUnsigned(keys[i], keys[i - 1]) <= 0) {
                    loss.lost(lo, lastKey, "keys are out of order, " + keys[i - 1] + " >= " + keys[i]
                            + " (btree node, block " + b + ")");
                    return;
                }
                if ((i > 0 && Long.compareUnsigned(keys[i], lo) < 0)
                        || (hi >= 0 && Long.compareUnsigned(keys[i], hi) >= 0)) {
                    loss.lost(lo, lastKey, "key " + keys[i] + " outside the range " + range
                            + " its parent gives (btree node, block " + b + ")");
                    return;
                }
            }
            if (leaf) {
                if (leafDepth[0] < 0) {
                    leafDepth[0] = depth;
                } else if (leafDepth[0] != depth) {
                    problems.problem("leaf at depth " + depth + " but others at " + leafDepth[0] + " (block " + b + ")");
                }
                for (int i = 0; i < nr; i++) {
                    v.entry(keys[i], d, BtreeNode.valueOffset(d, i));
                }
                return;
            }
            children = new long[nr];
            for (int i = 0; i < nr; i++) {
                children[i] = BtreeNode.value64(d, i);
            }
        } catch (MetadataException e) {
            loss.lost(lo, lastKey, e.getMessage());
            return;
        }
        for (int i = 0; i < children.length; i++) {
            long childLo = i == 0 ? lo : keys[i];
            long childHi = i + 1 < keys.length ? keys[i + 1] : hi;
            walkNode(children[i], vs, owner, v, loss, false, childLo, childHi, depth + 1, leafDepth);
        }
    }

    /**
     * Walks the array of {@code length} values of {@code width} bytes at {@code root}. Unreadable parts are
     * reported as lost index ranges; an array block index past the end (the kernel's shrink can leave one)
     * is a problem but not a loss.
     */
    public void walkArray(long root, int width, long length, int owner, ValueVisitor v, LossSink loss) {
        int per = ArrayBlock.maxEntriesFor(width);
        long nBlocks = (length + per - 1) / per;
        long[][] found = {new long[16], new long[16]};
        int[] n = {0};
        walkBtree(root, 8, owner, (key, leaf, off) -> {
            if (n[0] == found[0].length) {
                found[0] = Arrays.copyOf(found[0], n[0] * 2);
                found[1] = Arrays.copyOf(found[1], n[0] * 2);
            }
            found[0][n[0]] = key;
            found[1][n[0]] = Bytes.i64(leaf, off);
            n[0]++;
        }, (from, to, why) -> {
            long first = from * per;
            if (first >= length) {
                problems.problem("array blocks " + from + ".. past the end are unreadable: " + why);
                return;
            }
            long last = to == Long.MAX_VALUE || to >= nBlocks ? length - 1 : Math.min(length - 1, (to + 1) * per - 1);
            loss.lost(first, last, why);
        });
        long[] keys = found[0];
        long[] locs = found[1];
        long expected = 0;
        int prefetchedTo = -1;
        for (int i = 0; i < n[0]; i++) {
            long bi = keys[i];
            if (bi >= nBlocks) {
                problems.problem("array block index " + bi + " is past the end of the array (" + length
                        + " entries need " + nBlocks + " blocks)");
                countArrayBlock(locs[i], owner);
                continue;
            }
            if (bi > expected) {
                loss.lost(expected * per, bi * per - 1, "missing array blocks " + expected + ".." + (bi - 1));
            }
            expected = bi + 1;
            if (i > prefetchedTo) {
                int run = 1;
                while (i + run < n[0] && locs[i + run] == locs[i] + run && run < 128) {
                    run++;
                }
                prefetchedTo = i + run - 1;
                if (run > 1) {
                    try {
                        bm.prefetch(locs[i], run);
                    } catch (MetadataException e) {
                        // only a hint: the read below reports the block
                    }
                }
            }
            readArrayBlock(bi, locs[i], width, per, length, owner, v, loss);
        }
        if (expected < nBlocks) {
            long first = expected * per;
            loss.lost(first, length - 1, "missing array blocks " + expected + ".." + (nBlocks - 1));
        }
    }

    private void countArrayBlock(long b, int owner) {
        if (b >= 0 && b < bm.nrBlocks()) {
            refs.add(b, owner);
        }
    }

    private void readArrayBlock(long bi, long loc, int width, int per, long length, int owner, ValueVisitor v,
                                LossSink loss) {
        long first = bi * per;
        int want = (int) Math.min(per, length - first);
        long last = first + want - 1;
        if (loc < 0 || loc >= bm.nrBlocks()) {
            loss.lost(first, last, "block out of bounds (" + Long.toUnsignedString(loc) + " >= " + bm.nrBlocks() + ")");
            return;
        }
        if (refs.add(loc, owner) > 0 && visited.get((int) loc)) {
            loss.lost(first, last, "array block " + loc + " is used a second time");
            return;
        }
        visited.set((int) loc);
        try (ReadBlock r = bm.read(loc, ArrayBlock.VALIDATOR)) {
            byte[] d = r.data();
            if (ArrayBlock.valueSize(d) != width) {
                loss.lost(first, last, "value size " + ArrayBlock.valueSize(d) + ", expected " + width
                        + " (array block " + loc + ")");
                return;
            }
            if (ArrayBlock.maxEntries(d) != per) {
                problems.problem("max_entries " + ArrayBlock.maxEntries(d) + ", expected " + per + " (array block "
                        + loc + ")");
            }
            int nr = ArrayBlock.nrEntries(d);
            int usable = Math.min(nr, want);
            if (width == 8) {
                for (int i = 0; i < usable; i++) {
                    v.value(first + i, Bytes.i64(d, ArrayBlock.HEADER_SIZE + 8 * i));
                }
            } else {
                for (int i = 0; i < usable; i++) {
                    v.value(first + i, Bytes.getN(d, ArrayBlock.HEADER_SIZE + width * i, width));
                }
            }
            if (nr < want) {
                loss.lost(first + nr, last, "array block " + loc + " holds " + nr + " entries, " + want + " expected");
            }
        } catch (MetadataException e) {
            loss.lost(first, last, e.getMessage());
        }
    }
}
