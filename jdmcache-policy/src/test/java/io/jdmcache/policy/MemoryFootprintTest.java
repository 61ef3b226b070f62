package io.jdmcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Bytes per cache block of smq for 10,000,000 cache blocks, measured from the lengths of the arrays actually
 * reachable from the policy object (a reflective walk), and checked against the policy's own accounting.
 */
class MemoryFootprintTest {
    private static final int CACHE_BLOCKS = 10_000_000;
    /** 64 GiB origin in 64 KiB blocks: 16 x the cache, so the hotspot blocks keep their full 16-block size. */
    private static final long ORIGIN_BLOCKS = 16L * CACHE_BLOCKS;

    @Test
    void smqStaysWithin32BytesPerCacheBlock() throws IllegalAccessException {
        CachePolicy p = Policies.create("smq", CACHE_BLOCKS, ORIGIN_BLOCKS, 128, new FakeClock());
        long walked = primitiveArrayBytes(p, new IdentityHashMap<>());
        MemoryFootprint f = p.memoryFootprint();
        System.out.printf(Locale.ROOT, "smq, %,d cache blocks, %,d hotspot blocks: %.2f B/cache block for mapping + policy,"
                        + " %.2f B/cache block of hotspot state, %.2f B/cache block in all (%,d bytes of arrays walked)%n",
                f.cacheBlocks(), f.hotspotBlocks(), f.cacheBytesPerBlock(), f.hotspotBytesPerCacheBlock(),
                (double) walked / CACHE_BLOCKS, walked);
        assertEquals(CACHE_BLOCKS, f.cacheBlocks());
        assertEquals(CACHE_BLOCKS / 4, f.hotspotBlocks());
        long fixed = walked - f.totalBytes();
        assertTrue(fixed >= 0 && fixed < 64 * 1024,
                "the policy's own accounting misses only fixed-size arrays (per-level heads and targets): " + fixed);
        assertTrue(f.cacheBytesPerBlock() <= 32, "mapping + policy state per cache block: " + f.cacheBytesPerBlock());
        assertTrue((double) walked / CACHE_BLOCKS <= 32, "everything per cache block: " + (double) walked / CACHE_BLOCKS);
    }

    /** Sums the primitive arrays reachable from {@code o} through fields of this package's objects. */
    private static long primitiveArrayBytes(Object o, Map<Object, Boolean> seen) throws IllegalAccessException {
        if (o == null || seen.put(o, Boolean.TRUE) != null) {
            return 0;
        }
        Class<?> c = o.getClass();
        if (c.isArray()) {
            Class<?> e = c.getComponentType();
            if (e.isPrimitive()) {
                return (long) Array.getLength(o) * width(e);
            }
            long sum = 0;
            for (int i = 0; i < Array.getLength(o); i++) {
                sum += primitiveArrayBytes(Array.get(o, i), seen);
            }
            return sum;
        }
        if (!c.getPackageName().equals(CachePolicy.class.getPackageName())) {
            return 0; // clocks, enums' names, loggers: not policy state
        }
        long sum = 0;
        for (Class<?> k = c; k != null && k.getPackageName().equals(c.getPackageName()); k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                    continue;
                }
                f.setAccessible(true);
                sum += primitiveArrayBytes(f.get(o), seen);
            }
        }
        return sum;
    }

    private static int width(Class<?> primitive) {
        if (primitive == long.class || primitive == double.class) {
            return 8;
        }
        if (primitive == int.class || primitive == float.class) {
            return 4;
        }
        if (primitive == short.class || primitive == char.class) {
            return 2;
        }
        return 1;
    }
}
