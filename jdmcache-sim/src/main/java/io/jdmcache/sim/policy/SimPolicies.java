package io.jdmcache.sim.policy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The policies {@code jdmcache sim} knows, in table order. */
public final class SimPolicies {
    private static final List<SimPolicy> ALL = List.of(
            new OnlinePolicy("lru", SimPolicy.Kind.REFERENCE, "least recently used, demand fill", Lru::new),
            new OnlinePolicy("arc", SimPolicy.Kind.REFERENCE, "ARC (Megiddo and Modha, FAST'03)", Arc::new),
            new OnlinePolicy("lirs", SimPolicy.Kind.REFERENCE, "LIRS (Jiang and Zhang, SIGMETRICS'02)", Lirs::new),
            new OnlinePolicy("2q", SimPolicy.Kind.REFERENCE, "2Q, full version (Johnson and Shasha, VLDB'94)", TwoQ::new),
            new OnlinePolicy("s3fifo", SimPolicy.Kind.REFERENCE, "S3-FIFO (Yang et al., SOSP'23)", S3Fifo::new),
            new OnlinePolicy("sieve", SimPolicy.Kind.REFERENCE, "SIEVE (Zhang et al., NSDI'24)", Sieve::new),
            new OnlinePolicy("caffeine", SimPolicy.Kind.LIBRARY, "the Caffeine library's W-TinyLFU cache, on the calling thread",
                    CaffeineCache::new),
            new EngineReplay("smq", "smq", "the engine's smq (the kernel's stochastic multiqueue), migrations modelled"),
            new EngineReplay("wtlfu", "wtlfu", "the engine's wtlfu (Window TinyLFU, hill-climbed window), migrations modelled"),
            new Opt());

    private SimPolicies() {
    }

    public static List<SimPolicy> all() {
        return ALL;
    }

    public static List<String> names() {
        return ALL.stream().map(SimPolicy::name).toList();
    }

    public static SimPolicy byName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (SimPolicy p : ALL) {
            if (p.name().equals(n)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown policy '" + name + "' (known: " + String.join(", ", names())
                + ", or all)");
    }

    /** {@code all}, or names separated by commas, in the order given, each once. */
    public static List<SimPolicy> parse(String list) {
        if (list.strip().equalsIgnoreCase("all")) {
            return ALL;
        }
        Map<String, SimPolicy> chosen = new LinkedHashMap<>();
        for (String s : list.split(",", -1)) {
            String n = s.strip();
            if (n.isEmpty()) {
                throw new IllegalArgumentException("empty policy name in '" + list + "'");
            }
            SimPolicy p = byName(n);
            chosen.putIfAbsent(p.name(), p);
        }
        return new ArrayList<>(chosen.values());
    }
}
