package io.jdmcache.pdata.testing;

import io.jdmcache.pdata.block.BlockManager;
import io.jdmcache.pdata.block.Bytes;
import io.jdmcache.pdata.block.MetadataException;
import io.jdmcache.pdata.block.ReadBlock;
import io.jdmcache.pdata.block.SaltedValidator;
import io.jdmcache.pdata.sm.SpaceMapRoot;

/**
 * The few dm-cache superblock fields the pdata tests need to find the structures in reference images
 * (offsets from format-spec.md section 2; the real superblock class lives in the metadata layer).
 */
public record CacheImage(int flags, int version, SpaceMapRoot smRoot, long mappingRoot, long hintRoot,
                         long discardRoot, long discardBlockSize, long discardNrBlocks, int dataBlockSize,
                         long cacheBlocks, int hintSize, long dirtyRoot) {
    public static final SaltedValidator SUPERBLOCK = new SaltedValidator("superblock", 9031977, 8);

    public static CacheImage read(BlockManager bm) throws MetadataException {
        try (ReadBlock r = bm.read(0, SUPERBLOCK)) {
            byte[] d = r.data();
            return new CacheImage(Bytes.i32(d, 4), Bytes.i32(d, 40), SpaceMapRoot.unpack(d, 64),
                    Bytes.i64(d, 192), Bytes.i64(d, 200), Bytes.i64(d, 208), Bytes.i64(d, 216),
                    Bytes.i64(d, 224), Bytes.i32(d, 232), Bytes.u32(d, 240), Bytes.i32(d, 60),
                    Bytes.i64(d, 284));
        }
    }
}
