package io.jdmcache.metadata;

/** The kernel's metadata modes: read-write, read-only (after a failure or on request), fail (nothing works). */
public enum MetadataMode {
    READ_WRITE("rw"), READ_ONLY("ro"), FAIL("fail");

    private final String status;

    MetadataMode(String status) {
        this.status = status;
    }

    /** The word the status line uses. */
    public String status() {
        return status;
    }
}
