package io.jdmcache.engine.control;

import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.core.Counters;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.CacheStats;
import io.jdmcache.metadata.MetadataMode;
import io.jdmcache.policy.CachePolicy;

import java.io.IOException;
import java.util.List;

/**
 * The kernel's status line: {@code <metadata block size> <used>/<total metadata blocks> <cache block size>
 * <used>/<total cache blocks> <read hits> <read misses> <write hits> <write misses> <demotions> <promotions>
 * <dirty> <#features> <features>* <#core args> <core args>* <policy> <#policy args> <policy args>* <rw|ro>
 * <needs_check|->}.
 */
public final class StatusLine {
    /** The kernel's DM_CACHE_METADATA_BLOCK_SIZE in sectors. */
    public static final int METADATA_BLOCK_SECTORS = 8;

    private StatusLine() {
    }

    /** What the metadata says about itself. */
    public record MetadataFields(long usedBlocks, long totalBlocks, boolean needsCheck, MetadataMode mode) {
    }

    /** What the metadata says about itself now, or null when it cannot tell (fail mode, or a read error). */
    public static MetadataFields metadataFields(CacheMetadata md) {
        if (md.mode() == MetadataMode.FAIL) {
            return null;
        }
        try {
            long total = md.totalMetadataBlocks();
            return new MetadataFields(total - md.freeMetadataBlocks(), total, md.needsCheck(), md.mode());
        } catch (IOException e) {
            return null;
        }
    }

    public static String format(MetadataFields md, CacheConfig config, int cacheBlocks, CachePolicy policy,
                                Counters counters, long migrationThreshold) {
        StringBuilder s = new StringBuilder();
        CacheStats st = counters.io();
        s.append(METADATA_BLOCK_SECTORS).append(' ').append(md.usedBlocks()).append('/').append(md.totalBlocks())
                .append(' ')
                .append(config.blockSectors()).append(' ').append(policy.residency()).append('/').append(cacheBlocks)
                .append(' ').append(st.readHits()).append(' ').append(st.readMisses())
                .append(' ').append(st.writeHits()).append(' ').append(st.writeMisses())
                .append(' ').append(counters.demotions()).append(' ').append(counters.promotions())
                .append(' ').append(policy.dirtyCount()).append(' ');
        List<String> f = config.features();
        s.append(f.size());
        for (String w : f) {
            s.append(' ').append(w);
        }
        s.append(" 2 migration_threshold ").append(migrationThreshold);
        s.append(' ').append(policy.name()).append(' ').append(policy.emitConfigValues().statusText());
        s.append(' ').append(md.mode() == MetadataMode.READ_WRITE ? "rw" : "ro");
        s.append(' ').append(md.needsCheck() ? "needs_check" : "-");
        return s.toString();
    }
}
