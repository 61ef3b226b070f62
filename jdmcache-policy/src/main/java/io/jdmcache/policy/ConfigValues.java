package io.jdmcache.policy;

import java.util.List;

/**
 * The policy's part of the status line: its tunables as key/value tokens.
 *
 * @param tokens {@code key value key value ...}; empty for smq and cleaner
 */
public record ConfigValues(List<String> tokens) {
    public ConfigValues {
        tokens = List.copyOf(tokens);
        if (tokens.size() % 2 != 0) {
            throw new IllegalArgumentException("config values must be key/value pairs: " + tokens);
        }
    }

    /** The status-line text: the number of tokens, then the tokens ({@code "0"} when there are none). */
    public String statusText() {
        if (tokens.isEmpty()) {
            return "0";
        }
        return tokens.size() + " " + String.join(" ", tokens);
    }
}
