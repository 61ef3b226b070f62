package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Names, versions, hint sizes, tunables and the status-line text of every policy name. */
class PoliciesTest {
    private static final String MQ_STATUS = "10 random_threshold 0 sequential_threshold 0 discard_promote_adjustment 0 "
            + "read_promote_adjustment 0 write_promote_adjustment 0";

    private static CachePolicy create(String name) {
        return Policies.create(name, 100, 10_000, 128, new FakeClock());
    }

    @Test
    void storedNamesVersionsAndHintSizes() {
        assertEquals("smq", create("smq").name());
        assertEquals("smq", create("default").name(), "default is stored as smq");
        assertEquals("mq", create("mq").name());
        assertEquals("cleaner", create("cleaner").name());
        assertEquals("wtlfu", create("wtlfu").name());
        assertEquals(new PolicyVersion(1, 0, 0), create("wtlfu").version(), "wtlfu has its own version");
        assertEquals("wtlfu", Policies.storedName("wtlfu"));
        for (String n : Policies.NAMES) {
            CachePolicy p = create(n);
            if (!n.equals("wtlfu")) {
                assertEquals(new PolicyVersion(2, 0, 0), p.version(), n);
                assertEquals("2.0.0", p.version().toString());
            }
            assertEquals(4, p.hintSize(), n);
            assertEquals(100, p.cacheBlocks());
        }
        assertEquals("smq", Policies.storedName("default"));
        assertEquals("mq", Policies.storedName("mq"));
        assertTrue(Policies.isKnown("cleaner"));
        assertFalse(Policies.isKnown("SMQ"), "names are case-sensitive");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lru", "SMQ", "", "default ", "smq2", "WTLFU", "wtlfu2"})
    void unknownNamesAreRefusedWithTheList(String name) {
        UnknownPolicyException e = assertThrows(UnknownPolicyException.class, () -> create(name));
        assertEquals("unknown cache policy '" + name + "' (known: smq, mq, cleaner, default, wtlfu)", e.getMessage());
        assertEquals(name, e.policyName());
        assertThrows(UnknownPolicyException.class, () -> Policies.storedName(name));
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Policies.create("smq", -1, 10, 128));
        assertThrows(IllegalArgumentException.class, () -> Policies.create("smq", 10, -1, 128));
        assertThrows(IllegalArgumentException.class, () -> Policies.create("smq", 10, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> Policies.create("smq", SmqPolicy.MAX_CACHE_BLOCKS + 1, 10, 128));
    }

    @ParameterizedTest
    @ValueSource(strings = {"smq", "wtlfu"})
    void anEmptyCacheMissesEverything(String name) {
        CachePolicy p = Policies.create(name, 0, 100, 128, new FakeClock());
        for (int i = 0; i < 100; i++) {
            p.tick(true);
            assertTrue(p.lookup(i % 7, IoDirection.WRITE, true) < 0);
            assertTrue(p.getBackgroundWork(true).isEmpty());
        }
        assertEquals(0, p.residency());
        assertEquals(-1, p.nextMapped(0));
    }

    @Test
    void statusTextOfEachPolicy() {
        assertEquals("0", create("smq").emitConfigValues().statusText());
        assertEquals("0", create("default").emitConfigValues().statusText());
        assertEquals("0", create("cleaner").emitConfigValues().statusText());
        assertEquals("6 window_percent 0 adaptive_window 0 duel 1", create("wtlfu").emitConfigValues().statusText());
        assertEquals(MQ_STATUS, create("mq").emitConfigValues().statusText());
        assertEquals(10, create("mq").emitConfigValues().tokens().size());
    }

    @Test
    void mqAcceptsAndIgnoresItsOldTunables() {
        CachePolicy mq = create("mq");
        for (String key : List.of("random_threshold", "sequential_threshold", "discard_promote_adjustment",
                "read_promote_adjustment", "write_promote_adjustment", "Random_Threshold")) {
            mq.setConfigValue(key, "17");
        }
        mq.setConfigValue("sequential_threshold", "+18446744073709551615");
        assertEquals(MQ_STATUS, mq.emitConfigValues().statusText(), "values are ignored, the status shows 0");
    }

    @Test
    void mqRefusesUnknownKeysAndBadValues() {
        CachePolicy mq = create("mq");
        PolicyConfigException e = assertThrows(PolicyConfigException.class, () -> mq.setConfigValue("migration_threshold", "5"));
        assertEquals("policy mq: unknown tunable 'migration_threshold' (known, all ignored: random_threshold, "
                + "sequential_threshold, discard_promote_adjustment, read_promote_adjustment, write_promote_adjustment)",
                e.getMessage());
        assertEquals("migration_threshold", e.key());
        assertEquals("mq", e.policyName());
        for (String bad : List.of("-1", "", "1x", "0x10", "18446744073709551616", " 5")) {
            PolicyConfigException b = assertThrows(PolicyConfigException.class, () -> mq.setConfigValue("random_threshold", bad));
            assertEquals("policy mq: value '" + bad + "' for 'random_threshold' is not an unsigned decimal integer",
                    b.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"smq", "default", "cleaner"})
    void policiesWithoutTunablesRefuseEveryKey(String name) {
        CachePolicy p = create(name);
        String stored = p.name();
        for (String key : List.of("random_threshold", "sequential_threshold", "anything")) {
            PolicyConfigException e = assertThrows(PolicyConfigException.class, () -> p.setConfigValue(key, "0"));
            assertEquals("policy " + stored + ": unknown tunable '" + key + "' (" + stored + " has no tunables)", e.getMessage());
        }
    }

    @Test
    void valueTypesCheckTheirInput() {
        assertThrows(IllegalArgumentException.class, () -> new PolicyVersion(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new ConfigValues(List.of("lonely")));
        assertThrows(IllegalArgumentException.class, () -> new PolicyWork(WorkOp.PROMOTE, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> new PolicyWork(WorkOp.PROMOTE, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> new LookupResult.Promote(new PolicyWork(WorkOp.DEMOTE, 1, 1)));
        assertEquals("promote(oblock=5, cblock=2)", new PolicyWork(WorkOp.PROMOTE, 5, 2).toString());
    }

    @Test
    void outOfRangeBlocksAreRefused() {
        CachePolicy p = create("smq");
        assertThrows(IllegalArgumentException.class, () -> p.lookup(10_000, IoDirection.READ, false));
        assertThrows(IllegalArgumentException.class, () -> p.lookup(-1, IoDirection.READ, false));
        assertThrows(IllegalArgumentException.class, () -> p.setDirty(100));
        assertThrows(IllegalArgumentException.class, () -> p.getHint(-1));
        assertThrows(IllegalArgumentException.class, () -> p.loadMapping(1, 100, false, 0, false));
        assertThrows(IllegalArgumentException.class, () -> p.loadMapping(10_000, 1, false, 0, false));
    }
}
