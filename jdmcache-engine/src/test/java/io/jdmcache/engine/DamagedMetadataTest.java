package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.metadata.testing.BlockKinds;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.metadata.Superblock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The engine over damaged metadata: a cache is used and shut down (cleanly, or not at all), its metadata is
 * damaged one way (bits flipped, a btree node changed under a checksum made valid again, a block zeroed, a block
 * copied over another), and the cache is opened again over it. Opening either works or fails with an I/O or
 * configuration error that says why (never another exception), and a failed open writes nothing to the
 * metadata but, as the kernel does, the needs_check flag in the superblock (with the clean-shutdown flag cleared). A cache that opens serves reads, writes, flushes and closes, each either working or failing with an
 * I/O error, never another exception.
 */
class DamagedMetadataTest {
    static final int BLOCK = 32 * 1024;
    static final int MD = 4 << 20; // what metadata-size asks for 16 blocks

    static CacheDevice open(MemoryBlockDevice md, MemoryBlockDevice cache, MemoryBlockDevice origin, String policy)
            throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin 64 1 writeback " + policy + " 0");
        return CacheDevice.open(c, md, cache, origin, EngineOptions.manual(() -> 0L));
    }

    static byte[] bytes(MemoryBlockDevice d) throws IOException {
        ByteBuffer b = ByteBuffer.allocate((int) d.size());
        d.read(0, b);
        return b.array();
    }

    @Test
    void damagedMetadataOpensOrFailsCleanlyAndNeverBreaksTheEngine() throws IOException {
        long seed = Long.getLong("jdmcache.fuzz.seed", 20261202L);
        int tries = Integer.getInteger("jdmcache.fuzz.tries", 150);
        Random r = new Random(seed);
        int opened = 0;
        for (int t = 0; t < tries; t++) {
            MemoryBlockDevice md = new MemoryBlockDevice("md", MD);
            MemoryBlockDevice cache = new MemoryBlockDevice("cache", 16 * BLOCK);
            MemoryBlockDevice origin = new MemoryBlockDevice("origin", 128 * BLOCK);
            boolean clean = r.nextBoolean();
            CacheDevice d = open(md, cache, origin, "smq");
            for (int i = 0; i < 40; i++) {
                byte[] data = new byte[r.nextBoolean() ? BLOCK : 1 + r.nextInt(BLOCK)];
                r.nextBytes(data);
                d.write((long) r.nextInt(128) * BLOCK, ByteBuffer.wrap(data));
                d.runBackgroundWork(4);
                if (i % 10 == 9) {
                    d.flush();
                }
            }
            if (clean) {
                d.close();
            } else {
                d.flush();
                d.abandon();
            }
            byte[] image = bytes(md);
            List<Integer> used = BlockKinds.used(image);
            int blk = used.get(r.nextInt(used.size()));
            int at = blk * 4096;
            String what;
            switch (r.nextInt(4)) {
                case 0 -> {
                    int bit = r.nextInt(4096 * 8);
                    image[at + bit / 8] ^= (byte) (1 << (bit % 8));
                    what = "bit " + bit + " of block " + blk + " flipped";
                }
                case 1 -> {
                    int salt = BlockKinds.saltOf(image, blk);
                    int n = 1 + r.nextInt(4);
                    for (int i = 0; i < n; i++) {
                        int off = 4 + (r.nextBoolean() ? r.nextInt(60) : r.nextInt(4092));
                        image[at + off] = (byte) (r.nextBoolean() ? r.nextInt(256) : 0xff);
                    }
                    BlockKinds.restamp(image, blk, salt);
                    what = n + " bytes of block " + blk + " changed, checksum redone";
                }
                case 2 -> {
                    Arrays.fill(image, at, at + 4096, (byte) 0);
                    what = "block " + blk + " zeroed";
                }
                default -> {
                    int from = used.get(r.nextInt(used.size()));
                    System.arraycopy(bytes(md), from * 4096, image, at, 4096);
                    what = "block " + from + " copied over block " + blk;
                }
            }
            String ctx = (clean ? "clean" : "crashed") + " cache, " + what + " (try " + t + ", seed " + seed + ")";
            md.write(0, ByteBuffer.wrap(image));
            CacheDevice again;
            try {
                again = open(md, cache, origin, r.nextBoolean() ? "smq" : "cleaner");
            } catch (IOException | IllegalArgumentException e) {
                assertThat(e.getMessage()).as("the reason, %s", ctx).isNotBlank();
                ctx = ctx + " [" + e + "]";
                // the one write allowed, as the kernel makes it: the superblock's needs_check flag
                byte[] after = bytes(md);
                assertThat(Arrays.copyOfRange(after, 4096, MD)).as("a failed open writes no block but the "
                        + "superblock, %s", ctx).isEqualTo(Arrays.copyOfRange(image, 4096, MD));
                if (!Arrays.equals(Arrays.copyOf(after, 4096), Arrays.copyOf(image, 4096))) {
                    // needs_check set (and the clean-shutdown flag and the exact-dirty marker may go: the next
                    // open then trusts no dirty bit)
                    assertThat(after[4] & 2).as("needs_check after a failed open, %s", ctx).isEqualTo(2);
                    assertThat(after[4] & ~3).isEqualTo(image[4] & ~3);
                    byte[] expected = Arrays.copyOfRange(image, 0, 4096);
                    Arrays.fill(expected, Superblock.EXACT_DIRTY_OFFSET, Superblock.EXACT_DIRTY_OFFSET + 24, (byte) 0);
                    assertThat(Superblock.exactDirtyMarker(after)).as("the marker after a failed open, %s", ctx)
                            .isFalse();
                    assertThat(Arrays.copyOfRange(after, 5, 4096)).as("the rest of the superblock after a failed "
                            + "open, %s", ctx).isEqualTo(Arrays.copyOfRange(expected, 5, 4096));
                }
                continue;
            } catch (RuntimeException e) {
                throw new AssertionError("open threw " + e + ", " + ctx, e);
            }
            opened++;
            try {
                exercise(again, r);
            } catch (RuntimeException e) {
                throw new AssertionError("I/O threw " + e + ", " + ctx, e);
            }
        }
        System.out.printf("damaged metadata: %d, opened %d (seed %d)%n", tries, opened, seed);
        assertThat(opened).as("some damage leaves a cache that opens").isPositive().isLessThan(tries);
    }

    /** Reads everything, writes, runs background work and closes; I/O errors are allowed, nothing else is. */
    private static void exercise(CacheDevice d, Random r) {
        try {
            ByteBuffer all = ByteBuffer.allocate((int) d.size());
            d.read(0, all);
            for (int i = 0; i < 20; i++) {
                byte[] data = new byte[1 + r.nextInt(2 * BLOCK)];
                long off = r.nextInt((int) d.size() - data.length);
                d.write(off, ByteBuffer.wrap(data));
                ByteBuffer back = ByteBuffer.allocate(data.length);
                d.read(off, back);
                assertThat(back.array()).as("a write reads back").isEqualTo(data);
                d.runBackgroundWork(8);
            }
            d.flush();
        } catch (IOException e) {
            assertThat(e.getMessage()).isNotBlank();
        } finally {
            try {
                d.close();
            } catch (IOException e) {
                assertThat(e.getMessage()).isNotBlank();
            }
        }
    }
}
