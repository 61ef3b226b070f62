package io.jdmcache.policy;

/**
 * smq's promotion filter: a 64-level multiqueue of coarse origin regions ("hotspot blocks", a power-of-two
 * multiple of the cache block, normally 16 cache blocks), updated on cache misses only. A region climbs
 * {@code levelJump} levels on its first miss of a tick (and moves to the back of its level on later ones);
 * when all hotspot entries are in use, the coldest region is recycled for the new one.
 *
 * <p>Sizing (as the kernel): {@code max(cacheBlocks / 4, 1024)} hotspot blocks; the hotspot block starts at
 * 16 cache blocks and is halved while the hotspot blocks would cover more than the origin. The top 8
 * levels are targeted to hold about as much origin as the cache does.
 *
 * <p>Not thread-safe: used under the owning policy's lock.
 */
final class Hotspot {
    static final int NR_LEVELS = 64;
    private static final int NR_TOP_LEVELS = 8;

    private final int nrBlocks;
    private final long cacheBlocksPerHotspotBlock;
    private final PackedLongs region;
    private final Links links;
    private final MultiQueue queue;
    private final BlockHashTable table;
    private final HitBits hitBits;
    private final Confidence confidence = new Confidence(NR_LEVELS);
    private int allocated;
    private int levelJump = 1;

    Hotspot(int cacheBlocks, long originBlocks) {
        long nr = Math.max(cacheBlocks / 4, 1024);
        long perBlock = 16;
        while (perBlock > 1 && perBlock * nr > originBlocks) {
            perBlock /= 2;
        }
        this.nrBlocks = (int) nr;
        this.cacheBlocksPerHotspotBlock = perBlock;
        this.region = new PackedLongs(nrBlocks, originBlocks / perBlock + 1);
        this.links = new Links(nrBlocks, 0);
        long inTop = Math.min(nrBlocks / NR_LEVELS, cacheBlocks / perBlock);
        this.queue = new MultiQueue(links, NR_LEVELS, NR_TOP_LEVELS, (int) inTop);
        this.table = new BlockHashTable(region);
        this.hitBits = new HitBits(nrBlocks);
    }

    int nrBlocks() {
        return nrBlocks;
    }

    long cacheBlocksPerHotspotBlock() {
        return cacheBlocksPerHotspotBlock;
    }

    /**
     * Records a cache miss on {@code oblock} and returns the level of its region afterwards (a new region
     * enters at the level of the entry it recycles, or 0).
     */
    int miss(long oblock) {
        long hb = oblock / cacheBlocksPerHotspotBlock;
        int e = table.lookup(hb);
        if (e != Links.NULL) {
            confidence.levelAccessed(links.level[e]);
            int jump = hitBits.testAndSet(e) ? 0 : levelJump;
            queue.requeue(e, jump, Links.NULL, Links.NULL);
            return links.level[e];
        }
        confidence.miss();
        if (allocated < nrBlocks) {
            e = allocated++;
            links.level[e] = 0;
        } else {
            e = queue.pop();
            table.remove(e);
            hitBits.clear(e);
        }
        region.set(e, hb);
        queue.push(e);
        table.insert(e);
        return links.level[e];
    }

    /** Ends a tick: every region may climb again. */
    void endTick() {
        hitBits.clearAll();
    }

    /** Ends a hotspot period (1 s): adapts the level jump, re-balances the levels, restarts the statistics. */
    void endPeriod() {
        levelJump = switch (confidence.assess()) {
            case POOR -> 4;
            case FAIR -> 2;
            case WELL -> 1;
        };
        queue.redistribute();
        confidence.reset();
    }

    Confidence.Assessment assess() {
        return confidence.assess();
    }

    long bytes() {
        return region.bytes() + links.bytes() + table.bytes() + hitBits.bytes();
    }
}
