package io.jdmcache.pdata.bitset;

import io.jdmcache.pdata.block.MetadataException;

/**
 * A bitset with one cached word (the kernel's dm_disk_bitset): set, clear and test work on the cached word,
 * which is written back when another word is touched or on {@link #flush()}. Not thread-safe.
 */
public final class BitsetHandle {
    private final PersistentBitset bitset;
    private long root;
    private long length;
    private long cachedIndex = -1;
    private long cachedWord;
    private boolean dirty;

    public BitsetHandle(PersistentBitset bitset, long root, long length) {
        this.bitset = bitset;
        this.root = root;
        this.length = length;
    }

    public long length() {
        return length;
    }

    private void checkIndex(long i) {
        if (i < 0 || i >= length) {
            throw new IndexOutOfBoundsException("bit " + i + " of a bitset of " + length + " bits");
        }
    }

    private void load(long w) throws MetadataException {
        if (w == cachedIndex) {
            return;
        }
        flushWord();
        cachedWord = bitset.word(root, w);
        cachedIndex = w;
    }

    private void flushWord() throws MetadataException {
        if (dirty) {
            root = bitset.setWord(root, cachedIndex, cachedWord);
            dirty = false;
        }
    }

    public boolean test(long i) throws MetadataException {
        checkIndex(i);
        load(i / PersistentBitset.BITS_PER_WORD);
        return (cachedWord & (1L << i)) != 0;
    }

    public void set(long i, boolean value) throws MetadataException {
        checkIndex(i);
        load(i / PersistentBitset.BITS_PER_WORD);
        long nw = value ? cachedWord | (1L << i) : cachedWord & ~(1L << i);
        if (nw != cachedWord) {
            cachedWord = nw;
            dirty = true;
        }
    }

    /** Writes the cached word back; returns the (possibly new) root. */
    public long flush() throws MetadataException {
        flushWord();
        return root;
    }

    /** Replaces the bitset (after a resize or re-create); the cache must have been flushed. */
    public void reset(long newRoot, long newLength) {
        if (dirty) {
            throw new IllegalStateException("reset with an unflushed word");
        }
        root = newRoot;
        length = newLength;
        cachedIndex = -1;
    }

    /** The root, after flushing. */
    public long root() throws MetadataException {
        return flush();
    }
}
