package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/** The chained hash table against a HashMap: insert, remove, find, and move-to-front lookups. */
class BlockHashTableTest {

    @Property(tries = 200)
    void agreesWithAHashMap(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int entries) {
        SplittableRandom r = new SplittableRandom(seed);
        long[] keys = new long[entries];
        BlockHashTable table = new BlockHashTable(keys);
        Map<Long, Integer> model = new HashMap<>();
        boolean[] inserted = new boolean[entries];
        for (int step = 0; step < 3000; step++) {
            int e = r.nextInt(entries);
            long key = r.nextInt(4) == 0 ? r.nextLong() & Long.MAX_VALUE : r.nextInt(entries * 2) * 64L;
            switch (r.nextInt(4)) {
                case 0 -> {
                    if (!inserted[e] && !model.containsKey(key)) {
                        keys[e] = key;
                        table.insert(e);
                        inserted[e] = true;
                        model.put(key, e);
                    }
                }
                case 1 -> {
                    if (inserted[e]) {
                        table.remove(e);
                        inserted[e] = false;
                        model.remove(keys[e]);
                    }
                }
                case 2 -> assertEquals(model.getOrDefault(key, Links.NULL).intValue(), table.lookup(key), "lookup " + key);
                default -> assertEquals(model.getOrDefault(key, Links.NULL).intValue(), table.find(key), "find " + key);
            }
        }
        for (Map.Entry<Long, Integer> m : model.entrySet()) {
            assertEquals(m.getValue().intValue(), table.find(m.getKey()));
        }
    }

    @Property(tries = 20)
    void bucketsAreAQuarterOfTheEntries(@ForAll @IntRange(min = 0, max = 100_000) int entries) {
        assertEquals(Math.max(entries / 4, 16), new BlockHashTable(new long[entries]).bucketCount());
    }

    /** The bucket count is no power of two: the keys still spread over every bucket, each chain near the load. */
    @Property(tries = 5)
    void consecutiveAndStridedKeysSpreadEvenly(@ForAll @IntRange(min = 4_000, max = 40_000) int entries,
                                               @ForAll @IntRange(min = 1, max = 1 << 20) int stride) {
        long[] keys = new long[entries];
        BlockHashTable table = new BlockHashTable(keys);
        for (int e = 0; e < entries; e++) {
            keys[e] = (long) e * stride;
            table.insert(e);
        }
        int longest = 0;
        for (int e = 0; e < entries; e++) {
            assertEquals(e, table.find(keys[e]));
            int depth = 1; // where e is in its chain: the fewest steps findBounded needs to find it
            while (table.findBounded(keys[e], depth) == Links.NULL) {
                depth++;
            }
            longest = Math.max(longest, depth);
        }
        // a load of 4: with an even spread the longest of some thousands of chains is far below 32
        assertTrue(longest <= 32, "longest chain " + longest);
    }
}
