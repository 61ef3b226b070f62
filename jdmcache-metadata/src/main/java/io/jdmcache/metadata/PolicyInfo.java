package io.jdmcache.metadata;

/**
 * A policy's identity as the metadata stores it: name (at most 15 printable characters; empty in metadata that
 * never recorded a policy, as the kernel leaves it until the first clean shutdown), version triple and hint
 * size in bytes. Stored hints are offered back only to a policy with the same name, major version and
 * hint size.
 */
public record PolicyInfo(String name, int major, int minor, int patch, int hintSize) {
    public static final int MAX_NAME = 15;

    public PolicyInfo {
        if (name.length() > MAX_NAME) {
            throw new IllegalArgumentException("policy name '" + name + "' is longer than " + MAX_NAME
                    + " characters");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x21 || c > 0x7e) {
                throw new IllegalArgumentException("policy name '" + name + "' has a character outside printable ASCII");
            }
        }
        if (hintSize < 0 || hintSize > 8) {
            throw new IllegalArgumentException("policy hint size " + hintSize + " (0..8 bytes supported)");
        }
    }
}
