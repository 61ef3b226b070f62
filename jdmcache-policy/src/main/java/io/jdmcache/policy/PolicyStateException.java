package io.jdmcache.policy;

/**
 * A call that does not fit the policy's state, such as loading a mapping into a cache block that is already
 * in use, completing work that is not in flight, or marking an unmapped block dirty. These are bugs in the
 * caller; the policy's state is unchanged when one is thrown.
 */
public final class PolicyStateException extends PolicyException {
    private static final long serialVersionUID = 1L;

    PolicyStateException(String message) {
        super(message);
    }

    static PolicyStateException cacheBlock(int cblock, String what) {
        return new PolicyStateException("cache block " + cblock + ": " + what);
    }

    static PolicyStateException originBlock(long oblock, String what) {
        return new PolicyStateException("origin block " + oblock + ": " + what);
    }
}
