package io.jdmcache.tools.check;

import io.jdmcache.metadata.Mapping;
import io.jdmcache.metadata.Superblock;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.Checksums;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.sm.BitmapBlock;
import io.jdmcache.pdata.sm.IndexBlock;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * cache_check: every check the reference makes, plus the ones it skips: space-map reference counts against
 * a walk of every structure, the dirty and discard bitsets readable and sized, unmapped entries clean,
 * duplicate origin blocks. Problems are collected into a {@link CheckReport}, with the block and structure
 * at fault; the walk goes on after each one.
 */
public final class CacheChecker {
    private static final int CACHE_BLOCKS = 1024;

    private final BlockManager bm;
    private final CheckOptions opts;
    private final CheckReport report = new CheckReport();
    private RefCounter refs;
    private Superblock sb;
    private long[] mapped;
    private boolean lostSomething;

    private LongConsumer progress = done -> { };

    private CacheChecker(BlockDevice dev, CheckOptions opts) throws IOException {
        this.bm = new BlockManager(dev, CACHE_BLOCKS, true);
        this.opts = opts;
    }

    /** Checks the metadata on {@code dev} (opened read-only by the caller). */
    public static CheckReport check(BlockDevice dev, CheckOptions opts) throws IOException {
        return check(dev, opts, null);
    }

    /**
     * As {@link #check(BlockDevice, CheckOptions)}, telling {@code progress} how many mapping entries have been
     * examined (every 64Ki entries; the total is the superblock's cache block count).
     */
    public static CheckReport check(BlockDevice dev, CheckOptions opts, LongConsumer progress) throws IOException {
        CacheChecker c = new CacheChecker(dev, opts);
        if (progress != null) {
            c.progress = progress;
        }
        c.run();
        return c.report;
    }

    private void run() throws IOException {
        report.step("examining superblock");
        if (!checkSuperblock()) {
            return;
        }
        refs = new RefCounter(Math.min(bm.nrBlocks(), MetadataSpaceMap.MAX_BLOCKS));
        refs.add(0, RefCounter.SUPERBLOCK);
        if (opts.superBlockOnly()) {
            checkDiscards();
            return;
        }
        if (!opts.skipMappings()) {
            checkMappings();
            if (sb.version() >= 2) {
                checkDirtyBitset();
            }
        }
        if (!opts.skipHints()) {
            checkHints();
        }
        if (!opts.skipDiscards()) {
            checkDiscards();
        }
        if (opts.complete()) {
            checkSpaceMap();
        }
    }

    /** True when a block starts like an XML document (someone gave a dump to a binary tool). */
    public static boolean looksLikeXml(byte[] block) {
        String head = new String(block, 0, Math.min(64, block.length), StandardCharsets.ISO_8859_1).stripLeading();
        return head.startsWith("<superblock") || head.startsWith("<?xml") || head.startsWith("<!DOCTYPE");
    }

    // ------------------------------------------------------------------ superblock

    private boolean checkSuperblock() throws MetadataException {
        byte[] raw = bm.readRaw(0);
        if (Checksums.stored(raw) != Checksums.compute(raw, Superblock.SALT)) {
            report.error("superblock is corrupt", "bad checksum in superblock");
            if (looksLikeXml(raw)) {
                report.note("This looks like XML.  cache_check only checks the binary metadata format.");
            }
            return false;
        }
        sb = Superblock.unpack(raw);
        int before = report.errors();
        for (String broken : SuperblockRules.broken(raw, sb, bm.nrBlocks())) {
            invalid(broken);
        }
        SpaceMapRoot r = sb.spaceMapRoot();
        boolean valid = report.errors() == before;
        if (valid && r.nrBlocks() > bm.nrBlocks()) {
            // not fatal for the walk: the structures that fit are still checked
            report.error("metadata device too short: the space map covers " + r.nrBlocks()
                    + " blocks but the device holds only " + bm.nrBlocks() + " (truncated?)");
        }
        return valid;
    }

    private void invalid(String detail) {
        report.error("superblock is invalid", detail);
    }

    // ------------------------------------------------------------------ mappings

    private void checkMappings() {
        report.step("examining mapping array");
        long n = sb.cacheBlocks();
        int allowed = sb.version() >= 2 ? Mapping.VALID : Mapping.VALID | Mapping.DIRTY;
        mapped = new long[(int) ((n + 63) >>> 6)];
        DuplicateFinder oblocks = new DuplicateFinder(n);
        StructureWalker w = walker();
        w.walkArray(sb.mappingRoot(), 8, n, RefCounter.MAPPINGS, (cblock, v) -> {
            int flags = Mapping.flags(v);
            long oblock = Mapping.oblock(v);
            if (!Mapping.valid(v)) {
                if ((flags & Mapping.DIRTY) != 0) {
                    report.error("invalid mapping:", "dirty flag on an unmapped cache block [cblock = " + cblock
                            + ", oblock = " + oblock + ", flags = " + flags + "]");
                } else if (v != 0) {
                    report.error("invalid mapping:", "unmapped cache block with data [cblock = " + cblock
                            + ", oblock = " + oblock + ", flags = " + flags + "]");
                }
                return;
            }
            if ((flags & ~allowed) != 0) {
                report.error("invalid mapping:", "unknown flags in mapping [cblock = " + cblock + ", oblock = "
                        + oblock + ", flags = " + flags + "]");
            }
            mapped[(int) (cblock >>> 6)] |= 1L << cblock;
            if ((cblock & 0xffff) == 0) {
                progress.accept(cblock);
            }
            oblocks.add(oblock);
        }, this::lostMappings);
        reportDuplicates(oblocks.duplicates());
    }

    private void lostMappings(long from, long to, String why) {
        lostSomething = true;
        report.error("missing mappings [" + from + ", " + to + "]:", why);
    }

    private void reportDuplicates(long[] dupValues) {
        if (dupValues.length == 0) {
            return;
        }
        Map<Long, Boolean> dups = new HashMap<>();
        for (long d : dupValues) {
            dups.put(d, Boolean.FALSE);
        }
        // a second pass names the cache blocks: every one after the first holder of a duplicated origin
        StructureWalker.salvage(bm).walkArray(sb.mappingRoot(), 8, sb.cacheBlocks(), 0, (cblock, v) -> {
            if (!Mapping.valid(v)) {
                return;
            }
            Boolean seen = dups.get(Mapping.oblock(v));
            if (seen == null) {
                return;
            }
            if (seen) {
                report.error("invalid mapping:", "origin block already mapped [cblock = " + cblock + ", oblock = "
                        + Mapping.oblock(v) + ", flags = " + Mapping.flags(v) + "]");
            } else {
                dups.put(Mapping.oblock(v), Boolean.TRUE);
            }
        }, (f, t, why) -> { });
    }

    // ------------------------------------------------------------------ dirty bitset (format 2)

    private void checkDirtyBitset() {
        report.step("examining dirty bitset");
        if (sb.dirtyRoot() == 0) {
            report.error("dirty bitset not found (dirty_root is 0 in format 2 metadata)");
            lostSomething = true;
            return;
        }
        long n = sb.cacheBlocks();
        long words = (n + 63) >>> 6;
        long[] unmappedDirty = {0, -1};
        walker().walkArray(sb.dirtyRoot(), 8, words, RefCounter.DIRTY, (w, word) -> {
            long bits = word & ~mapped[(int) w];
            if (w == words - 1 && (n & 63) != 0) {
                bits &= (1L << (n & 63)) - 1;
            }
            if (bits != 0) {
                if (unmappedDirty[1] < 0) {
                    unmappedDirty[1] = w * 64 + Long.numberOfTrailingZeros(bits);
                }
                unmappedDirty[0] += Long.bitCount(bits);
            }
        }, (from, to, why) -> {
            lostSomething = true;
            report.error("missing dirty bits [" + from * 64 + ", " + Math.min(n - 1, to * 64 + 63) + "]:", why);
        });
        if (unmappedDirty[0] > 0) {
            report.warning(unmappedDirty[0] + " dirty bits set on unmapped cache blocks (first: " + unmappedDirty[1]
                    + "); harmless, cache_restore 0.9 sets them");
        }
    }

    // ------------------------------------------------------------------ hints

    private void checkHints() {
        report.step(sb.hintRoot() == 0 ? "no hint array present" : "examining hint array");
        if (sb.hintRoot() == 0) {
            return;
        }
        int width = sb.policyHintSize() == 0 ? 4 : sb.policyHintSize();
        if (width != 4) {
            report.error("invalid hint width: " + width);
            return;
        }
        walker().walkArray(sb.hintRoot(), width, sb.cacheBlocks(), RefCounter.HINTS, (i, v) -> { },
                (from, to, why) -> {
                    lostSomething = true;
                    report.error("missing hints [" + from + ", " + to + "]:", why);
                });
    }

    // ------------------------------------------------------------------ discards

    private void checkDiscards() {
        report.step(sb.discardRoot() == 0 ? "no discard bitset present" : "examining discard bitset");
        if (sb.discardRoot() == 0) {
            return;
        }
        long n = sb.discardNrBlocks();
        if (n > 0 && sb.discardBlockSize() == 0) {
            report.error("discard block size is 0 for " + n + " discard blocks");
        }
        long words = (n + 63) >>> 6;
        walker().walkArray(sb.discardRoot(), 8, words, RefCounter.DISCARDS, (w, word) -> { },
                (from, to, why) -> {
                    lostSomething = true;
                    report.error("missing discard bits [" + from * 64 + ", " + Math.min(n - 1, to * 64 + 63) + "]:", why);
                });
    }

    // ------------------------------------------------------------------ space map

    private void checkSpaceMap() {
        report.step("examining space map");
        SpaceMapRoot root = sb.spaceMapRoot();
        int nr = (int) root.nrBlocks();
        int[] counts = new int[nr];
        int bitmaps = (nr + MetadataSpaceMap.ENTRIES_PER_BITMAP - 1) / MetadataSpaceMap.ENTRIES_PER_BITMAP;
        long[] bitmapLoc = new long[bitmaps];
        refs.add(root.indexBlock(), RefCounter.SPACE_MAP);
        try (ReadBlock idx = bm.read(root.indexBlock(), IndexBlock.VALIDATOR)) {
            for (int i = 0; i < bitmaps; i++) {
                bitmapLoc[i] = IndexBlock.bitmapBlock(idx.data(), i);
            }
        } catch (MetadataException e) {
            report.error("space map index unreadable:", e.getMessage());
            return;
        }
        Map<Long, Integer> overflow = new HashMap<>();
        walker().walkBtree(root.refCountRoot(), 4, RefCounter.SPACE_MAP,
                (key, leaf, off) -> overflow.put(key, (int) Bytes.u32(leaf, off)),
                (from, to, why) -> report.error("reference count tree unreadable:", why));
        boolean bitmapsOk = true;
        for (int i = 0; i < bitmaps; i++) {
            refs.add(bitmapLoc[i], RefCounter.SPACE_MAP);
            int base = i * MetadataSpaceMap.ENTRIES_PER_BITMAP;
            int len = Math.min(MetadataSpaceMap.ENTRIES_PER_BITMAP, nr - base);
            try (ReadBlock b = bm.read(bitmapLoc[i], BitmapBlock.VALIDATOR)) {
                BitmapBlock.decode(b.data(), len, counts, base);
            } catch (MetadataException e) {
                report.error("space map bitmap " + i + " (blocks " + base + ".." + (base + len - 1) + ") unreadable:",
                        e.getMessage());
                bitmapsOk = false;
            }
        }
        if (!bitmapsOk) {
            return;
        }
        long allocated = 0;
        long leaked = 0;
        long firstLeak = -1;
        int underCounted = 0;
        for (int b = 0; b < nr; b++) {
            int c = counts[b];
            if (c == 3) {
                Integer full = overflow.get((long) b);
                if (full == null || full < 3) {
                    report.error("block " + b + " has count 3 or more in its bitmap but the reference count tree says "
                            + (full == null ? "nothing" : full));
                    continue;
                }
                c = full;
            }
            if (c != 0) {
                allocated++;
            }
            int expected = b < refs.size() ? refs.count(b) : 0;
            if (c < expected) {
                if (++underCounted <= 20) {
                    report.error("block " + b + " (" + refs.owner(b) + ") is referenced " + expected
                            + " times but its reference count is " + c);
                }
            } else if (c > expected) {
                if (firstLeak < 0) {
                    firstLeak = b;
                }
                leaked++;
            }
        }
        if (underCounted > 20) {
            report.error((underCounted - 20) + " more blocks have reference counts below their references");
        }
        if (allocated != root.nrAllocated()) {
            report.error("space map says " + root.nrAllocated() + " blocks are allocated but its bitmaps count "
                    + allocated);
        }
        if (leaked > 0) {
            String text = leaked + " metadata blocks are counted but not reachable (leaked; first: " + firstLeak + ")";
            if (lostSomething) {
                report.note(text + ", which unreadable structures above explain in part");
            } else {
                report.warning(text + "; harmless, cache_restore 0.9 leaks one");
            }
        }
    }

    private StructureWalker walker() {
        return new StructureWalker(bm, refs, p -> report.error(p));
    }

    /**
     * Clears NEEDS_CHECK in place (only the flags word and the checksum change). Call only after a check
     * that passed; does nothing when the flag is not set, so healthy metadata stays byte-identical.
     *
     * @return whether the flag was set and has been cleared
     */
    public static boolean clearNeedsCheck(BlockDevice rw) throws IOException {
        byte[] b = new byte[BlockManager.BLOCK_SIZE];
        rw.read(0, ByteBuffer.wrap(b));
        int flags = Bytes.i32(b, 4);
        if ((flags & Superblock.NEEDS_CHECK) == 0) {
            return false;
        }
        Bytes.put32(b, 4, flags & ~Superblock.NEEDS_CHECK);
        Checksums.stamp(b, Superblock.SALT);
        rw.write(0, ByteBuffer.wrap(b));
        rw.flush();
        return true;
    }
}
