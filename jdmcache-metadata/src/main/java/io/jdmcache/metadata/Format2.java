package io.jdmcache.metadata;

import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.bitset.BitsetCursor;
import io.jdmcache.pdata.block.MetadataException;

/** Format 2: dirty bits in a separate bitset at {@code dirty_root}, rewritten whole with the fast bulk create. */
final class Format2 implements DirtyFormat {

    @Override
    public int allowedMappingFlags() {
        return Mapping.VALID;
    }

    @Override
    public void format(MetadataCore core) throws MetadataException {
        core.dirtyRoot = core.bitset.empty();
    }

    @Override
    public void checkDirtyBits(MetadataCore core, long[] words, long nrBits) {
        if (nrBits != core.cacheBlocks) {
            throw new IllegalArgumentException("format 2 dirty bits must cover all " + core.cacheBlocks
                    + " cache blocks, not " + nrBits);
        }
        DirtyFormat.super.checkDirtyBits(core, words, nrBits);
    }

    @Override
    public void setDirtyBits(MetadataCore core, long[] words, long nrBits) throws MetadataException {
        checkDirtyBits(core, words, nrBits);
        core.bitset.delete(core.dirtyRoot);
        core.dirtyRoot = core.bitset.createFromWords(nrBits, words);
        core.changed = true;
    }

    @Override
    public void setDirtyWord(MetadataCore core, long w, long value) throws MetadataException {
        if (core.bitset.word(core.dirtyRoot, w) != value) {
            core.dirtyRoot = core.bitset.setWord(core.dirtyRoot, w, value);
            core.changed = true;
        }
    }

    @Override
    public void resize(MetadataCore core, long oldBlocks, long newBlocks) throws MetadataException {
        core.dirtyRoot = core.bitset.resize(core.dirtyRoot, oldBlocks, newBlocks, false);
    }

    @Override
    public long firstDirty(MetadataCore core, long from, long to) throws MetadataException {
        // a dirty bit counts only on a mapped block: tools-made images set the bits of unmapped blocks
        BitsetCursor c = BitsetCursor.open(core.tm, core.dirtyRoot, to);
        ArrayCursor m = ArrayCursor.open(core.tm, core.mappingRoot, 8, to);
        while (c.next() && m.next()) {
            if (c.index() >= from && c.bit() && Mapping.valid(m.value())) {
                return c.index();
            }
        }
        return -1;
    }

    @Override
    public DirtySource openDirtySource(MetadataCore core) throws MetadataException {
        BitsetCursor c = BitsetCursor.open(core.tm, core.dirtyRoot, core.cacheBlocks);
        return (cblock, value) -> {
            if (!c.next() || c.index() != cblock) {
                throw new IllegalStateException("dirty bitset cursor out of step at cache block " + cblock);
            }
            return c.bit();
        };
    }
}
