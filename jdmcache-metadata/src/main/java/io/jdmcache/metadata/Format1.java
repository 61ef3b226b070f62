package io.jdmcache.metadata;

import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.block.MetadataException;

/** Format 1: the DIRTY flag (bit 1) lives in each mapping value. */
final class Format1 implements DirtyFormat {

    @Override
    public int allowedMappingFlags() {
        return Mapping.VALID | Mapping.DIRTY;
    }

    @Override
    public void format(MetadataCore core) {
    }

    @Override
    public void setDirtyBits(MetadataCore core, long[] words, long nrBits) throws MetadataException {
        long n = Math.min(nrBits, core.cacheBlocks);
        // read sequentially, rewrite only the mappings whose dirty flag changes
        long[] changedIdx = new long[64];
        long[] changedVal = new long[64];
        int k = 0;
        ArrayCursor c = ArrayCursor.open(core.tm, core.mappingRoot, 8, n);
        while (c.next()) {
            long i = c.index();
            long v = c.value();
            boolean want = (words[(int) (i >>> 6)] & (1L << i)) != 0 && Mapping.valid(v);
            boolean have = (v & Mapping.DIRTY) != 0;
            if (want != have) {
                if (k == changedIdx.length) {
                    changedIdx = java.util.Arrays.copyOf(changedIdx, k * 2);
                    changedVal = java.util.Arrays.copyOf(changedVal, k * 2);
                }
                changedIdx[k] = i;
                changedVal[k] = want ? v | Mapping.DIRTY : v & ~Mapping.DIRTY;
                k++;
            }
        }
        for (int j = 0; j < k; j++) {
            core.mappingRoot = core.mappings.set(core.mappingRoot, changedIdx[j], changedVal[j]);
        }
        if (k > 0) {
            core.changed = true;
        }
    }

    @Override
    public void setDirtyWord(MetadataCore core, long w, long value) throws MetadataException {
        long end = Math.min(core.cacheBlocks, w * 64 + 64);
        for (long i = w * 64; i < end; i++) {
            long v = core.mappings.get(core.mappingRoot, i);
            if (!Mapping.valid(v)) {
                continue;
            }
            boolean want = (value & (1L << i)) != 0;
            if (want != ((v & Mapping.DIRTY) != 0)) {
                core.mappingRoot = core.mappings.set(core.mappingRoot, i, want ? v | Mapping.DIRTY : v & ~Mapping.DIRTY);
                core.changed = true;
            }
        }
    }

    @Override
    public void resize(MetadataCore core, long oldBlocks, long newBlocks) {
    }

    @Override
    public long firstDirty(MetadataCore core, long from, long to) throws MetadataException {
        ArrayCursor c = ArrayCursor.open(core.tm, core.mappingRoot, 8, to);
        while (c.next()) {
            long v = c.value();
            if (c.index() >= from && Mapping.valid(v) && (v & Mapping.DIRTY) != 0) {
                return c.index();
            }
        }
        return -1;
    }

    @Override
    public DirtySource openDirtySource(MetadataCore core) {
        return (cblock, value) -> (value & Mapping.DIRTY) != 0;
    }
}
