package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.metadata.CacheStats;
import io.jdmcache.nbd.NbdServer;
import io.jdmcache.nbd.NbdStats;
import java.util.Map;

/**
 * The running cache's counters and gauges in the Prometheus text exposition format ({@code jdmcache metrics}),
 * for a node exporter's textfile collector or anything else that reads that format.
 */
public final class Metrics {
    private Metrics() {
    }

    /**
     * @param dev the cache
     * @param nbd the NBD server that serves it, or null (then the NBD metrics are left out)
     */
    public static String prometheus(CacheDevice dev, NbdServer nbd) {
        StringBuilder sb = new StringBuilder();
        CacheStats s = dev.stats();
        counter(sb, "read_hits_total", "Reads served from the cache device.", s.readHits());
        counter(sb, "read_misses_total", "Reads served from the origin device.", s.readMisses());
        counter(sb, "write_hits_total", "Writes to blocks held in the cache.", s.writeHits());
        counter(sb, "write_misses_total", "Writes to blocks not held in the cache.", s.writeMisses());
        counter(sb, "promotions_total", "Blocks copied into the cache.", dev.promotions());
        counter(sb, "demotions_total", "Clean blocks dropped from the cache.", dev.demotions());
        counter(sb, "writebacks_total", "Dirty blocks copied back to the origin.", dev.writebacks());
        counter(sb, "writeback_writes_total", "Origin writes that carried write-backs (adjacent ones merged).",
                dev.writebackWrites());
        counter(sb, "metadata_commits_total", "Metadata transactions committed.", dev.commits());
        gauge(sb, "cache_blocks", "Blocks in the cache device.", dev.cacheBlocks());
        gauge(sb, "cache_blocks_used", "Cache blocks holding an origin block.", dev.residency());
        gauge(sb, "dirty_blocks", "Cache blocks newer than the origin.", dev.dirtyBlocks());
        gauge(sb, "block_size_bytes", "The cache block size.", dev.blockBytes());
        gauge(sb, "origin_size_bytes", "The size of the cached volume.", dev.size());
        gauge(sb, "migration_threshold_sectors", "Sectors of background copying allowed in flight.",
                dev.migrationThreshold());
        CacheDevice.MetadataUsage md = dev.metadataUsage();
        if (md != null) {
            gauge(sb, "metadata_blocks_used", "Metadata blocks in use.", md.usedBlocks());
            gauge(sb, "metadata_blocks", "Metadata blocks on the metadata device.", md.totalBlocks());
        }
        String mode = dev.metadataMode().status();
        header(sb, "metadata_mode", "The metadata's mode: 1 for the mode it is in.", "gauge");
        for (String m : new String[] {"rw", "ro", "fail"}) {
            sb.append("jdmcache_metadata_mode{mode=\"").append(m).append("\"} ").append(m.equals(mode) ? 1 : 0)
                    .append('\n');
        }
        gauge(sb, "needs_check", "1 when the metadata asks for cache_check before the next use.",
                md != null && md.needsCheck() ? 1 : 0);
        if (nbd != null) {
            NbdStats n = nbd.stats();
            gauge(sb, "nbd_connections", "NBD client connections open now.", nbd.connectionCount());
            counter(sb, "nbd_connections_total", "NBD client connections accepted.", n.connectionsAccepted());
            header(sb, "nbd_requests_total", "NBD requests received, by command.", "counter");
            for (Map.Entry<String, Long> e : n.requests().entrySet()) {
                sb.append("jdmcache_nbd_requests_total{command=\"").append(e.getKey()).append("\"} ")
                        .append(e.getValue()).append('\n');
            }
            counter(sb, "nbd_errors_total", "NBD requests answered with an error.", n.errors());
            counter(sb, "nbd_read_bytes_total", "Bytes of the NBD READ requests that passed validation.",
                    n.readBytes());
            counter(sb, "nbd_written_bytes_total", "Bytes of the NBD WRITE requests that passed validation.",
                    n.writtenBytes());
        }
        return sb.toString();
    }

    private static void header(StringBuilder sb, String name, String help, String type) {
        sb.append("# HELP jdmcache_").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE jdmcache_").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long value) {
        header(sb, name, help, "counter");
        sb.append("jdmcache_").append(name).append(' ').append(value).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long value) {
        header(sb, name, help, "gauge");
        sb.append("jdmcache_").append(name).append(' ').append(value).append('\n');
    }
}
