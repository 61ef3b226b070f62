package io.jdmcache.pdata.block;

import io.jdmcache.pdata.io.BlockDevice;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Reads, locks, caches and writes back 4096-byte metadata blocks (the kernel's dm-block-manager).
 *
 * <ul>
 *   <li>Every lock call names a {@link BlockValidator}; a block read from the device is checked by it
 *       before anyone sees it, and stamped by it (block number, checksum) when written back.</li>
 *   <li>Locks: many readers or one writer per block. A conflicting lock is a programming error in the
 *       layers above (they serialise writers) and fails with {@link IllegalStateException}.</li>
 *   <li>The cache is bounded (CLOCK replacement). A dirty block may be written back at any time before
 *       {@link #flush()}: only blocks that are new in the current transaction are ever dirty, so this is
 *       always safe. The superblock is written in place deliberately by its owner.</li>
 *   <li>{@link #flush()} writes every dirty block (in block order, adjacent blocks merged into one I/O)
 *       and then flushes the device.</li>
 * </ul>
 * Thread-safe: every method synchronises on the manager; I/O happens under that monitor.
 */
public final class BlockManager implements Closeable, BlockReader {
    public static final int BLOCK_SIZE = 4096;
    public static final int SECTORS_PER_BLOCK = BLOCK_SIZE / 512;
    public static final int DEFAULT_CACHE_BLOCKS = 4096;
    private static final int MAX_RUN_BLOCKS = 256;

    private final BlockDevice dev;
    private final long nrBlocks;
    private final int capacity;
    private final long[] slotBlock;
    private final byte[][] slotData;
    private final int[] slotReaders;
    private final boolean[] slotWriter;
    private final boolean[] slotDirty;
    private final boolean[] slotRef;
    private final BlockValidator[] slotValidator;
    private final LongIntMap index;
    private int used;
    private int hand;
    private int freeHint;
    private boolean readOnly;
    private long reads;
    private long writes;
    private ByteBuffer runBuffer;

    public BlockManager(BlockDevice dev, int cacheBlocks, boolean readOnly) throws IOException {
        if (cacheBlocks < 16) {
            throw new IllegalArgumentException("cache of " + cacheBlocks + " blocks is too small (min 16)");
        }
        this.dev = dev;
        this.nrBlocks = dev.size() / BLOCK_SIZE;
        this.capacity = cacheBlocks;
        this.slotBlock = new long[cacheBlocks];
        Arrays.fill(slotBlock, -1);
        this.slotData = new byte[cacheBlocks][];
        this.slotReaders = new int[cacheBlocks];
        this.slotWriter = new boolean[cacheBlocks];
        this.slotDirty = new boolean[cacheBlocks];
        this.slotRef = new boolean[cacheBlocks];
        this.slotValidator = new BlockValidator[cacheBlocks];
        this.index = new LongIntMap(cacheBlocks);
        this.readOnly = readOnly || dev.isReadOnly();
    }

    public BlockManager(BlockDevice dev) throws IOException {
        this(dev, DEFAULT_CACHE_BLOCKS, false);
    }

    /** Whole blocks on the device. */
    public long nrBlocks() {
        return nrBlocks;
    }

    public BlockDevice device() {
        return dev;
    }

    public synchronized boolean isReadOnly() {
        return readOnly;
    }

    /** Switches write refusal on or off (off only when the device itself is writable). */
    public synchronized void setReadOnly(boolean readOnly) {
        this.readOnly = readOnly || dev.isReadOnly();
    }

    /** Blocks read from and written to the device so far. */
    public synchronized long blocksRead() {
        return reads;
    }

    public synchronized long blocksWritten() {
        return writes;
    }

    /** Takes a shared lock on block {@code b}, reading and validating it if needed. */
    @Override
    public synchronized ReadBlock read(long b, BlockValidator v) throws MetadataException {
        int s = lookupOrLoad(b, v);
        if (slotWriter[s]) {
            throw new IllegalStateException("block " + b + " is write-locked; cannot read-lock it");
        }
        slotReaders[s]++;
        return new ReadBlock(this, s, b, slotData[s]);
    }

    /** Takes an exclusive lock on block {@code b}, reading and validating it if needed; marks it dirty. */
    public synchronized WriteBlock write(long b, BlockValidator v) throws MetadataException {
        checkWritable(b);
        int s = lookupOrLoad(b, v);
        return lockForWrite(s, b);
    }

    /** Takes an exclusive lock on block {@code b} without reading it: its contents become zeros. */
    public synchronized WriteBlock writeZeroed(long b, BlockValidator v) throws MetadataException {
        checkWritable(b);
        checkRange(b);
        int s = index.get(b, -1);
        if (s < 0) {
            s = claimSlot(b);
        } else if (slotReaders[s] > 0 || slotWriter[s]) {
            throw new IllegalStateException("block " + b + " is locked; cannot zero it");
        }
        Arrays.fill(slotData[s], (byte) 0);
        slotValidator[s] = v;
        return lockForWrite(s, b);
    }

    /**
     * A copy of block {@code b} as it is (cached contents if cached, else the device's), without any
     * validation: for probing an unformatted superblock and for salvage tools.
     */
    public synchronized byte[] readRaw(long b) throws MetadataException {
        checkRange(b);
        int s = index.get(b, -1);
        if (s >= 0) {
            return slotData[s].clone();
        }
        byte[] data = new byte[BLOCK_SIZE];
        readFromDevice(b, data);
        return data;
    }

    /**
     * Reads {@code count} consecutive blocks starting at {@code first} into the cache with one I/O, without
     * validating them yet (they are validated when first locked). Blocks already cached are kept.
     * Never evicts more than half of the cache.
     */
    @Override
    public synchronized void prefetch(long first, int count) throws MetadataException {
        if (first < 0 || first >= nrBlocks) {
            return;
        }
        count = (int) Math.min(Math.min(count, nrBlocks - first), Math.min(MAX_RUN_BLOCKS, capacity / 2));
        if (count <= 0) {
            return;
        }
        ByteBuffer buf = runBuffer(count);
        try {
            dev.read(first * BLOCK_SIZE, buf);
        } catch (IOException e) {
            return; // a prefetch is only a hint; the real read reports the error for its block
        }
        reads += count;
        for (int i = 0; i < count; i++) {
            long b = first + i;
            if (index.get(b, -1) >= 0) {
                continue;
            }
            int s;
            try {
                s = claimSlot(b);
            } catch (MetadataException e) {
                return;
            }
            buf.position(i * BLOCK_SIZE);
            buf.get(slotData[s], 0, BLOCK_SIZE);
            slotValidator[s] = null;
            slotRef[s] = false;
        }
    }

    /**
     * Writes every dirty block back (adjacent blocks in one I/O) and flushes the device. No block may be
     * write-locked.
     */
    public synchronized void flush() throws MetadataException {
        int nDirty = 0;
        for (int s = 0; s < capacity; s++) {
            if (slotDirty[s]) {
                if (slotWriter[s]) {
                    throw new IllegalStateException("flush with block " + slotBlock[s] + " still write-locked");
                }
                nDirty++;
            }
        }
        if (nDirty > 0) {
            if (readOnly) {
                throw new ReadOnlyException("write back of " + nDirty + " metadata blocks");
            }
            long[] order = new long[nDirty];
            int k = 0;
            for (int s = 0; s < capacity; s++) {
                if (slotDirty[s]) {
                    order[k++] = (slotBlock[s] << 20) | s; // nrBlocks < 2^23, capacity < 2^20
                }
            }
            Arrays.sort(order);
            int i = 0;
            while (i < nDirty) {
                int j = i + 1;
                while (j < nDirty && j - i < MAX_RUN_BLOCKS
                        && (order[j] >>> 20) == (order[j - 1] >>> 20) + 1) {
                    j++;
                }
                writeRun(order, i, j);
                i = j;
            }
        }
        try {
            dev.flush();
        } catch (IOException e) {
            throw new MetadataIoException("flush of the metadata device", e);
        }
    }

    /** True when block {@code b} is cached and dirty. */
    public synchronized boolean isDirty(long b) {
        int s = index.get(b, -1);
        return s >= 0 && slotDirty[s];
    }

    /** Number of blocks currently locked (for tests and leak checks). */
    public synchronized int lockedBlocks() {
        int n = 0;
        for (int s = 0; s < capacity; s++) {
            if (slotReaders[s] > 0 || slotWriter[s]) {
                n++;
            }
        }
        return n;
    }

    /** Drops every cached block, dirty or not (used after an abort). No block may be locked. */
    public synchronized void invalidate() {
        for (int s = 0; s < capacity; s++) {
            if (slotReaders[s] > 0 || slotWriter[s]) {
                throw new IllegalStateException("invalidate with block " + slotBlock[s] + " locked");
            }
            slotBlock[s] = -1;
            slotDirty[s] = false;
            slotValidator[s] = null;
        }
        index.clear();
        used = 0;
        freeHint = 0;
    }

    @Override
    public void close() throws IOException {
        dev.close();
    }

    // ---------------------------------------------------------------- internals

    synchronized void release(int s, boolean write) {
        if (write) {
            slotWriter[s] = false;
        } else {
            slotReaders[s]--;
        }
    }

    private WriteBlock lockForWrite(int s, long b) {
        if (slotWriter[s] || slotReaders[s] > 0) {
            throw new IllegalStateException("block " + b + " is already locked; cannot write-lock it");
        }
        slotWriter[s] = true;
        slotDirty[s] = true;
        return new WriteBlock(this, s, b, slotData[s]);
    }

    private void checkWritable(long b) throws ReadOnlyException {
        if (readOnly) {
            throw new ReadOnlyException("write of metadata block " + b);
        }
    }

    private void checkRange(long b) throws BlockOutOfRangeException {
        if (b < 0 || b >= nrBlocks) {
            throw new BlockOutOfRangeException(b, nrBlocks);
        }
    }

    private int lookupOrLoad(long b, BlockValidator v) throws MetadataException {
        checkRange(b);
        int s = index.get(b, -1);
        if (s >= 0) {
            slotRef[s] = true;
            BlockValidator have = slotValidator[s];
            if (have == null) {
                v.check(slotData[s], b);
                slotValidator[s] = v;
            } else if (have != v) {
                throw new CorruptBlockException(v.name(), b,
                        "block is a " + have.name() + " but was read as a " + v.name());
            }
            return s;
        }
        s = claimSlot(b);
        try {
            readFromDevice(b, slotData[s]);
            v.check(slotData[s], b);
        } catch (MetadataException e) {
            forget(s);
            throw e;
        }
        slotValidator[s] = v;
        slotRef[s] = true;
        return s;
    }

    private void readFromDevice(long b, byte[] into) throws MetadataException {
        try {
            dev.read(b * BLOCK_SIZE, ByteBuffer.wrap(into));
            reads++;
        } catch (IOException e) {
            throw new MetadataIoException("read", b, e);
        }
    }

    private void forget(int s) {
        index.remove(slotBlock[s]);
        slotBlock[s] = -1;
        slotDirty[s] = false;
        slotValidator[s] = null;
        used--;
    }

    /** Finds a free or evictable slot (writing it back if dirty) and assigns it to {@code b}. */
    private int claimSlot(long b) throws MetadataException {
        int s;
        if (used < capacity) {
            // a free slot exists: search on from the last one taken (scanning from the clock hand, which
            // does not move while the cache fills, made filling an empty cache quadratic)
            s = freeHint;
            while (slotBlock[s] != -1) {
                s = s + 1 == capacity ? 0 : s + 1;
            }
            freeHint = s + 1 == capacity ? 0 : s + 1;
        } else {
            s = evict();
        }
        if (slotData[s] == null) {
            slotData[s] = new byte[BLOCK_SIZE];
        }
        slotBlock[s] = b;
        slotDirty[s] = false;
        slotValidator[s] = null;
        slotRef[s] = false;
        index.put(b, s);
        used++;
        return s;
    }

    private int evict() throws MetadataException {
        for (int sweep = 0; sweep < 2 * capacity + 1; sweep++) {
            int s = hand;
            hand = (hand + 1) % capacity;
            if (slotReaders[s] > 0 || slotWriter[s]) {
                continue;
            }
            if (slotRef[s]) {
                slotRef[s] = false;
                continue;
            }
            if (slotDirty[s]) {
                writeBack(s);
            }
            forget(s);
            return s;
        }
        throw new IllegalStateException("block cache exhausted: all " + capacity + " blocks are locked");
    }

    private void writeBack(int s) throws MetadataException {
        if (readOnly) {
            throw new ReadOnlyException("write back of metadata block " + slotBlock[s]);
        }
        long b = slotBlock[s];
        byte[] data = slotData[s];
        slotValidator[s].prepareForWrite(data, b);
        try {
            dev.write(b * BLOCK_SIZE, ByteBuffer.wrap(data));
            writes++;
        } catch (IOException e) {
            throw new MetadataIoException("write", b, e);
        }
        slotDirty[s] = false;
    }

    private void writeRun(long[] order, int from, int to) throws MetadataException {
        int n = to - from;
        long first = order[from] >>> 20;
        if (n == 1) {
            writeBack((int) (order[from] & 0xfffff));
            return;
        }
        ByteBuffer buf = runBuffer(n);
        for (int i = from; i < to; i++) {
            int s = (int) (order[i] & 0xfffff);
            slotValidator[s].prepareForWrite(slotData[s], slotBlock[s]);
            buf.put(slotData[s]);
        }
        buf.flip();
        try {
            dev.write(first * BLOCK_SIZE, buf);
            writes += n;
        } catch (IOException e) {
            throw new MetadataIoException("write", first, e);
        }
        for (int i = from; i < to; i++) {
            slotDirty[(int) (order[i] & 0xfffff)] = false;
        }
    }

    private ByteBuffer runBuffer(int blocks) {
        if (runBuffer == null) {
            runBuffer = ByteBuffer.allocateDirect(MAX_RUN_BLOCKS * BLOCK_SIZE);
        }
        runBuffer.clear().limit(blocks * BLOCK_SIZE);
        return runBuffer;
    }
}
