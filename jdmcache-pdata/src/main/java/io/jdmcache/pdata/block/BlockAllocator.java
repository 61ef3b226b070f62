package io.jdmcache.pdata.block;

/** Hands out fresh, zeroed, write-locked blocks (the transaction manager, or a space map at commit). */
@FunctionalInterface
public interface BlockAllocator {
    WriteBlock newBlock(BlockValidator validator) throws MetadataException;
}
