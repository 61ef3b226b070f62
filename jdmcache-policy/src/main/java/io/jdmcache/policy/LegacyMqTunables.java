package io.jdmcache.policy;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Locale;

/**
 * The tunables of the retired mq policy. Since mq became a name for smq, they are accepted (keys compared
 * without case, values unsigned decimal integers) and ignored with a warning, and the status line shows
 * them all as 0, so existing tables and scripts keep working.
 */
final class LegacyMqTunables {
    private static final System.Logger LOG = System.getLogger(LegacyMqTunables.class.getName());
    private static final List<String> KEYS = List.of("random_threshold", "sequential_threshold",
            "discard_promote_adjustment", "read_promote_adjustment", "write_promote_adjustment");
    private static final ConfigValues VALUES = new ConfigValues(List.of(
            "random_threshold", "0", "sequential_threshold", "0", "discard_promote_adjustment", "0",
            "read_promote_adjustment", "0", "write_promote_adjustment", "0"));
    private static final java.math.BigInteger MAX_UNSIGNED_LONG = java.math.BigInteger.ONE.shiftLeft(64)
            .subtract(java.math.BigInteger.ONE);

    private LegacyMqTunables() {
    }

    static ConfigValues values() {
        return VALUES;
    }

    /** Checks and ignores one tunable. */
    static void accept(String policyName, String key, String value) {
        if (!isUnsignedDecimal(value)) {
            throw new PolicyConfigException(policyName, key,
                    "value '" + value + "' for '" + key + "' is not an unsigned decimal integer");
        }
        String lower = key.toLowerCase(Locale.ROOT);
        if (!KEYS.contains(lower)) {
            throw new PolicyConfigException(policyName, key,
                    "unknown tunable '" + key + "' (known, all ignored: " + String.join(", ", KEYS) + ")");
        }
        LOG.log(Level.WARNING, "tunable ''{0}'' no longer has any effect, mq policy is now an alias for smq", key);
    }

    private static boolean isUnsignedDecimal(String value) {
        String digits = value.startsWith("+") ? value.substring(1) : value;
        if (digits.isEmpty() || digits.length() > 20) {
            return false;
        }
        for (int i = 0; i < digits.length(); i++) {
            char ch = digits.charAt(i);
            if (ch < '0' || ch > '9') {
                return false;
            }
        }
        return new java.math.BigInteger(digits).compareTo(MAX_UNSIGNED_LONG) <= 0;
    }
}
