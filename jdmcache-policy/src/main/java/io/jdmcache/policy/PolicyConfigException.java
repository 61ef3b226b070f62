package io.jdmcache.policy;

/** A tunable (policy argument or message) that the policy refuses: unknown key or bad value. */
public final class PolicyConfigException extends PolicyException {
    private static final long serialVersionUID = 1L;

    private final String policyName;
    private final String key;

    PolicyConfigException(String policyName, String key, String detail) {
        super("policy " + policyName + ": " + detail);
        this.policyName = policyName;
        this.key = key;
    }

    /** The policy that refused it. */
    public String policyName() {
        return policyName;
    }

    /** The key at fault. */
    public String key() {
        return key;
    }
}
