package io.jdmcache.tools.check;

/** How bad a finding is: a warning never fails the check, an error always does. */
public enum Severity { WARNING, ERROR }
