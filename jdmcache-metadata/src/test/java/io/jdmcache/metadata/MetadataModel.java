package io.jdmcache.metadata;

import io.jdmcache.metadata.Images.M;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongUnaryOperator;

/**
 * What the metadata of one cache should hold, kept with plain Java collections by the rules of
 * format-spec section 9: the model the random workloads check CacheMetadata against.
 */
final class MetadataModel {
    final int version;
    final long dataBlockSize;
    int flags;
    boolean clean;
    long[] mappings = new long[0];
    BitSet dirty = new BitSet();
    String policyName = "";
    int[] policyVersion = new int[3];
    int hintSize;
    long[] hints;
    long discardBlockSize;
    long discardNrBlocks;
    BitSet discards = new BitSet();
    CacheStats stats = CacheStats.ZERO;

    /** A freshly formatted cache. */
    MetadataModel(int version, long dataBlockSize) {
        this.version = version;
        this.dataBlockSize = dataBlockSize;
    }

    /** The model of committed contents {@code c}. */
    static MetadataModel of(Content c) {
        MetadataModel m = new MetadataModel(c.version(), c.dataBlockSize());
        m.flags = c.flags();
        m.clean = c.clean();
        m.mappings = c.mappings().clone();
        m.dirty = c.dirtyWords() == null ? new BitSet() : BitSet.valueOf(c.dirtyWords());
        m.policyName = c.policyName();
        m.policyVersion = c.policyVersion().clone();
        m.hintSize = c.hintSize();
        m.hints = c.hints() == null ? null : c.hints().clone();
        m.discardBlockSize = c.discardBlockSize();
        m.discardNrBlocks = c.discardNrBlocks();
        m.discards = BitSet.valueOf(c.discardWords());
        m.stats = c.stats();
        return m;
    }

    Content content() {
        return new Content(version, flags, clean, dataBlockSize, mappings.clone(),
                version >= 2 ? words(dirty, mappings.length) : null, policyName, policyVersion.clone(), hintSize,
                hints == null ? null : hints.clone(), discardBlockSize, discardNrBlocks,
                words(discards, discardNrBlocks), stats);
    }

    static long[] words(BitSet bits, long n) {
        long[] w = new long[(int) ((n + 63) / 64)];
        long[] have = bits.toLongArray();
        System.arraycopy(have, 0, w, 0, Math.min(have.length, w.length));
        if (n % 64 != 0 && w.length > 0) {
            w[w.length - 1] &= (1L << (n % 64)) - 1;
        }
        return w;
    }

    long cacheBlocks() {
        return mappings.length;
    }

    boolean valid(long cblock) {
        return Mapping.valid(mappings[(int) cblock]);
    }

    boolean isDirty(long cblock) {
        long v = mappings[(int) cblock];
        return Mapping.valid(v) && (version >= 2 ? dirty.get((int) cblock) : (v & Mapping.DIRTY) != 0);
    }

    void insert(long cblock, long oblock) {
        mappings[(int) cblock] = Mapping.pack(oblock, Mapping.VALID);
    }

    void remove(long cblock) {
        mappings[(int) cblock] = 0;
    }

    /** The first dirty cache block in [from, to), or -1. */
    long firstDirty(long from, long to) {
        for (long c = from; c < to; c++) {
            if (isDirty(c)) {
                return c;
            }
        }
        return -1;
    }

    /** Resizes; returns -1, or the dirty cache block that refuses a shrink (nothing changes then). */
    long resize(long n) {
        if (n < cacheBlocks()) {
            long d = firstDirty(n, cacheBlocks());
            if (d >= 0) {
                return d;
            }
        }
        mappings = Arrays.copyOf(mappings, (int) n);
        if (hints != null) {
            hints = Arrays.copyOf(hints, (int) n);
        }
        if (dirty.length() > n) {
            dirty.clear((int) n, dirty.length());
        }
        return -1;
    }

    void setDirtyBits(long[] words, long nrBits) {
        BitSet want = BitSet.valueOf(words);
        if (version >= 2) {
            dirty = want.get(0, (int) nrBits);
            return;
        }
        long n = Math.min(nrBits, cacheBlocks());
        for (int c = 0; c < n; c++) {
            long v = mappings[c];
            if (Mapping.valid(v)) {
                mappings[c] = want.get(c) ? v | Mapping.DIRTY : v & ~Mapping.DIRTY;
            }
        }
    }

    void writeHints(PolicyInfo p, LongUnaryOperator hintOf) {
        policyName = p.name();
        policyVersion = new int[] {p.major(), p.minor(), p.patch()};
        if (p.hintSize() == 0) {
            return;
        }
        hintSize = p.hintSize();
        long mask = hintSize == 8 ? -1L : (1L << (8 * hintSize)) - 1;
        hints = new long[mappings.length];
        for (int c = 0; c < hints.length; c++) {
            hints[c] = hintOf.applyAsLong(c) & mask;
        }
    }

    void resizeDiscards(long blockSize, long nr) {
        if (discards.length() > nr) {
            discards.clear((int) nr, discards.length());
        }
        discardBlockSize = blockSize;
        discardNrBlocks = nr;
    }

    void setDiscard(long d, boolean on) {
        discards.set((int) d, on);
    }

    /** What loadMappings reports for contents {@code c} to {@code p}, given the clean state at open. */
    static List<M> expectedLoad(Content c, PolicyInfo p, boolean cleanWhenOpened) {
        boolean hintsOk = cleanWhenOpened && p != null && c.hints() != null && c.hintSize() != 0
                && c.policyName().equals(p.name()) && c.policyVersion()[0] == p.major() && c.hintSize() == p.hintSize();
        List<M> out = new ArrayList<>();
        long[] m = c.mappings();
        for (int cb = 0; cb < m.length; cb++) {
            if (!Mapping.valid(m[cb])) {
                continue;
            }
            boolean d = c.version() >= 2 ? (c.dirtyWords()[cb >>> 6] & (1L << cb)) != 0 : (m[cb] & Mapping.DIRTY) != 0;
            boolean hv = hintsOk && cb < c.hints().length;
            out.add(new M(Mapping.oblock(m[cb]), cb, !cleanWhenOpened || d, hv ? c.hints()[cb] : 0, hv));
        }
        return out;
    }

    /** What loadDiscards reports: the set bits when clean at open, otherwise nothing set. */
    static List<Long> expectedDiscards(Content c, boolean cleanWhenOpened) {
        List<Long> out = new ArrayList<>();
        if (!cleanWhenOpened) {
            return out;
        }
        BitSet b = BitSet.valueOf(c.discardWords());
        for (int d = b.nextSetBit(0); d >= 0 && d < c.discardNrBlocks(); d = b.nextSetBit(d + 1)) {
            out.add((long) d);
        }
        return out;
    }
}
