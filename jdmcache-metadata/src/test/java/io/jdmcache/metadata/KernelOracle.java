package io.jdmcache.metadata;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ../shared/kernel-oracle/run-kernel-cache.sh}: the real Linux dm-cache in a qemu guest over
 * image files. Parses what it prints.
 */
public final class KernelOracle {
    private KernelOracle() {
    }

    /** What the oracle printed. */
    public record Result(int rc, List<String> lines, String stderr) {
        /** The SUMMARY fields printed right after create (first) or before remove (last). */
        public Map<String, String> summary(boolean last) {
            Map<String, String> m = new HashMap<>();
            String found = null;
            for (String l : lines) {
                if (l.startsWith("SUMMARY: ")) {
                    found = l;
                    if (!last) {
                        break;
                    }
                }
            }
            if (found == null) {
                throw new AssertionError("no SUMMARY line in the oracle's output:\n" + String.join("\n", lines)
                        + "\n" + stderr);
            }
            for (String kv : found.substring(9).trim().split(" ")) {
                int eq = kv.indexOf('=');
                m.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            return m;
        }

        /** Lines of the guest script that start with {@code prefix}. */
        public List<String> linesStartingWith(String prefix) {
            List<String> out = new ArrayList<>();
            for (String l : lines) {
                if (l.startsWith(prefix)) {
                    out.add(l);
                }
            }
            return out;
        }

        public String all() {
            return String.join("\n", lines) + "\n--- stderr ---\n" + stderr;
        }
    }

    public static Path script() {
        String shared = System.getProperty("jdmcache.shared", "../../shared");
        Path p = Path.of(shared, "kernel-oracle", "run-kernel-cache.sh");
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException("kernel oracle not found at " + p.toAbsolutePath());
        }
        return p;
    }

    /** Runs the oracle with the given arguments (after the script), with a generous timeout. */
    public static Result run(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("bash");
        cmd.add(script().toString());
        cmd.addAll(args);
        Path err = Files.createTempFile("kernel-oracle", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("kernel oracle did not finish in 600 s");
            }
            return new Result(p.exitValue(), List.of(new String(out, StandardCharsets.UTF_8).split("\n")),
                    Files.readString(err));
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** Fills a data image: every 64 KiB block holds the line "TAG block NNNNNN" repeated. */
    public static void fill(Path img, int blocks, int blockBytes, String tag) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(0);
            byte[] buf = new byte[blockBytes];
            for (int b = 0; b < blocks; b++) {
                byte[] line = String.format("%s block %06d\n", tag, b).getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < blockBytes; i++) {
                    buf[i] = line[i % line.length];
                }
                f.write(buf);
            }
        }
    }

    /** A sparse zero file of {@code bytes}. */
    public static void zeroFile(Path img, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(img.toFile(), "rw")) {
            f.setLength(0);
            f.setLength(bytes);
        }
    }
}
