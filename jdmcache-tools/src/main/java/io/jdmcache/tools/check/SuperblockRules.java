package io.jdmcache.tools.check;

import io.jdmcache.metadata.Superblock;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.sm.MetadataSpaceMap;
import io.jdmcache.pdata.sm.SpaceMapRoot;

import java.util.ArrayList;
import java.util.List;

/**
 * The rules a superblock (whose checksum is already known to be good) must follow, shared by check (which
 * reports every broken one) and dump and repair (which refuse to interpret a superblock that breaks one).
 */
public final class SuperblockRules {
    private SuperblockRules() {
    }

    /** Every rule {@code raw} (the superblock's 4096 bytes, unpacked as {@code sb}) breaks, one line each. */
    public static List<String> broken(byte[] raw, Superblock sb, long deviceBlocks) {
        List<String> out = new ArrayList<>();
        long blocknr = Bytes.i64(raw, 8);
        if (blocknr != 0) {
            out.add(Long.compareUnsigned(blocknr, deviceBlocks) >= 0
                    ? "blocknr out of bounds: " + Long.toUnsignedString(blocknr) + " >= " + deviceBlocks
                    : "blocknr is " + blocknr + ", not 0");
        }
        if ((sb.flags() & ~Superblock.KNOWN_FLAGS) != 0) {
            out.add("invalid flags: " + Integer.toUnsignedString(sb.flags()));
        }
        if (sb.magic() != Superblock.MAGIC) {
            out.add("magic is incorrect: " + Long.toUnsignedString(sb.magic()));
        }
        if (sb.version() < Superblock.MIN_VERSION || sb.version() > Superblock.MAX_VERSION) {
            out.add("version incorrect: " + Integer.toUnsignedString(sb.version()));
        }
        if (!Superblock.policyNameTerminated(raw)) {
            out.add("policy name is not null terminated");
        } else {
            for (int i = 0; raw[44 + i] != 0; i++) {
                int c = raw[44 + i] & 0xff;
                if (c < 0x21 || c > 0x7e) {
                    out.add("policy name has a byte outside printable ASCII: 0x" + Integer.toHexString(c)
                            + " at position " + i);
                    break;
                }
            }
        }
        int hs = sb.policyHintSize();
        if (hs != 0 && hs != 4) {
            out.add("policy hint size invalid: " + Integer.toUnsignedString(hs) + " (only 4-byte hints exist)");
        }
        if (sb.metadataBlockSize() != Superblock.METADATA_BLOCK_SECTORS) {
            out.add("metadata block size incorrect: " + sb.metadataBlockSize());
        }
        if (sb.compatFlags() != 0) {
            out.add("compat_flags invalid (can only be 0): " + sb.compatFlags());
        }
        if (sb.compatRoFlags() != 0) {
            out.add("compat_ro_flags invalid (can only be 0): " + sb.compatRoFlags());
        }
        if (sb.incompatFlags() != 0) {
            out.add("incompat_flags invalid (can only be 0): " + sb.incompatFlags());
        }
        long dbs = sb.dataBlockSize();
        if (dbs < 64 || dbs > 2097152 || dbs % 64 != 0) {
            out.add("data block size invalid: " + dbs + " sectors (must be a multiple of 64 in 64..2097152)");
        }
        SpaceMapRoot r = sb.spaceMapRoot();
        if (r.nrBlocks() <= 0 || r.nrBlocks() > MetadataSpaceMap.MAX_BLOCKS) {
            out.add("space map size invalid: " + r.nrBlocks() + " blocks (1.." + MetadataSpaceMap.MAX_BLOCKS + ")");
        }
        return out;
    }
}
