package io.jdmcache.policy;

import java.util.List;

/** A policy name that no policy answers to. */
public final class UnknownPolicyException extends PolicyException {
    private static final long serialVersionUID = 1L;

    private final String policyName;

    UnknownPolicyException(String policyName, List<String> known) {
        super("unknown cache policy '" + policyName + "' (known: " + String.join(", ", known) + ")");
        this.policyName = policyName;
    }

    /** The name that was asked for. */
    public String policyName() {
        return policyName;
    }
}
