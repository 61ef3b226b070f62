package io.jdmcache.pdata.testing;

import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The mappings and hints of a cache_dump XML document, parsed loosely for test expectations. */
public final class DumpXml {
    private static final Pattern MAPPING = Pattern.compile(
            "<mapping cache_block=\"(\\d+)\" origin_block=\"(\\d+)\" dirty=\"(true|false)\"/>");
    private static final Pattern HINT = Pattern.compile("<hint cache_block=\"(\\d+)\" data=\"([^\"]*)\"/>");
    private static final Pattern SB = Pattern.compile("nr_cache_blocks=\"(\\d+)\"");

    public final TreeMap<Long, long[]> mappings = new TreeMap<>();
    public final Map<Long, Long> hints = new HashMap<>();
    public final long nrCacheBlocks;

    public DumpXml(String xml) {
        Matcher sb = SB.matcher(xml);
        nrCacheBlocks = sb.find() ? Long.parseLong(sb.group(1)) : -1;
        Matcher m = MAPPING.matcher(xml);
        while (m.find()) {
            mappings.put(Long.parseLong(m.group(1)),
                    new long[] {Long.parseLong(m.group(2)), m.group(3).equals("true") ? 1 : 0});
        }
        Matcher h = HINT.matcher(xml);
        while (h.find()) {
            byte[] b = Base64.getDecoder().decode(h.group(2));
            long v = (b[0] & 0xffL) | (b[1] & 0xffL) << 8 | (b[2] & 0xffL) << 16 | (b[3] & 0xffL) << 24;
            hints.put(Long.parseLong(h.group(1)), v);
        }
    }
}
