package io.jdmcache.policy;

/** The direction of the I/O that caused a lookup (the kernel's {@code data_dir}). */
public enum IoDirection {
    READ,
    WRITE
}
