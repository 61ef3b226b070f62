package io.jdmcache.pdata.block;

/** A block read from one location says it belongs at another. */
public final class WrongLocationException extends MetadataException {
    private static final long serialVersionUID = 1L;
    private final String kind;
    private final long block;
    private final long storedBlockNr;

    public WrongLocationException(String kind, long block, long storedBlockNr) {
        super("bad block nr in " + kind + " (block " + block + " says it is block "
                + Long.toUnsignedString(storedBlockNr) + ")");
        this.kind = kind;
        this.block = block;
        this.storedBlockNr = storedBlockNr;
    }

    public String kind() {
        return kind;
    }

    @Override
    public long block() {
        return block;
    }

    public long storedBlockNr() {
        return storedBlockNr;
    }
}
