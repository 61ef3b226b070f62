package io.jdmcache.policy;

/**
 * A refused policy operation. Each subtype names the thing at fault: a policy name, a tunable, or a cache
 * or origin block. Unchecked, because the engine cannot recover from the state errors (they are bugs in
 * the caller) and the user-facing ones (name, tunable) are reported as one line by the front end.
 */
public abstract sealed class PolicyException extends RuntimeException
        permits UnknownPolicyException, PolicyConfigException, PolicyStateException {

    private static final long serialVersionUID = 1L;

    PolicyException(String message) {
        super(message);
    }
}
