package io.jdmcache.cli.config;

import io.jdmcache.engine.CacheConfig;
import io.jdmcache.engine.CacheMode;
import io.jdmcache.engine.ConfigException;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.schema.CoreSchema;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The configuration file of {@code jdmcache serve --config FILE}: YAML 1.2 (core schema), read with
 * snakeyaml-engine's composer so that every value keeps the line it came from. Unknown keys, values of the
 * wrong kind and impossible values are refused with one line naming the file, the line and the key.
 *
 * <pre>
 * listen: 127.0.0.1:10809          # NBD (HOST:PORT, PORT or unix:PATH)
 * control: /run/jdmcache/control.sock
 * metrics_listen: 127.0.0.1:9715   # Prometheus /metrics
 * volumes:
 *   home:                          # the export name
 *     metadata: home/metadata.img  # relative paths are relative to the file's folder
 *     cache: /dev/nvme0n1p3
 *     origin: /dev/sdb
 *     mode: writeback
 *     policy_args: {migration_threshold: 4096}
 * </pre>
 *
 * @param file     the file read
 * @param settings the server settings it gives (null fields: not given)
 * @param volumes  the volumes by name, in the file's order
 */
public record ServeConfig(Path file, Settings settings, Map<String, VolumeSpec> volumes) {
    /** The keys a volume takes. */
    static final Set<String> VOLUME_KEYS = Set.of("description", "metadata", "cache", "origin", "block_size",
            "mode", "metadata_version", "policy", "policy_args", "discard_passdown", "read_only", "trace",
            "origin_connections", "origin_timeout", "origin_retry");
    /** The top-level keys. */
    static final Set<String> TOP_KEYS = Set.of("listen", "control", "metrics_listen", "busy_poll",
            "default_volume", "volumes");
    /** What a volume's name (its NBD export name and its metrics label) may be made of. */
    public static final Pattern VOLUME_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    /** The most bytes a configuration file may have. */
    static final long MAX_BYTES = 1 << 20;

    public ServeConfig {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(settings, "settings");
        volumes = Collections.unmodifiableMap(new LinkedHashMap<>(volumes));
    }

    /**
     * The server settings of the file; null where the file does not give one.
     *
     * @param listen         the NBD address as written
     * @param control        the control socket
     * @param metricsListen  the Prometheus HTTP address as written
     * @param busyPollMicros the NBD readers' busy-poll time
     * @param defaultVolume  the volume an empty export name selects
     */
    public record Settings(String listen, Path control, String metricsListen, Integer busyPollMicros,
            String defaultVolume) {
    }

    /**
     * One volume of the file.
     *
     * @param name        its name: the NBD export name and the {@code volume} label of its metrics
     * @param description the NBD export description
     * @param config      its cache table (paths made absolute against the file's folder)
     * @param readOnly    refuse writes, trims and write-zeroes
     * @param line        the line of the file where it begins (1-based)
     * @param trace       where to record its requests from the start (made absolute against the file's
     *                    folder), or null
     */
    public record VolumeSpec(String name, String description, CacheConfig config, boolean readOnly, int line,
            Path trace, OriginSettings originSettings) {
        public VolumeSpec(String name, String description, CacheConfig config, boolean readOnly, int line) {
            this(name, description, config, readOnly, line, null);
        }

        public VolumeSpec(String name, String description, CacheConfig config, boolean readOnly, int line,
                          Path trace) {
            this(name, description, config, readOnly, line, trace, OriginSettings.NONE);
        }

        /** Whether {@code other} describes the same volume with the same settings (the line may differ). */
        public boolean sameAs(VolumeSpec other) {
            return name.equals(other.name) && description.equals(other.description) && config.equals(other.config)
                    && readOnly == other.readOnly && Objects.equals(trace, other.trace)
                    && originSettings.equals(other.originSettings);
        }
    }

    /**
     * A volume's own settings for its remote origin ({@code origin_connections}, {@code origin_timeout},
     * {@code origin_retry}), each null when the file leaves it to the command line's {@code --origin-*}.
     */
    public record OriginSettings(Integer connections, Long timeoutMillis, Long retryMillis) {
        public static final OriginSettings NONE = new OriginSettings(null, null, null);

        public boolean none() {
            return connections == null && timeoutMillis == null && retryMillis == null;
        }
    }

    /** Reads and checks {@code file}. */
    public static ServeConfig load(Path file) throws ConfigFileException {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new ConfigFileException(file + ": larger than " + (MAX_BYTES >> 10) + " KiB; not a "
                        + "configuration file");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigFileException(file + ": cannot read it: " + describe(e));
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new ConfigFileException(file + ": not UTF-8 text");
        }
        return parse(file, text);
    }

    /** Checks {@code text} as the contents of {@code file} (which is not read; its folder anchors relative paths). */
    public static ServeConfig parse(Path file, String text) throws ConfigFileException {
        return new Reader(file).read(text);
    }

    private static String describe(IOException e) {
        String m = e.getMessage();
        return e instanceof java.nio.file.NoSuchFileException ? "no such file"
                : e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                : m == null ? e.getClass().getSimpleName() : m;
    }

    /** The walk over the composed document, with the file for the messages. */
    private static final class Reader {
        private final Path file;
        private final Path base;

        Reader(Path file) {
            this.file = file;
            Path parent = file.toAbsolutePath().getParent();
            this.base = parent != null ? parent : Path.of("/");
        }

        ServeConfig read(String text) throws ConfigFileException {
            LoadSettings settings = LoadSettings.builder().setLabel(file.toString()).setSchema(new CoreSchema())
                    .setAllowDuplicateKeys(false).setMaxAliasesForCollections(10).setAllowNonScalarKeys(false)
                    .setCodePointLimit((int) MAX_BYTES).build();
            Node root;
            try {
                Iterator<Node> docs = new Compose(settings).composeAllFromString(text).iterator();
                if (!docs.hasNext()) {
                    throw error(1, "volumes", "the file is empty; it needs at least a 'volumes:' mapping");
                }
                root = docs.next();
                if (docs.hasNext()) {
                    Node second = docs.next();
                    throw error(line(second), "---", "a second YAML document; the file must hold one");
                }
            } catch (MarkedYamlEngineException e) {
                Mark m = e.getProblemMark().orElse(e.getContextMark().orElse(null));
                throw new ConfigFileException(file + ":" + (m == null ? 1 : m.getLine() + 1) + ": "
                        + oneLine((e.getContext() == null ? "" : e.getContext() + ": ") + e.getProblem()));
            } catch (YamlEngineException e) {
                throw new ConfigFileException(file + ":1: not YAML: " + oneLine(String.valueOf(e.getMessage())));
            }
            Map<String, NodeTuple> top = mapping(root, "the file");
            for (Map.Entry<String, NodeTuple> e : top.entrySet()) {
                if (!TOP_KEYS.contains(e.getKey())) {
                    throw error(line(e.getValue().getKeyNode()), e.getKey(), "unknown key (known: "
                            + sorted(TOP_KEYS) + ")");
                }
            }
            String listen = string(top, "listen", "listen");
            if (listen != null) {
                check(top, "listen", () -> Addresses.parse(listen, "listen"));
            }
            String control = string(top, "control", "control");
            String metricsListen = string(top, "metrics_listen", "metrics_listen");
            if (metricsListen != null) {
                check(top, "metrics_listen", () -> Addresses.tcp(metricsListen, "metrics_listen"));
            }
            Long busyPoll = number(top, "busy_poll", "busy_poll", 0, 1_000_000);
            String defaultVolume = string(top, "default_volume", "default_volume");
            NodeTuple vol = top.get("volumes");
            if (vol == null) {
                throw error(line(root), "volumes", "missing: the file must name its volumes under 'volumes:'");
            }
            Map<String, NodeTuple> vols = mapping(vol.getValueNode(), "volumes");
            Map<String, VolumeSpec> volumes = new LinkedHashMap<>();
            for (Map.Entry<String, NodeTuple> e : vols.entrySet()) {
                String name = e.getKey();
                if (!VOLUME_NAME.matcher(name).matches()) {
                    throw error(line(e.getValue().getKeyNode()), "volumes." + name, "a volume name is 1 to 64 "
                            + "letters, digits, '.', '_' or '-', beginning with a letter or digit");
                }
                volumes.put(name, volume(name, e.getValue()));
            }
            if (volumes.isEmpty()) {
                throw error(line(vol.getValueNode()), "volumes", "no volumes");
            }
            if (defaultVolume != null && !volumes.containsKey(defaultVolume)) {
                throw error(line(top.get("default_volume").getValueNode()), "default_volume",
                        "'" + defaultVolume + "' is not one of the volumes (" + String.join(", ", volumes.keySet())
                                + ")");
            }
            Settings s = new Settings(listen, control == null ? null : resolve(control), metricsListen,
                    busyPoll == null ? null : busyPoll.intValue(), defaultVolume);
            return new ServeConfig(file, s, volumes);
        }

        private VolumeSpec volume(String name, NodeTuple t) throws ConfigFileException {
            String at = "volumes." + name;
            Map<String, NodeTuple> v = mapping(t.getValueNode(), at);
            for (Map.Entry<String, NodeTuple> e : v.entrySet()) {
                if (!VOLUME_KEYS.contains(e.getKey())) {
                    throw error(line(e.getValue().getKeyNode()), at + "." + e.getKey(), "unknown key (known: "
                            + sorted(VOLUME_KEYS) + ")");
                }
            }
            int line = line(t.getKeyNode());
            String[] paths = new String[3];
            String[] keys = {"metadata", "cache", "origin"};
            for (int i = 0; i < 3; i++) {
                String p = string(v, keys[i], at + "." + keys[i]);
                if (p == null) {
                    throw error(line, at + "." + keys[i], "missing: a volume needs metadata, cache and origin");
                }
                if (p.isEmpty()) {
                    throw error(line(v.get(keys[i]).getValueNode()), at + "." + keys[i], "an empty path");
                }
                paths[i] = io.jdmcache.pdata.io.Devices.isNamed(p) ? p : resolve(p).toString(); // nbd://... as is
            }
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < i; j++) {
                    if (paths[i].equals(paths[j])) {
                        throw error(line(v.get(keys[i]).getValueNode()), at + "." + keys[i], "the same file as "
                                + keys[j] + " (" + paths[i] + ")");
                    }
                }
            }
            Long block = number(v, "block_size", at + ".block_size", CacheConfig.MIN_BLOCK_SECTORS,
                    CacheConfig.MAX_BLOCK_SECTORS);
            if (block != null && block % CacheConfig.MIN_BLOCK_SECTORS != 0) {
                throw error(line(v.get("block_size").getValueNode()), at + ".block_size", block
                        + " sectors is not a multiple of 64");
            }
            CacheMode mode = CacheMode.WRITEBACK;
            String m = string(v, "mode", at + ".mode");
            if (m != null) {
                try {
                    mode = CacheMode.valueOf(m.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw error(line(v.get("mode").getValueNode()), at + ".mode", "'" + m
                            + "' is not writeback, writethrough or passthrough");
                }
            }
            Long version = number(v, "metadata_version", at + ".metadata_version", 1, 2);
            String policy = string(v, "policy", at + ".policy");
            if (policy != null && !List.of("smq", "mq", "default", "cleaner", "wtlfu").contains(policy)) {
                throw error(line(v.get("policy").getValueNode()), at + ".policy", "'" + policy
                        + "' is not smq, mq, default, cleaner or wtlfu");
            }
            List<String> args = new ArrayList<>();
            NodeTuple pa = v.get("policy_args");
            if (pa != null) {
                for (Map.Entry<String, NodeTuple> e : mapping(pa.getValueNode(), at + ".policy_args").entrySet()) {
                    String key = at + ".policy_args." + e.getKey();
                    Node value = e.getValue().getValueNode();
                    String s = scalar(value, key, "a value");
                    if (e.getKey().isEmpty() || s.isEmpty() || e.getKey().chars().anyMatch(Reader::notWordChar)
                            || s.chars().anyMatch(Reader::notWordChar)) {
                        throw error(line(value), key, "a policy argument is a key and a value without spaces");
                    }
                    args.add(e.getKey());
                    args.add(s);
                }
            }
            Boolean passdown = bool(v, "discard_passdown", at + ".discard_passdown");
            Boolean readOnly = bool(v, "read_only", at + ".read_only");
            String trace = string(v, "trace", at + ".trace");
            if (trace != null && (trace.isEmpty() || trace.chars().anyMatch(c -> c < 0x20 || c == 0x7f))) {
                throw error(line(v.get("trace").getValueNode()), at + ".trace", trace.isEmpty() ? "an empty path"
                        : "a control character in the path");
            }
            String description = string(v, "description", at + ".description");
            if (description != null && description.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                throw error(line(v.get("description").getValueNode()), at + ".description",
                        "a control character in the description");
            }
            Long conns = number(v, "origin_connections", at + ".origin_connections", 1, 64);
            Long timeout = millis(v, "origin_timeout", at + ".origin_timeout", 0, 86_400_000);
            Long retry = millis(v, "origin_retry", at + ".origin_retry", 100, 3_600_000);
            OriginSettings origin = new OriginSettings(conns == null ? null : conns.intValue(), timeout, retry);
            if (!origin.none() && !io.jdmcache.pdata.io.Devices.isNamed(paths[2])) {
                String k = conns != null ? "origin_connections" : timeout != null ? "origin_timeout" : "origin_retry";
                throw error(line(v.get(k).getKeyNode()), at + "." + k, "only for a remote origin (nbd://...), "
                        + "not " + paths[2]);
            }
            CacheConfig config;
            try {
                config = CacheConfig.of(paths[0], paths[1], paths[2],
                                block == null ? 128 : block, mode)
                        .withMetadataVersion(version == null ? 2 : version.intValue())
                        .withPolicy(policy == null ? "smq" : policy, args)
                        .withDiscardPassdown(passdown == null || passdown);
            } catch (ConfigException e) {
                throw error(line, at, e.getMessage());
            }
            return new VolumeSpec(name, description != null ? description
                    : "jdmcache " + mode.name().toLowerCase(Locale.ROOT) + " cache of " + paths[2],
                    config, readOnly != null && readOnly, line, trace == null ? null : resolve(trace), origin);
        }

        /** The parser's words on one line (it quotes the character it stopped at, a line break among them). */
        private static String oneLine(String s) {
            return s.replaceAll("\\s+", " ").strip();
        }

        private static boolean notWordChar(int c) {
            return c <= ' ' || c == 0x7f;
        }

        private Path resolve(String p) {
            return base.resolve(p).normalize();
        }

        // ---------------------------------------------------------------- typed values

        private interface Check {
            void run();
        }

        private void check(Map<String, NodeTuple> m, String key, Check c) throws ConfigFileException {
            try {
                c.run();
            } catch (IllegalArgumentException e) {
                throw error(line(m.get(key).getValueNode()), key, e.getMessage());
            }
        }

        /** A mapping with plain string keys, in order. */
        private Map<String, NodeTuple> mapping(Node n, String at) throws ConfigFileException {
            if (!(n instanceof MappingNode mn)) {
                throw error(line(n), at, "a mapping (KEY: VALUE lines) expected, found " + kind(n));
            }
            Map<String, NodeTuple> m = new LinkedHashMap<>();
            for (NodeTuple t : mn.getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode sk) || sk.getTag().equals(Tag.NULL)) {
                    throw error(line(k), at, "a key must be a plain name, found " + kind(k));
                }
                if (m.put(sk.getValue(), t) != null) {
                    throw error(line(k), at.equals("the file") ? sk.getValue() : at + "." + sk.getValue(),
                            "given twice");
                }
            }
            return m;
        }

        private String scalar(Node n, String key, String what) throws ConfigFileException {
            if (!(n instanceof ScalarNode s) || s.getTag().equals(Tag.NULL)) {
                throw error(line(n), key, what + " expected, found " + kind(n));
            }
            return s.getValue();
        }

        private String string(Map<String, NodeTuple> m, String k, String key) throws ConfigFileException {
            NodeTuple t = m.get(k);
            return t == null ? null : scalar(t.getValueNode(), key, "a text value");
        }

        private Long number(Map<String, NodeTuple> m, String k, String key, long min, long max)
                throws ConfigFileException {
            NodeTuple t = m.get(k);
            if (t == null) {
                return null;
            }
            Node n = t.getValueNode();
            String s = scalar(n, key, "a whole number");
            long v;
            try {
                if (!n.getTag().equals(Tag.INT) || !s.matches("[0-9]{1,18}")) {
                    throw new NumberFormatException();
                }
                v = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw error(line(n), key, "a whole number from " + min + " to " + max + " expected, found '" + s
                        + "'");
            }
            if (v < min || v > max) {
                throw error(line(n), key, v + " is out of range (" + min + " to " + max + ")");
            }
            return v;
        }

        /** Seconds (a whole or decimal number) as milliseconds, from {@code min} to {@code max} milliseconds. */
        private Long millis(Map<String, NodeTuple> m, String k, String key, long min, long max)
                throws ConfigFileException {
            NodeTuple t = m.get(k);
            if (t == null) {
                return null;
            }
            Node n = t.getValueNode();
            String s = scalar(n, key, "a number of seconds");
            String range = "seconds from " + min / 1000.0 + " to " + max / 1000 + " expected";
            if (!(n.getTag().equals(Tag.INT) || n.getTag().equals(Tag.FLOAT)) || !s.matches("[0-9]{1,9}(\\.[0-9]{1,3})?")) {
                throw error(line(n), key, range + ", found '" + s + "'");
            }
            long v = Math.round(Double.parseDouble(s) * 1000);
            if (v < min || v > max) {
                throw error(line(n), key, s + " is out of range (" + range + ")");
            }
            return v;
        }

        private Boolean bool(Map<String, NodeTuple> m, String k, String key) throws ConfigFileException {
            NodeTuple t = m.get(k);
            if (t == null) {
                return null;
            }
            Node n = t.getValueNode();
            String s = scalar(n, key, "true or false");
            if (!n.getTag().equals(Tag.BOOL)) {
                throw error(line(n), key, "true or false expected, found '" + s + "'");
            }
            return s.equalsIgnoreCase("true");
        }

        private static String kind(Node n) {
            return switch (n.getNodeType()) {
                case MAPPING -> "a mapping";
                case SEQUENCE -> "a list";
                case SCALAR -> n.getTag().equals(Tag.NULL) ? "nothing" : "'" + ((ScalarNode) n).getValue() + "'";
                default -> "an alias";
            };
        }

        private static int line(Node n) {
            return n.getStartMark().map(m -> m.getLine() + 1).orElse(1);
        }

        private static String sorted(Set<String> keys) {
            return String.join(", ", keys.stream().sorted().toList());
        }

        private ConfigFileException error(int line, String key, String problem) {
            return new ConfigFileException(file + ":" + line + ": " + key + ": " + problem);
        }
    }
}
