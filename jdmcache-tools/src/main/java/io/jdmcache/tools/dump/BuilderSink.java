package io.jdmcache.tools.dump;

import io.jdmcache.metadata.MetadataBuilder;
import io.jdmcache.metadata.PolicyInfo;

/** Collects what a {@link MetadataReader} reads into a {@link MetadataBuilder} of the same format: repair. */
public final class BuilderSink implements ContentSink {
    private MetadataBuilder builder;
    private Header header;

    public MetadataBuilder builder() {
        return builder;
    }

    public Header header() {
        return header;
    }

    @Override
    public void begin(Header h) {
        header = h;
        builder = new MetadataBuilder(h.version(), h.dataBlockSize(), h.cacheBlocks());
        int[] v = h.policyVersion();
        String name = h.policy().isEmpty() ? "smq" : h.policy();
        builder.setPolicy(new PolicyInfo(name, v[0], v[1], v[2], 4));
        if (h.hasDiscards()) {
            builder.setDiscardGeometry(h.discardBlockSize(), h.discardNrBlocks());
        }
    }

    @Override
    public void mapping(long cblock, long oblock, boolean dirty) {
        builder.setMapping(cblock, oblock, dirty);
    }

    @Override
    public void endMappings() {
    }

    @Override
    public void hint(long cblock, int hint) {
        builder.setHint(cblock, hint);
    }

    @Override
    public void endHints() {
    }

    @Override
    public void discard(long begin, long end) {
        builder.setDiscarded(begin, end);
    }

    @Override
    public void end() {
    }
}
