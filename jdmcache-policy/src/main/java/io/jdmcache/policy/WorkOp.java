package io.jdmcache.policy;

/** The kind of a background work item (the kernel's {@code enum policy_operation}). */
public enum WorkOp {
    /** Copy origin block {@code oblock} into the free cache block {@code cblock}, then map it. */
    PROMOTE,
    /** Drop the clean mapping {@code cblock -> oblock}; no data moves (the origin already holds it). */
    DEMOTE,
    /** Copy dirty cache block {@code cblock} back to origin block {@code oblock}; the mapping stays. */
    WRITEBACK
}
