package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.statistics.Statistics;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CacheConfigTest {

    @Test
    void minimalLineIsWritebackSmqV1() {
        CacheConfig c = CacheConfig.parse("/dev/md /dev/ssd /dev/hdd 512 0 smq 0");
        assertThat(c.metadataDevice()).isEqualTo("/dev/md");
        assertThat(c.cacheDevice()).isEqualTo("/dev/ssd");
        assertThat(c.originDevice()).isEqualTo("/dev/hdd");
        assertThat(c.blockSectors()).isEqualTo(512);
        assertThat(c.blockBytes()).isEqualTo(256 * 1024);
        assertThat(c.mode()).isEqualTo(CacheMode.WRITEBACK);
        assertThat(c.metadataVersion()).isEqualTo(1);
        assertThat(c.discardPassdown()).isTrue();
        assertThat(c.policy()).isEqualTo("smq");
        assertThat(c.policyArgs()).isEmpty();
        assertThat(c.targetSectors()).isEqualTo(-1);
    }

    @Test
    void fullLineWithTargetPrefixFeaturesAndPolicyArgs() {
        CacheConfig c = CacheConfig.parse("0 409600 cache  md ssd hdd 64 3 passthrough metadata2 no_discard_passdown "
                + "mq 4 migration_threshold 4096 sequential_threshold 512");
        assertThat(c.targetSectors()).isEqualTo(409600);
        assertThat(c.mode()).isEqualTo(CacheMode.PASSTHROUGH);
        assertThat(c.metadataVersion()).isEqualTo(2);
        assertThat(c.discardPassdown()).isFalse();
        assertThat(c.policy()).isEqualTo("mq");
        assertThat(c.policyArgs()).containsExactly("migration_threshold", "4096", "sequential_threshold", "512");
        assertThat(c.toTableLine()).isEqualTo("0 409600 cache md ssd hdd 64 3 metadata2 passthrough "
                + "no_discard_passdown mq 4 migration_threshold 4096 sequential_threshold 512");
        assertThat(CacheConfig.parse(c.toTableLine())).isEqualTo(c);
    }

    @Test
    void writethroughFeature() {
        assertThat(CacheConfig.parse("m c o 2097152 1 writethrough default 0").mode()).isEqualTo(CacheMode.WRITETHROUGH);
        assertThat(CacheConfig.parse("m c o 128 1 writeback cleaner 0").policy()).isEqualTo("cleaner");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "m c o 512 0 smq|Insufficient args",
            "m c o|Insufficient args",
            "''|Insufficient args",
            "m c o 100 0 smq 0|Invalid data block size 100",
            "m c o 32 0 smq 0|Invalid data block size 32",
            "m c o 4194304 0 smq 0|Invalid data block size 4194304",
            "m c o 0 0 smq 0|Invalid data block size 0",
            "m c o big 0 smq 0|Invalid data block size 'big'",
            "m c o -64 0 smq 0|Invalid data block size -64",
            "m c o 64 4 a b c d smq 0|Invalid number of feature arguments: 4",
            "m c o 64 x smq 0|Invalid number of feature arguments: 'x'",
            "m c o 64 3 writeback smq|Invalid number of feature arguments: 3 announced",
            "m c o 64 1 writearound smq 0|Unrecognised cache feature requested: 'writearound'",
            "m c o 64 2 writeback passthrough smq 0|Duplicate cache io_mode features requested",
            "m c o 64 0 smq 1 migration_threshold|Invalid number of policy arguments: 1 is odd",
            "m c o 64 0 smq 4 migration_threshold 2|Invalid number of policy arguments: 4 announced",
            "m c o 64 0 smq 1025 a|Invalid number of policy arguments: 1025",
            "m c o 64 0 smq 0 extra|Too many arguments: 'extra'",
            "1 100 cache m c o 64 0 smq 0|Invalid start sector '1'",
            "0 x cache m c o 64 0 smq 0|Invalid target length 'x'",
            "0 0 cache m c o 64 0 smq 0|Invalid target length '0'",
    })
    void kernelLikeErrors(String line, String message) {
        assertThatThrownBy(() -> CacheConfig.parse(line))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void everyMultipleOf64InRangeIsAccepted() {
        for (long s = 64; s <= CacheConfig.MAX_BLOCK_SECTORS; s *= 2) {
            assertThat(CacheConfig.parse("m c o " + s + " 0 smq 0").blockSectors()).isEqualTo(s);
        }
        assertThat(CacheConfig.parse("m c o 192 0 smq 0").blockSectors()).isEqualTo(192);
        assertThatThrownBy(() -> CacheConfig.parse("m c o 65 0 smq 0")).hasMessageContaining("multiple of 64");
    }

    @Test
    void recordRefusesOddPolicyArgs() {
        assertThatThrownBy(() -> new CacheConfig(-1, "m", "c", "o", 64, CacheMode.WRITEBACK, 1, true, "smq",
                List.of("a"))).isInstanceOf(ConfigException.class);
    }

    /** Tokens a table line is made of, right and wrong: numbers of every size and sign, features, policies. */
    private static final String[] TOKENS = {"0", "1", "2", "3", "4", "-1", "64", "128", "65", "192", "2097152",
        "4194304", "99999999999999999999", "9223372036854775807", "0x40", "1e3", "", " ", "cache", "md", "ssd",
        "hdd", "/dev/x", "writeback", "writethrough", "passthrough", "writearound", "metadata2",
        "no_discard_passdown", "smq", "mq", "default", "cleaner", "nosuch", "migration_threshold",
        "sequential_threshold", "random_threshold", "x", "\u00e9", "%s", "\t"};

    /**
     * Any line, valid or not, either parses into a configuration whose table line parses back to it, or is
     * refused with a ConfigException whose message is one non-empty line: never another exception.
     */
    @Property(tries = 3000)
    void everyLineParsesAndRoundTripsOrIsRefusedInOneLine(@ForAll long seed) {
        Random r = new Random(seed);
        List<String> t = new ArrayList<>();
        if (r.nextInt(3) == 0) { // the dmsetup prefix, right or wrong
            t.add(r.nextBoolean() ? "0" : TOKENS[r.nextInt(TOKENS.length)]);
            t.add(r.nextBoolean() ? "409600" : TOKENS[r.nextInt(TOKENS.length)]);
            t.add(r.nextBoolean() ? "cache" : TOKENS[r.nextInt(TOKENS.length)]);
        }
        // mostly the right shape, with some tokens drawn at random
        String[] shape = {"md", "ssd", "hdd", "128", "1", "writeback", "smq", "2", "migration_threshold", "4096"};
        int n = r.nextInt(3) == 0 ? r.nextInt(16) : shape.length;
        for (int i = 0; i < n; i++) {
            t.add(i < shape.length && r.nextInt(4) != 0 ? shape[i] : TOKENS[r.nextInt(TOKENS.length)]);
        }
        String line = String.join(r.nextInt(8) == 0 ? "  " : " ", t);
        CacheConfig c;
        try {
            c = CacheConfig.parse(line);
        } catch (ConfigException e) {
            Statistics.collect("refused");
            assertThat(e.getMessage()).as("the error for '%s'", line).isNotBlank().doesNotContain("\n");
            return;
        }
        Statistics.collect("parsed");
        assertThat(CacheConfig.parse(c.toTableLine())).as("'%s' round trip", line).isEqualTo(c);
    }
}
