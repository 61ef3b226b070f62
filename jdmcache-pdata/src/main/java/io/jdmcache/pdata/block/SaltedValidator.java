package io.jdmcache.pdata.block;

/**
 * The validator shape every dm persistent-data block kind shares: a salted checksum in bytes 0..3, the
 * block's own number as a u64 at a fixed offset, and optional structural checks.
 */
public final class SaltedValidator implements BlockValidator {

    /** Extra checks run after the location and checksum passed. */
    @FunctionalInterface
    public interface StructureCheck {
        void check(byte[] block, long location) throws MetadataException;
    }

    private final String name;
    private final int salt;
    private final int blocknrOffset;
    private final StructureCheck structure;

    public SaltedValidator(String name, int salt, int blocknrOffset, StructureCheck structure) {
        this.name = name;
        this.salt = salt;
        this.blocknrOffset = blocknrOffset;
        this.structure = structure;
    }

    public SaltedValidator(String name, int salt, int blocknrOffset) {
        this(name, salt, blocknrOffset, null);
    }

    public int salt() {
        return salt;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public void prepareForWrite(byte[] block, long location) {
        Bytes.put64(block, blocknrOffset, location);
        Checksums.stamp(block, salt);
    }

    @Override
    public void check(byte[] block, long location) throws MetadataException {
        long stored = Bytes.i64(block, blocknrOffset);
        if (stored != location) {
            throw new WrongLocationException(name, location, stored);
        }
        int expected = Checksums.compute(block, salt);
        int actual = Checksums.stored(block);
        if (expected != actual) {
            throw new ChecksumException(name, location, actual, expected);
        }
        if (structure != null) {
            structure.check(block, location);
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
