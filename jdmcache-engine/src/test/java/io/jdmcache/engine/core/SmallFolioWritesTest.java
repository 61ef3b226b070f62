package io.jdmcache.engine.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.ForwardingBlockDevice;
import io.jdmcache.pdata.io.MemoryBlockDevice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The cache device's writes cut into pieces of at most 16 KiB, aligned to 16 KiB, with the data intact. */
class SmallFolioWritesTest {

    @Test
    void writesAreCutAtSixteenKibBoundariesAndReadBackWhole() throws IOException {
        SplittableRandom rnd = new SplittableRandom(16);
        for (int t = 0; t < 200; t++) {
            List<long[]> calls = new ArrayList<>();
            MemoryBlockDevice mem = new MemoryBlockDevice(1 << 20);
            BlockDevice d = SmallFolioWrites.of(new Recording(mem, calls));
            long offset = rnd.nextInt(1 << 19);
            int len = 1 + rnd.nextInt(1 << 18);
            byte[] data = new byte[len];
            rnd.nextBytes(data);
            // the buffer's window within a larger array, with a limit short of its capacity, as callers pass it
            ByteBuffer src = ByteBuffer.allocate(len + 100);
            src.position(37);
            src.put(data, 0, Math.min(len, src.remaining()));
            src.position(37).limit(37 + Math.min(len, src.capacity() - 37));
            int n = src.remaining();
            int limit = src.limit();
            d.write(offset, src);
            assertThat(src.position()).as("everything written").isEqualTo(limit);
            assertThat(src.limit()).as("limit restored").isEqualTo(limit);
            long at = offset;
            for (long[] c : calls) {
                assertThat(c[0]).as("pieces in order, back to back").isEqualTo(at);
                assertThat(c[1]).isBetween(1L, (long) SmallFolioWrites.PIECE);
                if (n > SmallFolioWrites.PIECE) {
                    assertThat(c[0] / SmallFolioWrites.PIECE).as("a piece stays within one 16 KiB unit")
                            .isEqualTo((c[0] + c[1] - 1) / SmallFolioWrites.PIECE);
                }
                at += c[1];
            }
            assertThat(at).isEqualTo(offset + n);
            if (n <= SmallFolioWrites.PIECE) {
                assertThat(calls).as("a small write is passed on as it is").hasSize(1);
            }
            ByteBuffer back = ByteBuffer.allocate(n);
            d.read(offset, back);
            byte[] want = java.util.Arrays.copyOf(data, n);
            assertThat(back.array()).isEqualTo(want);
        }
    }

    @Test
    void writeZeroesGoesThroughThePieces() throws IOException {
        List<long[]> calls = new ArrayList<>();
        MemoryBlockDevice mem = new MemoryBlockDevice(1 << 20);
        ByteBuffer ones = ByteBuffer.allocate(1 << 20);
        while (ones.hasRemaining()) {
            ones.put((byte) 1);
        }
        mem.write(0, ones.flip());
        BlockDevice d = SmallFolioWrites.of(new Recording(mem, calls));
        d.writeZeroes(4096, 200_000);
        assertThat(calls).allSatisfy(c -> assertThat(c[1]).isLessThanOrEqualTo(SmallFolioWrites.PIECE));
        ByteBuffer back = ByteBuffer.allocate(1 << 20);
        mem.read(0, back);
        for (int i = 0; i < back.capacity(); i++) {
            assertThat(back.get(i)).as("byte %d", i).isEqualTo(i >= 4096 && i < 204_096 ? (byte) 0 : (byte) 1);
        }
        assertThat(SmallFolioWrites.of(d)).as("not wrapped twice").isSameAs(d);
    }

    /** Records each write's offset and length. */
    private static final class Recording extends ForwardingBlockDevice {
        private final List<long[]> calls;

        Recording(BlockDevice d, List<long[]> calls) {
            super(d);
            this.calls = calls;
        }

        @Override
        public void write(long offset, ByteBuffer src) throws IOException {
            calls.add(new long[] {offset, src.remaining()});
            super.write(offset, src);
        }
    }
}
