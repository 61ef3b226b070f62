package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;

import java.util.ArrayList;
import java.util.List;

/**
 * A picture of where the cache is: the origin drawn as a grid of cells, each covering an equal run of origin
 * blocks, with a character for how much of the run is cached and whether any of it is dirty
 * ({@code jdmcache status --map}).
 */
public final class CacheMap {
    /** Cached share of a cell's blocks: none, up to 1/4, up to 1/2, up to 3/4, more but not all, all. */
    static final char[] CACHED = {' ', '.', ':', 'o', 'O', '#'};
    /** A cell with dirty blocks: fewer than half of its cached blocks dirty, or half or more. */
    static final char SOME_DIRTY = 'd';
    static final char MOSTLY_DIRTY = 'D';

    private CacheMap() {
    }

    /** The counts behind a picture: per cell, the cached and the dirty blocks. */
    record Cells(long blocksPerCell, long originBlocks, int[] cached, int[] dirty) {
        int count() {
            return cached.length;
        }

        long cellBlocks(int i) {
            return Math.min(blocksPerCell, originBlocks - i * blocksPerCell);
        }
    }

    /** Counts the cache's mappings into at most {@code maxCells} cells (fewer when the origin has fewer blocks). */
    static Cells count(CacheDevice dev, int maxCells) {
        long origin = dev.originBlocks();
        long per = Math.max(1, (origin + maxCells - 1) / maxCells);
        int n = (int) Math.max(1, (origin + per - 1) / per);
        int[] cached = new int[n];
        int[] dirty = new int[n];
        dev.policy().forEachMapping((cblock, oblock, isDirty, hint) -> {
            if (oblock < origin) {
                int cell = (int) (oblock / per);
                cached[cell]++;
                if (isDirty) {
                    dirty[cell]++;
                }
            }
        });
        return new Cells(per, origin, cached, dirty);
    }

    static char glyph(long cached, long dirty, long blocks) {
        if (dirty > 0) {
            return 2 * dirty >= cached ? MOSTLY_DIRTY : SOME_DIRTY;
        }
        if (cached == 0) {
            return CACHED[0];
        }
        if (cached >= blocks) {
            return CACHED[5];
        }
        long quarter = (4 * cached + blocks - 1) / blocks; // 1..4: up to 1/4, 1/2, 3/4, under all
        return CACHED[(int) Math.min(4, quarter)];
    }

    /** The picture: a heading, {@code rows} lines of {@code columns} cells with their origin offsets, a legend. */
    public static String render(CacheDevice dev, int columns, int rows) {
        Cells c = count(dev, columns * rows);
        long blockBytes = dev.blockBytes();
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("origin %s in %d cells of %s (%d blocks of %s); cache %d of %d blocks used, %d dirty%n",
                size(dev.size()), c.count(), size(c.blocksPerCell() * blockBytes), c.blocksPerCell(),
                size(blockBytes), dev.residency(), dev.cacheBlocks(), dev.dirtyBlocks()));
        List<String> offsets = new ArrayList<>();
        for (int start = 0; start < c.count(); start += columns) {
            offsets.add(size(start * c.blocksPerCell() * blockBytes));
        }
        int width = offsets.stream().mapToInt(String::length).max().orElse(1);
        for (int row = 0, start = 0; start < c.count(); row++, start += columns) {
            sb.append(String.format("%" + width + "s |", offsets.get(row)));
            for (int i = start; i < Math.min(c.count(), start + columns); i++) {
                sb.append(glyph(c.cached()[i], c.dirty()[i], c.cellBlocks(i)));
            }
            sb.append("|\n");
        }
        sb.append("cached share of a cell: ' ' none  '.' up to 1/4  ':' up to 1/2  'o' up to 3/4  'O' more  '#' all;"
                + " 'd' some dirty  'D' half or more of the cached blocks dirty\n");
        return sb.toString();
    }

    /** A size in the largest binary unit that keeps it whole, else with one decimal. */
    static String size(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int u = 0;
        double v = bytes;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v == Math.rint(v) ? String.format("%d %s", (long) v, units[u]) : String.format("%.1f %s", v, units[u]);
    }
}
