package io.jdmcache.pdata.block;

import java.util.zip.CRC32C;

/**
 * The metadata block checksum: CRC-32C (Castagnoli) of bytes 4..4095, register started at all ones and
 * not inverted at the end, then XORed with a per-kind salt; stored little-endian in bytes 0..3.
 */
public final class Checksums {
    private Checksums() {
    }

    /** The checksum a block of the kind with {@code salt} must carry. */
    public static int compute(byte[] block, int salt) {
        CRC32C crc = new CRC32C();
        crc.update(block, 4, block.length - 4);
        // CRC32C inverts at the end; the kernel's value is the un-inverted register.
        return (int) (crc.getValue() ^ 0xFFFFFFFFL) ^ salt;
    }

    /** Stamps the checksum into bytes 0..3. */
    public static void stamp(byte[] block, int salt) {
        Bytes.put32(block, 0, compute(block, salt));
    }

    /** The checksum stored in bytes 0..3. */
    public static int stored(byte[] block) {
        return Bytes.i32(block, 0);
    }
}
