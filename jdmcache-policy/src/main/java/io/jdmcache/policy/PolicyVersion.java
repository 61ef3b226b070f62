package io.jdmcache.policy;

/**
 * A policy version as stored in the metadata superblock (three unsigned numbers). The kernel only compares
 * the major number when it decides whether stored hints can be reused.
 */
public record PolicyVersion(int major, int minor, int patch) {
    public PolicyVersion {
        if (major < 0 || minor < 0 || patch < 0) {
            throw new IllegalArgumentException("negative policy version component: " + major + "." + minor + "." + patch);
        }
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
