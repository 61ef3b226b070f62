package io.jdmcache.sim.policy;

/**
 * A cache that sees one access at a time, over dense block numbers {@code [0, blocks)}, at most {@code capacity}
 * blocks held. {@link OnlinePolicy} drives it through a trace. Subclasses count their fills with {@link #fill()}.
 */
public abstract class OnlineCache {
    protected final int capacity;
    protected final int blocks;
    private long fills;

    protected OnlineCache(int capacity, int blocks) {
        if (capacity < 0 || blocks < 0) {
            throw new IllegalArgumentException("negative size: capacity " + capacity + ", blocks " + blocks);
        }
        this.capacity = capacity;
        this.blocks = blocks;
    }

    /** One access; returns whether it was a hit. */
    public abstract boolean access(int block, boolean write);

    /** Drops the block if it is held (its data was discarded); no access. */
    public abstract void discard(int block);

    /** Whether the block is held now (a query: changes nothing). */
    public abstract boolean contains(int block);

    /** The number of blocks held now. */
    public abstract int size();

    protected final void fill() {
        fills++;
    }

    public final long fills() {
        return fills;
    }
}
