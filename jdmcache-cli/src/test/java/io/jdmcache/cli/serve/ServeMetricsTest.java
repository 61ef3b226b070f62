package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheDevice;
import io.jdmcache.engine.EngineOptions;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The metric definitions: labelled by volume, one volume's view, documented in the README. */
class ServeMetricsTest {
    static CacheDevice cache() throws Exception {
        CacheConfig c = CacheConfig.parse("md cache origin 128 1 writeback smq 0");
        return CacheDevice.open(c, new MemoryBlockDevice("md", 4 << 20), new MemoryBlockDevice("cache", 1 << 20),
                new MemoryBlockDevice("origin", 4 << 20), EngineOptions.manual(() -> 0L));
    }

    @Test
    void everySeriesCarriesItsVolumeAndOneVolumeCanBeAskedFor() throws Exception {
        try (CacheDevice a = cache(); CacheDevice b = cache()) {
            List<ServeMetrics.Source> volumes = new ArrayList<>(List.of(
                    new ServeMetrics.Source("a", a, null, () -> 0, OriginState.Source.LOCAL),
                    new ServeMetrics.Source("b.2", b, null, () -> 0, () -> OriginState.RECONNECTING)));
            ServeMetrics m = new ServeMetrics(() -> volumes, false);
            m.timer("a").observe(RequestTimer.Op.READ, RequestTimer.Outcome.HIT, 5_000);
            m.timer("b.2").observe(RequestTimer.Op.FLUSH, RequestTimer.Outcome.DONE, 2_000_000);
            String all = m.text(null);
            for (String line : all.lines().toList()) {
                if (!line.startsWith("#")) {
                    assertThat(line).as("a sample with its volume").matches("jdmcache_[a-z_]+\\{.*volume=\"(a|b\\.2)\".*\\} \\S+");
                }
            }
            assertThat(all).contains("jdmcache_origin_state{state=\"reconnecting\",volume=\"b.2\"} 1.0")
                    .contains("jdmcache_origin_state{state=\"connected\",volume=\"a\"} 1.0")
                    .contains("jdmcache_request_duration_seconds_bucket{op=\"read\",outcome=\"hit\",volume=\"a\","
                            + "le=\"1.0E-5\"} 1")
                    .contains("jdmcache_request_duration_seconds_count{op=\"flush\",outcome=\"done\",volume=\"b.2\"} 1");
            String onlyB = m.text("b.2");
            assertThat(onlyB).contains("volume=\"b.2\"").doesNotContain("volume=\"a\"")
                    .contains("# TYPE jdmcache_cache_blocks gauge");
            assertThat(m.text("c")).as("no such volume, nothing").isEmpty();
            // a volume that stops serving leaves the metrics
            volumes.remove(1);
            m.forget("b.2");
            assertThat(m.text(null)).doesNotContain("b.2");
            assertThatThrownBy(() -> m.timer("a").observe(RequestTimer.Op.FLUSH, RequestTimer.Outcome.HIT, 1))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void theReadmeListsEveryMetric() throws Exception {
        String readme = Files.readString(Path.of(System.getProperty("jdmcache.root", ".."), "README.md"));
        try (CacheDevice a = cache()) {
            ServeMetrics m = new ServeMetrics(() -> List.of(
                    new ServeMetrics.Source("a", a, null, () -> 0, OriginState.Source.LOCAL)), false);
            assertThat(m.names()).hasSizeGreaterThan(25);
            for (String name : m.names()) {
                assertThat(readme).as("README mentions %s", name).contains("_" + name.substring("jdmcache_".length()));
            }
        }
    }
}
