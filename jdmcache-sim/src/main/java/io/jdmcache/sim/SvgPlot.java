package io.jdmcache.sim;

import java.util.List;
import java.util.Locale;

import io.jdmcache.sim.Simulation.TraceRun;
import io.jdmcache.sim.policy.SimResult;

/**
 * Hit-ratio curves as SVG: one panel per trace, hit ratio (vertical, 0 to 100%) against cache size (horizontal,
 * logarithmic when the sizes span a factor of 8 or more), a coloured line with dots per policy, and a legend.
 */
public final class SvgPlot {
    private static final String[] COLOURS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
        "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#000000"};
    private static final int WIDTH = 760;
    private static final int PANEL = 400;
    private static final int LEFT = 64;
    private static final int RIGHT = 150;
    private static final int TOP = 40;
    private static final int BOTTOM = 56;

    private SvgPlot() {
    }

    public static String render(List<TraceRun> runs, List<String> policies) {
        StringBuilder sb = new StringBuilder();
        int height = PANEL * Math.max(1, runs.size());
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, height, WIDTH, height));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", WIDTH, height));
        for (int i = 0; i < runs.size(); i++) {
            panel(sb, runs.get(i), policies, i * PANEL);
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static void panel(StringBuilder sb, TraceRun tr, List<String> policies, int y0) {
        List<Integer> sizes = tr.cacheBlocks();
        double min = Math.max(1, sizes.get(0));
        double max = Math.max(min, sizes.get(sizes.size() - 1));
        boolean log = max / min >= 8;
        int plotW = WIDTH - LEFT - RIGHT;
        int plotH = PANEL - TOP - BOTTOM;
        int px0 = LEFT;
        int py0 = y0 + TOP;
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">%s"
                + "</text>%n", LEFT, y0 + 24, escape(tr.trace().name() + ": hit ratio against cache size")));
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                + " stroke=\"#444\"/>%n", px0, py0, plotW, plotH));
        for (int pct = 0; pct <= 100; pct += 20) {
            double y = py0 + plotH - plotH * pct / 100.0;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%d%%</text>%n", px0, y, px0 + plotW, y,
                    px0 - 6, y + 4, pct));
        }
        for (int s : sizes) {
            double x = x(s, min, max, log, px0, plotW);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>"
                    + "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x, py0, x, py0 + plotH, x,
                    py0 + plotH + 16, label(s, tr.distinctBlocks())));
        }
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">cache size, blocks"
                + " (%% of the trace's %,d distinct blocks)%s</text>%n", px0 + plotW / 2, py0 + plotH + 38,
                tr.distinctBlocks(), log ? ", log scale" : ""));
        for (int k = 0; k < policies.size(); k++) {
            String p = policies.get(k);
            String colour = COLOURS[k % COLOURS.length];
            StringBuilder pts = new StringBuilder();
            for (int s : sizes) {
                SimResult r = tr.get(p, s);
                double x = x(s, min, max, log, px0, plotW);
                double y = py0 + plotH - plotH * r.hitRatio();
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
                sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">"
                        + "<title>%s at %d blocks: %.2f%%</title></circle>%n", x, y, colour, escape(p), s,
                        100 * r.hitRatio()));
            }
            sb.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\""
                    + " stroke-width=\"2\"%s/>%n", pts.toString().strip(), colour,
                    p.equals("opt") ? " stroke-dasharray=\"6,4\"" : ""));
            int ly = py0 + 14 + 20 * k;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\""
                    + " stroke-width=\"3\"/><text x=\"%d\" y=\"%d\">%s</text>%n", px0 + plotW + 14, ly,
                    px0 + plotW + 38, ly, colour, px0 + plotW + 44, ly + 4, escape(p)));
        }
    }

    private static double x(int size, double min, double max, boolean log, int px0, int plotW) {
        if (max == min) {
            return px0 + plotW / 2.0;
        }
        double s = Math.max(1, size);
        double f = log ? Math.log(s / min) / Math.log(max / min) : (s - min) / (max - min);
        return px0 + 20 + (plotW - 40) * f;
    }

    private static String label(int blocks, int distinct) {
        String b = blocks >= 10_000 ? String.format(Locale.ROOT, "%.0fk", blocks / 1000.0) : Integer.toString(blocks);
        return distinct == 0 ? b : b + String.format(Locale.ROOT, " (%.3g%%)", 100.0 * blocks / distinct);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
