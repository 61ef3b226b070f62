package io.jdmcache.tools.dump;

import io.jdmcache.metadata.Mapping;
import io.jdmcache.metadata.Superblock;
import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Checksums;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.tools.check.StructureWalker;
import io.jdmcache.tools.check.SuperblockRules;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Reads the whole contents of cache metadata (formats 1 and 2) and streams them to a {@link ContentSink}:
 * what cache_dump and cache_repair read. Memory: one bit per cache block (v2 dirty bits, mapped blocks) and
 * one per discard block; mappings and hints stream straight from the array blocks.
 *
 * <p>Strict mode stops at the first unreadable part with a {@link DamagedMetadataException}. Salvage mode
 * (dump --repair, repair) keeps every readable part: a lost range of mappings is left out (and only that
 * range: later intact array blocks are kept, unlike the reference), lost hints become zero, lost v2 dirty
 * bits read as dirty (writing back a clean block is harmless, forgetting a dirty one loses data), lost
 * discard bits as not discarded. The superblock must be intact either way.
 */
public final class MetadataReader {
    private final BlockManager bm;
    private final boolean salvage;
    private final List<String> losses = new ArrayList<>();
    private final RuntimeIo io = new RuntimeIo();
    private LongConsumer progress = done -> { };

    /** Tells {@code p} how far the mapping walk has come (a cache block number, every 64Ki blocks). */
    public void setProgress(LongConsumer p) {
        progress = p;
    }

    public MetadataReader(BlockDevice dev, boolean salvage) throws IOException {
        this.bm = new BlockManager(dev, 1024, true);
        this.salvage = salvage;
    }

    /** What salvage mode had to leave out, one line each (empty in strict mode or when nothing was lost). */
    public List<String> losses() {
        return losses;
    }

    /** Reads and validates the superblock: bad checksum, or any rule broken, is an error. */
    public Superblock superblock() throws IOException {
        byte[] raw = bm.readRaw(0);
        if (Checksums.stored(raw) != Checksums.compute(raw, Superblock.SALT)) {
            throw new DamagedMetadataException("bad checksum in superblock");
        }
        Superblock sb = Superblock.unpack(raw);
        List<String> broken = SuperblockRules.broken(raw, sb, bm.nrBlocks());
        if (!broken.isEmpty()) {
            throw new DamagedMetadataException("superblock is invalid: " + String.join("; ", broken));
        }
        if (sb.cacheBlocks() > Integer.MAX_VALUE - 64) {
            throw new DamagedMetadataException("superblock is invalid: " + sb.cacheBlocks() + " cache blocks");
        }
        return sb;
    }

    /** Reads everything and sends it to {@code sink}. */
    public void read(ContentSink sink) throws IOException {
        Superblock sb = superblock();
        try {
            readAll(sb, sink);
        } catch (Stop s) {
            io.rethrow();
            throw new IllegalStateException("a walk stopped without a cause", s);
        }
    }

    private void lost(String what, long from, long to, String why) throws DamagedMetadataException {
        String line = "missing " + what + " [" + from + ", " + to + "]: " + why;
        if (!salvage) {
            throw new DamagedMetadataException(line);
        }
        losses.add(line);
    }

    private void readAll(Superblock sb, ContentSink sink) throws IOException {
        int n = (int) sb.cacheBlocks();
        int words = (n + 63) >>> 6;
        StructureWalker w = StructureWalker.salvage(bm);

        long[] dirty = null;
        if (sb.version() >= 2) {
            dirty = new long[words];
            if (sb.dirtyRoot() == 0) {
                lost("dirty bits", 0, Math.max(0, n - 1), "dirty bitset not found (dirty_root is 0)");
                java.util.Arrays.fill(dirty, -1L);
            } else {
                long[] d = dirty;
                w.walkArray(sb.dirtyRoot(), 8, words, 0, (i, v) -> d[(int) i] = v, (from, to, why) -> {
                    io.run(() -> lost("dirty bits", from * 64, Math.min(n - 1L, to * 64 + 63), why));
                    for (long i = from; i <= Math.min(to, words - 1L); i++) {
                        d[(int) i] = -1L;
                    }
                });
                io.rethrow();
            }
        }

        long discardNr = sb.discardRoot() == 0 ? 0 : sb.discardNrBlocks();
        long[] discards = new long[(int) ((discardNr + 63) >>> 6)];
        boolean anyDiscard = false;
        if (discardNr > 0) {
            w.walkArray(sb.discardRoot(), 8, discards.length, 0, (i, v) -> discards[(int) i] = v,
                    (from, to, why) -> io.run(() -> lost("discard bits", from * 64,
                            Math.min(discardNr - 1, to * 64 + 63), why)));
            io.rethrow();
            if ((discardNr & 63) != 0) {
                discards[discards.length - 1] &= (1L << (discardNr & 63)) - 1;
            }
            for (long x : discards) {
                anyDiscard |= x != 0;
            }
        }

        byte[] rawUuid = sb.uuid();
        int ul = 0;
        while (ul < rawUuid.length && rawUuid[ul] != 0) {
            ul++;
        }
        byte[] uuid = java.util.Arrays.copyOf(rawUuid, ul);
        int hintWidth = sb.policyHintSize() == 0 ? 4 : sb.policyHintSize();
        sink.begin(new Header(uuid, sb.version(), sb.cleanShutdown(), sb.dataBlockSize(), n, sb.policyName(),
                sb.policyVersion(), hintWidth, anyDiscard ? sb.discardBlockSize() : 0, anyDiscard ? discardNr : 0,
                anyDiscard));

        long[] mapped = new long[words];
        boolean v1 = sb.version() < 2;
        long[] dirtyBits = dirty;
        w.walkArray(sb.mappingRoot(), 8, n, 0, (cb, v) -> {
            if (!Mapping.valid(v)) {
                return;
            }
            int c = (int) cb;
            mapped[c >>> 6] |= 1L << c;
            if ((c & 0xffff) == 0) {
                progress.accept(c);
            }
            boolean isDirty = v1 ? (Mapping.flags(v) & Mapping.DIRTY) != 0 : (dirtyBits[c >>> 6] & (1L << c)) != 0;
            io.run(() -> sink.mapping(cb, Mapping.oblock(v), isDirty));
        }, (from, to, why) -> io.run(() -> lost("mappings", from, to, why)));
        io.rethrow();
        sink.endMappings();

        if (sb.hintRoot() != 0 && n > 0) {
            if (hintWidth != 4) {
                throw new DamagedMetadataException("invalid hint width: " + hintWidth);
            }
            long[] given = new long[words];
            w.walkArray(sb.hintRoot(), 4, n, 0, (cb, v) -> {
                int c = (int) cb;
                given[c >>> 6] |= 1L << c;
                if ((mapped[c >>> 6] & (1L << c)) != 0) {
                    io.run(() -> sink.hint(cb, (int) v));
                }
            }, (from, to, why) -> io.run(() -> lost("hints", from, to, why)));
            io.rethrow();
        }
        sink.endHints();

        if (anyDiscard) {
            long d = nextSet(discards, 0, discardNr);
            while (d < discardNr) {
                long e = nextClear(discards, d, discardNr);
                sink.discard(d, e);
                d = nextSet(discards, e, discardNr);
            }
        }
        sink.end();
    }

    static long nextSet(long[] words, long from, long limit) {
        for (long i = from; i < limit; ) {
            long word = words[(int) (i >>> 6)] >>> (i & 63);
            if (word != 0) {
                return Math.min(limit, i + Long.numberOfTrailingZeros(word));
            }
            i = (i | 63) + 1;
        }
        return limit;
    }

    static long nextClear(long[] words, long from, long limit) {
        for (long i = from; i < limit; ) {
            long word = ~words[(int) (i >>> 6)] >>> (i & 63);
            if (word != 0) {
                return Math.min(limit, i + Long.numberOfTrailingZeros(word));
            }
            i = (i | 63) + 1;
        }
        return limit;
    }

    /** Carries a checked exception out of a walker callback, which cannot throw one. */
    private static final class RuntimeIo {
        interface Body {
            void run() throws IOException;
        }

        private IOException first;

        void run(Body b) {
            if (first != null) {
                throw new Stop();
            }
            try {
                b.run();
            } catch (IOException e) {
                first = e;
                throw new Stop();
            }
        }

        void rethrow() throws IOException {
            if (first != null) {
                throw first;
            }
        }
    }

    /** Unwinds a walk once the sink or strict mode has failed. */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super(null, null, false, false);
        }
    }
}
