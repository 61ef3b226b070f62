package io.jdmcache.bench.metadata;

import io.jdmcache.metadata.CacheMetadata;
import io.jdmcache.metadata.MetadataOptions;
import io.jdmcache.pdata.io.FileBlockDevice;

import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * jdmcache side by side with the reference, Debian's thin-provisioning-tools 0.9.0, on the same
 * 1,000,000-block cache in the same run: writing a fully mapped cache ({@code cache_restore} of its XML
 * against jdmcache's create + map + commit) and reading it back ({@code cache_dump} against jdmcache's open +
 * load). The tools parse or print XML on top of the metadata work, so the ratios bound what a tool written
 * on jdmcache would see rather than compare equal work. Prints a table; median of 5 runs after 2 warmups.
 *
 * <p>Run: {@code java -cp jdmcache-bench/target/benchmarks.jar io.jdmcache.bench.metadata.VersusTools}
 */
public final class VersusTools {
    private static final int RUNS = 5;
    private static final int WARMUP = 2;

    private VersusTools() {
    }

    @FunctionalInterface
    private interface Task {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("jdmcache-vs-tools");
        try {
            System.out.printf("%-48s %12s %12s %8s%n", "1,000,000 cache blocks, all mapped", "tools 0.9.0",
                    "jdmcache", "ratio");
            for (int version = 1; version <= 2; version++) {
                run(dir, version);
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void run(Path dir, int version) throws Exception {
        Path xml = dir.resolve("cache.xml");
        writeXml(xml);
        Path toolsImg = dir.resolve("tools-v" + version + ".img");
        Path ourImg = dir.resolve("jdmcache-v" + version + ".img");
        long bytes = Caches.metadataBytes(Caches.BLOCKS);

        double restore = median(() -> {
            zeroed(toolsImg, bytes);
            exec("cache_restore", "-q", "-i", xml.toString(), "-o", toolsImg.toString(), "--metadata-version",
                    String.valueOf(version));
        });
        double create = median(() -> {
            zeroed(ourImg, bytes);
            try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(ourImg, false),
                    MetadataOptions.readWrite(128).withFormatVersion(version))) {
                Caches.fill(md);
                md.commit(true);
            }
        });
        row("write (restore XML / create+map+commit), v" + version, restore, create);

        double dump = median(() -> exec("cache_dump", toolsImg.toString()));
        long[] sink = new long[1];
        double load = median(() -> {
            try (CacheMetadata md = CacheMetadata.open(FileBlockDevice.open(toolsImg, true),
                    MetadataOptions.readOnlyAny())) {
                md.loadMappings(Caches.SMQ, (o, c, d, h, hv) -> sink[0] += o);
            }
        });
        row("read (cache_dump / open+load), v" + version, dump, load);
        if (sink[0] == 0) {
            throw new IllegalStateException("nothing loaded");
        }
    }

    private static void row(String what, double toolsMs, double oursMs) {
        System.out.printf("%-48s %9.1f ms %9.1f ms %7.1fx%n", what, toolsMs, oursMs, toolsMs / oursMs);
    }

    private static double median(Task t) throws Exception {
        for (int i = 0; i < WARMUP; i++) {
            t.run();
        }
        double[] ms = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            long t0 = System.nanoTime();
            t.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }

    private static void zeroed(Path f, long bytes) throws IOException {
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(0);
            r.setLength(bytes);
        }
    }

    /** The same cache as {@link Caches#fill}, as cache_restore's XML. */
    private static void writeXml(Path xml) throws IOException {
        try (BufferedWriter w = Files.newBufferedWriter(xml, StandardCharsets.US_ASCII)) {
            w.write("<superblock uuid=\"\" block_size=\"128\" nr_cache_blocks=\"" + Caches.BLOCKS
                    + "\" policy=\"smq\" hint_width=\"4\">\n  <mappings>\n");
            for (int c = 0; c < Caches.BLOCKS; c++) {
                w.write("    <mapping cache_block=\"" + c + "\" origin_block=\"" + Caches.origin(c) + "\" dirty=\""
                        + (c % 3 == 0) + "\"/>\n");
            }
            w.write("  </mappings>\n  <hints>\n");
            Base64.Encoder b64 = Base64.getEncoder();
            for (int c = 0; c < Caches.BLOCKS; c++) {
                byte[] h = {(byte) (c & 63), 0, 0, 0};
                w.write("    <hint cache_block=\"" + c + "\" data=\"" + b64.encodeToString(h) + "\"/>\n");
            }
            w.write("  </hints>\n</superblock>\n");
        }
    }

    private static void exec(String program, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(program);
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException(program + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue()) + ")");
        }
    }
}
