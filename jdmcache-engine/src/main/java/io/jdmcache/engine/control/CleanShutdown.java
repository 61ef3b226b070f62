package io.jdmcache.engine.control;

import io.jdmcache.engine.core.DiscardSet;
import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.PolicyInfo;
import io.jdmcache.policy.CachePolicy;

import java.io.IOException;

/** What a clean shutdown stores before its last commit: the dirty bits, the changed discard bits and the hints. */
public final class CleanShutdown {
    private CleanShutdown() {
    }

    public static void save(CacheMetadata md, CachePolicy policy, PolicyInfo policyInfo, DiscardSet discards,
                            int cacheBlocks) throws IOException {
        long[] words = new long[(cacheBlocks + 63) >>> 6];
        policy.forEachMapping((c, o, dirty, hint) -> {
            if (dirty) {
                words[c >>> 6] |= 1L << c;
            }
        });
        md.setDirtyBits(words, cacheBlocks);
        discards.saveChanges(md::setDiscard);
        md.writeHints(policyInfo, c -> policy.getHint((int) c) & 0xffffffffL);
    }
}
