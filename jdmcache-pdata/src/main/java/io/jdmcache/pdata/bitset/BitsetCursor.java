package io.jdmcache.pdata.bitset;

import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.block.BlockReader;
import io.jdmcache.pdata.block.MetadataException;

/** Sequential read of a bitset's bits, one array block of words at a time. Holds no lock between calls. */
public final class BitsetCursor {
    private final ArrayCursor words;
    private final long length;
    private long index = -1;
    private long word;

    private BitsetCursor(ArrayCursor words, long length) {
        this.words = words;
        this.length = length;
    }

    public static BitsetCursor open(BlockReader r, long root, long length) throws MetadataException {
        return new BitsetCursor(ArrayCursor.open(r, root, 8, PersistentBitset.wordsFor(length)), length);
    }

    /** Moves to the next bit; false at the end. */
    public boolean next() throws MetadataException {
        if (index + 1 >= length) {
            return false;
        }
        index++;
        if ((index & 63) == 0) {
            if (!words.next()) {
                throw new IllegalStateException("bitset words ended early");
            }
            word = words.value();
        }
        return true;
    }

    public long index() {
        return index;
    }

    public boolean bit() {
        return (word & (1L << index)) != 0;
    }

    /** Reads the next whole word (bits index+1 .. index+64); only when positioned on a word boundary. */
    public long nextWord() throws MetadataException {
        if (((index + 1) & 63) != 0) {
            throw new IllegalStateException("nextWord off a word boundary");
        }
        if (!words.next()) {
            throw new IllegalStateException("no more words");
        }
        word = words.value();
        index = Math.min(length - 1, index + 64);
        return word;
    }
}
