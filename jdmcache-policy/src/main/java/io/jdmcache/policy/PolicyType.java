package io.jdmcache.policy;

/**
 * The policies smq can act as: {@code smq} itself, {@code mq} (the old name, with its tunables accepted and
 * ignored) and {@code cleaner} (no promotions or demotions, writes back every dirty block even when busy).
 */
enum PolicyType {
    SMQ("smq", true, false),
    MQ("mq", true, false),
    CLEANER("cleaner", false, true);

    static final PolicyVersion VERSION = new PolicyVersion(2, 0, 0);
    static final int HINT_SIZE = 4;

    private final String storedName;
    private final boolean migrations;
    private final boolean cleaner;

    PolicyType(String storedName, boolean migrations, boolean cleaner) {
        this.storedName = storedName;
        this.migrations = migrations;
        this.cleaner = cleaner;
    }

    String storedName() {
        return storedName;
    }

    boolean mayMigrate() {
        return migrations;
    }

    boolean isCleaner() {
        return cleaner;
    }
}
