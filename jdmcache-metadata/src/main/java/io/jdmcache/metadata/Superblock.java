package io.jdmcache.metadata;

import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.SaltedValidator;
import io.jdmcache.pdata.sm.SpaceMapRoot;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The dm-cache superblock (block 0), an immutable snapshot with its exact on-disk layout.
 *
 * <pre>
 *   0 u32 csum (salt 9031977)   4 u32 flags (bit 0 clean shutdown, bit 1 needs check)   8 u64 blocknr (0)
 *  16 uuid[16]   32 u64 magic 1623043   40 u32 version (1 or 2)   44 policy_name[16]   60 u32 hint size
 *  64 space map root[128] (32 used)   192 u64 mapping_root   200 u64 hint_root   208 u64 discard_root
 * 216 u64 discard_block_size   224 u64 discard_nr_blocks   232 u32 data_block_size   236 u32 metadata_block_size
 * 240 u32 cache_blocks   244 u32 compat   248 u32 compat_ro   252 u32 incompat
 * 256 u32 read_hits, read_misses, write_hits, write_misses   272 u32 policy_version[3]   284 u64 dirty_root (v2)
 * </pre>
 * 292 bytes in all, inside the first sector so the kernel's write of it is atomic; the rest is zero.
 */
public record Superblock(int flags, byte[] uuid, long magic, int version, String policyName, int policyHintSize,
                         SpaceMapRoot spaceMapRoot, long mappingRoot, long hintRoot, long discardRoot,
                         long discardBlockSize, long discardNrBlocks, long dataBlockSize, long metadataBlockSize,
                         long cacheBlocks, long compatFlags, long compatRoFlags, long incompatFlags,
                         CacheStats stats, int[] policyVersion, long dirtyRoot, boolean exactDirty) {

    public static final long MAGIC = 1623043;
    public static final int SALT = 9031977;
    public static final String KIND = "superblock";
    public static final int CLEAN_SHUTDOWN = 1;
    public static final int NEEDS_CHECK = 2;
    public static final int KNOWN_FLAGS = CLEAN_SHUTDOWN | NEEDS_CHECK;
    public static final int MIN_VERSION = 1;
    public static final int MAX_VERSION = 2;
    public static final int METADATA_BLOCK_SECTORS = 8;
    public static final int POLICY_NAME_SIZE = 16;
    public static final int USED_BYTES = 292;
    /** "jdmcXDRT": the exact-dirty marker at {@link #EXACT_DIRTY_OFFSET}. */
    public static final long EXACT_DIRTY_MAGIC = 0x54524458636d646aL;
    public static final int EXACT_DIRTY_OFFSET = 64 + SpaceMapRoot.SIZE;
    /** Location and checksum only: field rules are checked by the metadata layer with their own errors. */
    public static final SaltedValidator VALIDATOR = new SaltedValidator(KIND, SALT, 8);

    public Superblock {
        uuid = uuid.clone();
        policyVersion = policyVersion.clone();
        if (uuid.length != 16 || policyVersion.length != 3) {
            throw new IllegalArgumentException("uuid must be 16 bytes and the policy version 3 numbers");
        }
    }

    public boolean cleanShutdown() {
        return (flags & CLEAN_SHUTDOWN) != 0;
    }

    public boolean needsCheck() {
        return (flags & NEEDS_CHECK) != 0;
    }

    @Override
    public byte[] uuid() {
        return uuid.clone();
    }

    @Override
    public int[] policyVersion() {
        return policyVersion.clone();
    }

    /** Decodes block 0 (no validation beyond what the block validator already did). */
    public static Superblock unpack(byte[] b) {
        return new Superblock(Bytes.i32(b, 4), Arrays.copyOfRange(b, 16, 32), Bytes.i64(b, 32), Bytes.i32(b, 40),
                cString(b, 44, POLICY_NAME_SIZE), Bytes.i32(b, 60), SpaceMapRoot.unpack(b, 64),
                Bytes.i64(b, 192), Bytes.i64(b, 200), Bytes.i64(b, 208), Bytes.i64(b, 216), Bytes.i64(b, 224),
                Bytes.u32(b, 232), Bytes.u32(b, 236), Bytes.u32(b, 240), Bytes.u32(b, 244), Bytes.u32(b, 248),
                Bytes.u32(b, 252),
                new CacheStats(Bytes.u32(b, 256), Bytes.u32(b, 260), Bytes.u32(b, 264), Bytes.u32(b, 268)),
                new int[] {Bytes.i32(b, 272), Bytes.i32(b, 276), Bytes.i32(b, 280)}, Bytes.i64(b, 284),
                exactDirtyMarker(b));
    }

    /**
     * True when block 0 {@code b} carries the exact-dirty marker and its copies of the roots match the
     * superblock's (the dirty root counts only in format 2).
     */
    public static boolean exactDirtyMarker(byte[] b) {
        int o = EXACT_DIRTY_OFFSET;
        long dirtyRoot = Bytes.i32(b, 40) >= 2 ? Bytes.i64(b, 284) : 0;
        return Bytes.i64(b, o) == EXACT_DIRTY_MAGIC && Bytes.i64(b, o + 8) == Bytes.i64(b, 192)
                && Bytes.i64(b, o + 16) == dirtyRoot;
    }

    /** True when the 16-byte policy name field of {@code b} has a NUL terminator. */
    public static boolean policyNameTerminated(byte[] b) {
        for (int i = 0; i < POLICY_NAME_SIZE; i++) {
            if (b[44 + i] == 0) {
                return true;
            }
        }
        return false;
    }

    /** Encodes into a zeroed block (csum and blocknr are stamped by the validator when written). */
    public void pack(byte[] b) {
        Arrays.fill(b, (byte) 0);
        Bytes.put32(b, 4, flags);
        System.arraycopy(uuid, 0, b, 16, 16);
        Bytes.put64(b, 32, magic);
        Bytes.put32(b, 40, version);
        byte[] name = policyName.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(name, 0, b, 44, Math.min(name.length, POLICY_NAME_SIZE - 1));
        Bytes.put32(b, 60, policyHintSize);
        spaceMapRoot.pack(b, 64);
        Bytes.put64(b, 192, mappingRoot);
        Bytes.put64(b, 200, hintRoot);
        Bytes.put64(b, 208, discardRoot);
        Bytes.put64(b, 216, discardBlockSize);
        Bytes.put64(b, 224, discardNrBlocks);
        Bytes.put32(b, 232, dataBlockSize);
        Bytes.put32(b, 236, metadataBlockSize);
        Bytes.put32(b, 240, cacheBlocks);
        Bytes.put32(b, 244, compatFlags);
        Bytes.put32(b, 248, compatRoFlags);
        Bytes.put32(b, 252, incompatFlags);
        Bytes.put32(b, 256, stats.readHits());
        Bytes.put32(b, 260, stats.readMisses());
        Bytes.put32(b, 264, stats.writeHits());
        Bytes.put32(b, 268, stats.writeMisses());
        Bytes.put32(b, 272, policyVersion[0]);
        Bytes.put32(b, 276, policyVersion[1]);
        Bytes.put32(b, 280, policyVersion[2]);
        Bytes.put64(b, 284, version >= 2 ? dirtyRoot : 0);
        if (exactDirty) {
            Bytes.put64(b, EXACT_DIRTY_OFFSET, EXACT_DIRTY_MAGIC);
            Bytes.put64(b, EXACT_DIRTY_OFFSET + 8, mappingRoot);
            Bytes.put64(b, EXACT_DIRTY_OFFSET + 16, version >= 2 ? dirtyRoot : 0);
        }
    }

    private static String cString(byte[] b, int off, int max) {
        int n = 0;
        while (n < max && b[off + n] != 0) {
            n++;
        }
        return new String(b, off, n, StandardCharsets.ISO_8859_1);
    }

    /** A copy with other flags, and without the exact-dirty marker. */
    public Superblock withFlags(int newFlags) {
        return new Superblock(newFlags, uuid, magic, version, policyName, policyHintSize, spaceMapRoot, mappingRoot,
                hintRoot, discardRoot, discardBlockSize, discardNrBlocks, dataBlockSize, metadataBlockSize,
                cacheBlocks, compatFlags, compatRoFlags, incompatFlags, stats, policyVersion, dirtyRoot, false);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Superblock s && Arrays.equals(pack(this), pack(s));
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(pack(this));
    }

    private static byte[] pack(Superblock s) {
        byte[] b = new byte[USED_BYTES + 8];
        byte[] full = new byte[4096];
        s.pack(full);
        System.arraycopy(full, 0, b, 0, b.length);
        return b;
    }

    @Override
    public String toString() {
        return "Superblock[version=" + version + ", flags=" + flags + ", policy=" + policyName + ", cacheBlocks="
                + cacheBlocks + ", dataBlockSize=" + dataBlockSize + ", mappingRoot=" + mappingRoot + ", hintRoot="
                + hintRoot + ", discardRoot=" + discardRoot + ", dirtyRoot=" + dirtyRoot + ", sm=" + spaceMapRoot
                + (exactDirty ? ", exactDirty" : "") + "]";
    }
}
