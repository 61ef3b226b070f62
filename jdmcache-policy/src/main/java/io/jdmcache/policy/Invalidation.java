package io.jdmcache.policy;

/** What {@link CachePolicy#tryInvalidateMapping} did with a cache block. */
public enum Invalidation {
    /** The mapping was dropped and the cache block freed. */
    DROPPED,
    /** The cache block was not mapped (free, or reserved by a promotion); nothing changed. */
    NOT_MAPPED,
    /** Background work on the block has been issued; nothing changed (try again once it completes). */
    BUSY
}
