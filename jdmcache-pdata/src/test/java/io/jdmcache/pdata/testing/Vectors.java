package io.jdmcache.pdata.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Access to the reference vectors in ../shared/vectors (system property {@code jdmcache.shared}). */
public final class Vectors {
    private Vectors() {
    }

    public static Path shared() {
        String p = System.getProperty("jdmcache.shared");
        Path path = p != null ? Path.of(p) : Path.of("..", "..", "shared");
        if (!Files.isDirectory(path.resolve("vectors"))) {
            throw new IllegalStateException("reference vectors not found under " + path.toAbsolutePath()
                    + " (set -Djdmcache.shared=<path to shared>)");
        }
        return path;
    }

    public static Path dir() {
        return shared().resolve("vectors");
    }

    /** The uncompressed bytes of {@code NAME.img.gz}. */
    public static byte[] image(String name) throws IOException {
        return gunzip(dir().resolve(name + ".img.gz"));
    }

    public static byte[] gunzip(Path p) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        }
    }

    /** A text file, gunzipped when its name ends in .gz. */
    public static String text(Path p) throws IOException {
        byte[] b = p.toString().endsWith(".gz") ? gunzip(p) : Files.readAllBytes(p);
        return new String(b, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** One manifest row. */
    public record Row(String name, int version, long nrCacheBlocks, String mapped, String dirty, int checkRc,
                      int dumpRc, String repairDumpRc, long bytes, String sha256) {
    }

    public static List<Row> manifest() throws IOException {
        List<Row> rows = new ArrayList<>();
        List<String> lines = Files.readAllLines(dir().resolve("MANIFEST.tsv"));
        for (String line : lines.subList(1, lines.size())) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split("\t");
            rows.add(new Row(f[0], Integer.parseInt(f[1]), Long.parseLong(f[2]), f[3], f[4],
                    Integer.parseInt(f[5]), Integer.parseInt(f[6]), f[7], Long.parseLong(f[8]), f[9]));
        }
        return rows;
    }
}
