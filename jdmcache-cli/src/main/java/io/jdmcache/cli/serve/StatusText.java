package io.jdmcache.cli.serve;

import io.jdmcache.engine.core.Counters;

import java.io.IOException;

/** The kernel-format status line of a cache, explained for people ({@code jdmcache status --human}). */
public final class StatusText {
    private StatusText() {
    }

    /**
     * @param status     the status fields after {@code 0 <sectors> cache}
     * @param blockBytes the cache block size in bytes
     */
    public static String human(String status, long blockBytes) {
        String[] f = status.trim().split("\\s+");
        if (f.length < 11 || !f[1].contains("/") || !f[3].contains("/")) {
            return "status: " + status;
        }
        String[] meta = f[1].split("/");
        String[] blocks = f[3].split("/");
        long readHits = Long.parseLong(f[4]);
        long readMisses = Long.parseLong(f[5]);
        long writeHits = Long.parseLong(f[6]);
        long writeMisses = Long.parseLong(f[7]);
        int i = 11;
        int nFeatures = Integer.parseInt(f[i++]);
        StringBuilder features = new StringBuilder();
        for (int k = 0; k < nFeatures && i < f.length; k++) {
            features.append(k == 0 ? "" : " ").append(f[i++]);
        }
        int nCore = i < f.length ? Integer.parseInt(f[i++]) : 0;
        StringBuilder core = new StringBuilder();
        for (int k = 0; k < nCore && i < f.length; k++) {
            core.append(k == 0 ? "" : " ").append(f[i++]);
        }
        String policy = i < f.length ? f[i++] : "?";
        int nPolicy = i < f.length ? Integer.parseInt(f[i++]) : 0;
        StringBuilder pargs = new StringBuilder();
        for (int k = 0; k < nPolicy && i < f.length; k++) {
            pargs.append(k == 0 ? "" : " ").append(f[i++]);
        }
        String mdMode = i < f.length ? f[i++] : "?";
        String needsCheck = i < f.length ? f[i] : "?";
        return String.join("\n",
                String.format("cache blocks   %s / %s used (%s), %d KiB each", blocks[0], blocks[1],
                        pct(Long.parseLong(blocks[0]), Long.parseLong(blocks[1])), blockBytes / 1024),
                String.format("dirty          %s blocks", f[10]),
                String.format("reads          %d hits, %d misses (hit ratio %s)", readHits, readMisses,
                        pct(readHits, readHits + readMisses)),
                String.format("writes         %d hits, %d misses (hit ratio %s)", writeHits, writeMisses,
                        pct(writeHits, writeHits + writeMisses)),
                String.format("migrations     %s promotions, %s demotions", f[9], f[8]),
                String.format("metadata       %s / %s blocks of 4 KiB used (%s), %s%s", meta[0], meta[1],
                        pct(Long.parseLong(meta[0]), Long.parseLong(meta[1])), mdMode,
                        needsCheck.equals("needs_check") ? ", NEEDS CHECK" : ""),
                String.format("features       %s", features),
                String.format("core args      %s", core.length() == 0 ? "-" : core),
                String.format("policy         %s %s", policy, pargs));
    }

    /**
     * The line of {@code status --human} about background work that failed (the kernel's status line has no
     * field for it): failed migrations, failed periodic commits, and the last failure's message.
     */
    public static String backgroundErrors(Counters c, IOException last) {
        String line = String.format("errors         %d failed migrations, %d failed periodic commits",
                c.migrationErrors(), c.backgroundCommitErrors());
        return last == null ? line : line + " (the last: " + oneLine(last.getMessage()) + ")";
    }

    private static String oneLine(String m) {
        return m == null ? "no message" : m.replaceAll("[\\r\\n]+", " ");
    }

    private static String pct(long part, long whole) {
        return whole == 0 ? "-" : String.format("%.1f%%", 100.0 * part / whole);
    }
}
