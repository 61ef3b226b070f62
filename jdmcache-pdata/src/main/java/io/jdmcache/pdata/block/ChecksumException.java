package io.jdmcache.pdata.block;

/** A block's stored checksum does not match its contents. */
public final class ChecksumException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final String kind;
    private final long block;
    private final int stored;
    private final int computed;

    public ChecksumException(String kind, long block, int stored, int computed) {
        super(String.format("bad checksum in %s (block %d): stored 0x%08x, computed 0x%08x",
                kind, block, stored, computed));
        this.kind = kind;
        this.block = block;
        this.stored = stored;
        this.computed = computed;
    }

    public String kind() {
        return kind;
    }

    @Override
    public long block() {
        return block;
    }

    public int stored() {
        return stored;
    }

    public int computed() {
        return computed;
    }
}
