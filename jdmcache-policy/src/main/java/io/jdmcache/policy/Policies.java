package io.jdmcache.policy;

import java.util.List;
import java.util.Objects;

/**
 * Creates policies by the names a cache table line uses.
 *
 * <table>
 *   <caption>Policy names</caption>
 *   <tr><th>name</th><th>stored name</th><th>behaviour</th><th>tunables</th></tr>
 *   <tr><td>{@code smq}</td><td>smq</td><td>stochastic multiqueue</td><td>none</td></tr>
 *   <tr><td>{@code mq}</td><td>mq</td><td>smq</td><td>mq's five, accepted and ignored</td></tr>
 *   <tr><td>{@code default}</td><td>smq</td><td>smq</td><td>none</td></tr>
 *   <tr><td>{@code cleaner}</td><td>cleaner</td><td>no promotions or demotions; writes back every dirty
 *       block, also when busy</td><td>none</td></tr>
 *   <tr><td>{@code wtlfu}</td><td>wtlfu</td><td>Window TinyLFU with a hill-climbed window
 *       ({@link TinyLfuPolicy})</td><td>none</td></tr>
 * </table>
 * smq, mq and cleaner are version 2.0.0, wtlfu 1.0.0; all have 4-byte hints. Stateless; thread-safe.
 */
public final class Policies {
    /** The names {@link #create} accepts, in the order they are listed in errors. */
    public static final List<String> NAMES = List.of("smq", "mq", "cleaner", "default", "wtlfu");

    private Policies() {
    }

    /**
     * Creates a policy on the system clock.
     *
     * @param name                  {@code smq}, {@code mq}, {@code cleaner}, {@code default} or {@code wtlfu}
     *                              (case-sensitive)
     * @param cacheBlocks           number of cache blocks, {@code >= 0}
     * @param originBlocks          number of origin blocks (cache-block sized), {@code >= 0}
     * @param cacheBlockSizeSectors the cache block size in 512-byte sectors, {@code > 0}
     * @throws UnknownPolicyException   for any other name
     * @throws IllegalArgumentException for a size out of range
     */
    public static CachePolicy create(String name, int cacheBlocks, long originBlocks, long cacheBlockSizeSectors) {
        return create(name, cacheBlocks, originBlocks, cacheBlockSizeSectors, PolicyClock.SYSTEM);
    }

    /** As {@link #create(String, int, long, long)}, with the given clock for the policy's periods. */
    public static CachePolicy create(String name, int cacheBlocks, long originBlocks, long cacheBlockSizeSectors,
                                     PolicyClock clock) {
        Objects.requireNonNull(name, "name");
        PolicyType type = name.equals(TinyLfuPolicy.NAME) ? null : type(name);
        if (cacheBlockSizeSectors <= 0) {
            throw new IllegalArgumentException("cache block size must be positive: " + cacheBlockSizeSectors + " sectors");
        }
        Objects.requireNonNull(clock, "clock");
        return type == null ? new TinyLfuPolicy(cacheBlocks, originBlocks) : new SmqPolicy(type, cacheBlocks, originBlocks, clock);
    }

    /** The name a policy created as {@code name} stores in the metadata ({@code default} stores {@code smq}). */
    public static String storedName(String name) {
        if (TinyLfuPolicy.NAME.equals(name)) {
            return TinyLfuPolicy.NAME;
        }
        return type(name).storedName();
    }

    /** Whether {@link #create} accepts this name. */
    public static boolean isKnown(String name) {
        return NAMES.contains(name);
    }

    private static PolicyType type(String name) {
        Objects.requireNonNull(name, "name");
        return switch (name) {
            case "smq", "default" -> PolicyType.SMQ;
            case "mq" -> PolicyType.MQ;
            case "cleaner" -> PolicyType.CLEANER;
            default -> throw new UnknownPolicyException(name, NAMES);
        };
    }
}
