package io.jdmcache.engine.control;

import io.jdmcache.engine.core.CacheGeometry;
import io.jdmcache.engine.core.DiscardSet;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.CacheStats;
import io.jdmcache.metadata.PolicyInfo;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.policy.CachePolicy;

/**
 * A cache as {@link CacheLoader} opened it: devices, metadata, the policy with every mapping loaded, the
 * discard bits, the counters stored in the metadata, the migration threshold of the table line and how the
 * metadata was found (clean or not, exact dirty bits or not).
 */
public record LoadedCache(CacheGeometry geometry, BlockDevice cacheDev, BlockDevice originDev, CacheMetadata md,
                          CachePolicy policy, PolicyInfo policyInfo, DiscardSet discards, CacheStats storedStats,
                          long migrationThreshold, StartState startState) {
}
