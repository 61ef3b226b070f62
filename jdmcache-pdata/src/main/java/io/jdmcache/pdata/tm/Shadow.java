package io.jdmcache.pdata.tm;

import io.jdmcache.pdata.block.WriteBlock;

/**
 * The result of shadowing a block: the writable copy (possibly the same block, when it is already new in
 * this transaction) and whether the caller must increment the references held by its contents (the
 * original was shared, so its children now have one more parent).
 */
public record Shadow(WriteBlock block, boolean incChildren) {
    public long location() {
        return block.location();
    }
}
