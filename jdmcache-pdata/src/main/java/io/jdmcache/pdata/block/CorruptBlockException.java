package io.jdmcache.pdata.block;

/** A block's checksum is right but its structure breaks the rules of its kind. */
public final class CorruptBlockException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final String kind;
    private final long block;
    private final String detail;

    public CorruptBlockException(String kind, long block, String detail) {
        super(detail + " (" + kind + ", block " + block + ")");
        this.kind = kind;
        this.block = block;
        this.detail = detail;
    }

    public String kind() {
        return kind;
    }

    @Override
    public long block() {
        return block;
    }

    public String detail() {
        return detail;
    }
}
