package io.jdmcache.tools.check;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.Vectors;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** cache_check's verdict on every reference vector, and the kind of problem it names. */
class CheckerVectorTest {
    /** What the report must mention for each damaged image. */
    static final Map<String, String> EXPECTED_PROBLEM = Map.ofEntries(
            Map.entry("bad-sb-csum", "bad checksum in superblock"),
            Map.entry("bad-sb-zeroed", "bad checksum in superblock"),
            Map.entry("bad-sb-magic", "magic is incorrect: 12345"),
            Map.entry("bad-sb-version", "version incorrect: 7"),
            Map.entry("bad-mapping-node", "bad checksum in btree node (block 4)"),
            Map.entry("bad-mapping-ablock", "bad checksum in array block (block 9)"),
            Map.entry("bad-hint-ablock", "bad checksum in array block (block 11)"),
            Map.entry("truncated-9blocks", "block out of bounds (9 >= 9)"),
            Map.entry("dup-oblock-v1", "origin block already mapped [cblock = 4, oblock = 40520, flags = 1]"),
            Map.entry("bad-mapping-flags-v1", "unknown flags in mapping [cblock = 1, oblock = 40520, flags = 7]"),
            Map.entry("dirty-flag-in-mapping-v2", "unknown flags in mapping [cblock = 1, oblock = 40520, flags = 3]"),
            Map.entry("bad-cache-blocks", "missing mappings [1024, "));

    static MemoryBlockDevice load(String name) throws IOException {
        byte[] img = Vectors.image(name);
        MemoryBlockDevice dev = new MemoryBlockDevice(name, img.length);
        dev.write(0, ByteBuffer.wrap(img));
        dev.setReadOnly(true);
        return dev;
    }

    static String text(CheckReport r) {
        StringBuilder sb = new StringBuilder();
        r.lines().forEach(l -> sb.append(l.text()).append('\n'));
        return sb.toString();
    }

    @TestFactory
    List<DynamicTest> everyVector() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Vectors.Row row : Vectors.manifest()) {
            if (row.name().equals("truncated-4095b")) {
                continue; // too small to be metadata: the command line reports it before any check
            }
            tests.add(DynamicTest.dynamicTest(row.name(), () -> {
                CheckReport r = CacheChecker.check(load(row.name()), CheckOptions.ALL);
                String out = text(r);
                // the reference fails the empty caches by mistake: jdmcache accepts them
                boolean shouldPass = row.checkRc() == 0 || row.name().startsWith("zero-blocks");
                assertThat(r.failed()).as(out).isEqualTo(!shouldPass);
                String problem = EXPECTED_PROBLEM.get(row.name());
                if (problem != null) {
                    assertThat(out).contains(problem);
                }
                if (shouldPass) {
                    assertThat(out).contains("examining space map");
                }
                if (row.name().equals("small-v2")) {
                    assertThat(out).contains("303 dirty bits set on unmapped cache blocks");
                }
            }));
        }
        return tests;
    }
}
