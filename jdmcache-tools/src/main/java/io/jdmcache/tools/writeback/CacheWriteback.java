package io.jdmcache.tools.writeback;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.pdata.io.BlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * cache_writeback: copies every dirty cache block from the fast device to its origin block, offline, then
 * (unless told not to) clears the dirty state of the blocks that were copied and commits. Adjacent origin
 * blocks are written with one large I/O; the origin is flushed before any dirty bit is cleared, so a crash
 * at any point leaves every block either still marked dirty or safely on the origin.
 *
 * <p>Blocks to copy: the dirty ones after a clean shutdown; every mapped one otherwise (the dirty state is
 * not trusted then).
 */
public final class CacheWriteback {

    /**
     * @param bufferBytes         size of the copy buffer (at least one cache block)
     * @param updateMetadata      clear the dirty state and commit afterwards
     * @param fastOffsetSectors   where the cache data starts on the fast device
     * @param originOffsetSectors where the origin data starts on the origin device
     */
    public record Options(long bufferBytes, boolean updateMetadata, long fastOffsetSectors, long originOffsetSectors) {
        public static final long DEFAULT_BUFFER = 128L << 20;
    }

    /** What happened: blocks to copy, blocks copied, and the cache blocks that could not be copied. */
    public record Result(long toCopy, long copied, List<Long> failedCblocks, boolean metadataUpdated) {
    }

    private CacheWriteback() {
    }

    /**
     * Runs the write-back. The metadata is opened read-write (it must not be in use by a running cache),
     * unless {@code options.updateMetadata()} is false, in which case it is only read.
     *
     * @param progress called with the number of blocks done so far (may be null)
     */
    public static Result run(BlockDevice metadata, BlockDevice fast, BlockDevice origin, Options options,
                             LongConsumer progress) throws IOException {
        MetadataOptions mo = options.updateMetadata()
                ? new MetadataOptions(0, 1, false, false, true, 1024)
                : new MetadataOptions(0, 1, false, true, true, 1024);
        try (CacheMetadata md = CacheMetadata.open(metadata, mo)) {
            long blockBytes = md.dataBlockSize() * 512;
            long n = md.cacheBlocks();
            long[] pairs = collect(md);
            int count = pairs.length / 2;
            // order by origin block so adjacent origin blocks become one write
            long[] order = sortByOrigin(pairs, count);
            long bufBlocks = Math.max(1, Math.min(options.bufferBytes() / blockBytes, 1L << 16));
            bufBlocks = Math.min(bufBlocks, Math.max(1, Integer.MAX_VALUE / blockBytes));
            ByteBuffer buf = ByteBuffer.allocateDirect((int) (bufBlocks * blockBytes));
            long fastBase = options.fastOffsetSectors() * 512;
            long originBase = options.originOffsetSectors() * 512;
            long[] copiedWords = new long[(int) ((n + 63) >>> 6)];
            List<Long> failed = new ArrayList<>();
            long copied = 0;
            int i = 0;
            while (i < count) {
                // a run of consecutive origin blocks, at most one buffer long
                int j = i + 1;
                while (j < count && j - i < bufBlocks && pairs[2 * (int) order[j]] == pairs[2 * (int) order[j - 1]] + 1) {
                    j++;
                }
                boolean ok = copyRun(pairs, order, i, j, blockBytes, buf, fast, origin, fastBase, originBase);
                if (!ok && j - i > 1) {
                    // retry one block at a time to find which ones fail
                    for (int k = i; k < j; k++) {
                        if (copyRun(pairs, order, k, k + 1, blockBytes, buf, fast, origin, fastBase, originBase)) {
                            long c = pairs[2 * (int) order[k] + 1];
                            copiedWords[(int) (c >>> 6)] |= 1L << c;
                            copied++;
                        } else {
                            failed.add(pairs[2 * (int) order[k] + 1]);
                        }
                    }
                } else if (!ok) {
                    failed.add(pairs[2 * (int) order[i] + 1]);
                } else {
                    for (int k = i; k < j; k++) {
                        long c = pairs[2 * (int) order[k] + 1];
                        copiedWords[(int) (c >>> 6)] |= 1L << c;
                    }
                    copied += j - i;
                }
                i = j;
                if (progress != null) {
                    progress.accept(copied + failed.size());
                }
            }
            origin.flush();
            boolean updated = false;
            if (options.updateMetadata()) {
                // blocks still dirty: those that were dirty and not copied
                long[] stillDirty = new long[copiedWords.length];
                for (int k = 0; k < count; k++) {
                    long c = pairs[2 * k + 1];
                    if ((copiedWords[(int) (c >>> 6)] & (1L << c)) == 0) {
                        stillDirty[(int) (c >>> 6)] |= 1L << c;
                    }
                }
                md.setDirtyBits(stillDirty, n);
                md.commit(true);
                updated = true;
            }
            failed.sort(null);
            return new Result(count, copied, failed, updated);
        }
    }

    /** (oblock, cblock) pairs of the blocks to copy. */
    private static long[] collect(CacheMetadata md) throws IOException {
        long[][] out = {new long[64]};
        int[] n = {0};
        md.loadMappings(null, (oblock, cblock, dirty, hint, hv) -> {
            if (!dirty) {
                return;
            }
            if (n[0] + 2 > out[0].length) {
                out[0] = Arrays.copyOf(out[0], out[0].length * 2);
            }
            out[0][n[0]++] = oblock;
            out[0][n[0]++] = cblock;
        });
        return Arrays.copyOf(out[0], n[0]);
    }

    private static long[] sortByOrigin(long[] pairs, int count) {
        // sort indices by origin block: pack (oblock, index) when it fits, else fall back to boxing
        long[] idx = new long[count];
        boolean packable = count < (1 << 24);
        for (int k = 0; k < count; k++) {
            packable &= pairs[2 * k] < (1L << 39);
        }
        if (packable) {
            long[] keyed = new long[count];
            for (int k = 0; k < count; k++) {
                keyed[k] = pairs[2 * k] << 24 | k;
            }
            Arrays.sort(keyed);
            for (int k = 0; k < count; k++) {
                idx[k] = keyed[k] & 0xffffff;
            }
            return idx;
        }
        Long[] boxed = new Long[count];
        for (int k = 0; k < count; k++) {
            boxed[k] = (long) k;
        }
        Arrays.sort(boxed, (a, b) -> Long.compare(pairs[2 * (int) (long) a], pairs[2 * (int) (long) b]));
        for (int k = 0; k < count; k++) {
            idx[k] = boxed[k];
        }
        return idx;
    }

    private static boolean copyRun(long[] pairs, long[] order, int from, int to, long blockBytes, ByteBuffer buf,
                                   BlockDevice fast, BlockDevice origin, long fastBase, long originBase) {
        try {
            buf.clear();
            for (int k = from; k < to; k++) {
                long c = pairs[2 * (int) order[k] + 1];
                buf.limit((int) ((k - from + 1) * blockBytes));
                fast.read(fastBase + c * blockBytes, buf);
            }
            buf.flip();
            long o = pairs[2 * (int) order[from]];
            origin.write(originBase + o * blockBytes, buf);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
