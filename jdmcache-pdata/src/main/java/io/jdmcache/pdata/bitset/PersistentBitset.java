package io.jdmcache.pdata.bitset;

import io.jdmcache.pdata.array.ArrayBuilder;
import io.jdmcache.pdata.array.PersistentArray;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.tm.TransactionManager;

import java.util.function.LongPredicate;

/**
 * A persistent bitset (the kernel's dm_bitset): an array of u64 words; bit i is bit (i mod 64), counted
 * from the least significant, of word i/64. Bits at or past the length in the last word are written as
 * zero. The length in bits is kept by the owner. Every change returns the new root; for many changes
 * near each other use a {@link BitsetHandle}, which caches one word.
 */
public final class PersistentBitset {
    public static final int BITS_PER_WORD = 64;
    private final PersistentArray words;

    public PersistentBitset(TransactionManager tm) {
        this.words = new PersistentArray(tm, 8);
    }

    public static long wordsFor(long bits) {
        return (bits + BITS_PER_WORD - 1) / BITS_PER_WORD;
    }

    /** The array of words underneath. */
    public PersistentArray words() {
        return words;
    }

    public long empty() throws MetadataException {
        return words.empty();
    }

    /** A new bitset of {@code bits} bits, all {@code value}. */
    public long create(long bits, boolean value) throws MetadataException {
        long n = wordsFor(bits);
        ArrayBuilder b = words.builder(n);
        for (long w = 0; w < n; w++) {
            b.append(value ? lastWordMask(bits, w) : 0);
        }
        return b.finish();
    }

    /** A new bitset of {@code bits} bits, bit i being {@code bit.test(i)} (fast bulk create). */
    public long create(long bits, LongPredicate bit) throws MetadataException {
        long n = wordsFor(bits);
        ArrayBuilder b = words.builder(n);
        for (long w = 0; w < n; w++) {
            long word = 0;
            long base = w * BITS_PER_WORD;
            int lim = (int) Math.min(BITS_PER_WORD, bits - base);
            for (int k = 0; k < lim; k++) {
                if (bit.test(base + k)) {
                    word |= 1L << k;
                }
            }
            b.append(word);
        }
        return b.finish();
    }

    /** A new bitset from whole words (bits past {@code bits} are cleared). */
    public long createFromWords(long bits, long[] wordValues) throws MetadataException {
        long n = wordsFor(bits);
        ArrayBuilder b = words.builder(n);
        for (int w = 0; w < n; w++) {
            b.append(wordValues[w] & lastWordMask(bits, w));
        }
        return b.finish();
    }

    private static long lastWordMask(long bits, long w) {
        long inWord = bits - w * BITS_PER_WORD;
        return inWord >= BITS_PER_WORD ? -1L : (1L << inWord) - 1;
    }

    public boolean test(long root, long i) throws MetadataException {
        return (words.get(root, i / BITS_PER_WORD) & (1L << i)) != 0;
    }

    /** Sets bit {@code i} to {@code value}; returns the new root. */
    public long set(long root, long i, boolean value) throws MetadataException {
        long w = i / BITS_PER_WORD;
        long word = words.get(root, w);
        long nw = value ? word | (1L << i) : word & ~(1L << i);
        return nw == word ? root : words.set(root, w, nw);
    }

    /** Reads word {@code w}. */
    public long word(long root, long w) throws MetadataException {
        return words.get(root, w);
    }

    /** Writes word {@code w}; returns the new root. */
    public long setWord(long root, long w, long value) throws MetadataException {
        return words.set(root, w, value);
    }

    /**
     * Changes the length; new bits are {@code value} (including the new bits of a partial last word, which
     * the kernel leaves stale). Returns the new root.
     */
    public long resize(long root, long oldBits, long newBits, boolean value) throws MetadataException {
        long oldWords = wordsFor(oldBits);
        long newWords = wordsFor(newBits);
        if (newBits > oldBits && oldBits % BITS_PER_WORD != 0) {
            long w = oldWords - 1;
            long word = words.get(root, w);
            long keep = (1L << (oldBits % BITS_PER_WORD)) - 1;
            long nw = (word & keep) | (value ? ~keep & lastWordMask(newBits, w) : 0);
            if (nw != word) {
                root = words.set(root, w, nw);
            }
        } else if (newBits < oldBits && newBits % BITS_PER_WORD != 0) {
            long w = newWords - 1;
            long word = words.get(root, w);
            long nw = word & lastWordMask(newBits, w);
            if (nw != word) {
                root = words.set(root, w, nw);
            }
        }
        root = words.resize(root, oldWords, newWords, value ? -1L : 0L);
        if (value && newBits % BITS_PER_WORD != 0 && newWords > oldWords) {
            long w = newWords - 1;
            root = words.set(root, w, lastWordMask(newBits, w));
        }
        return root;
    }

    public void delete(long root) throws MetadataException {
        words.delete(root);
    }
}
