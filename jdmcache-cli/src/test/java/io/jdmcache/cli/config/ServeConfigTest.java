package io.jdmcache.cli.config;

import io.jdmcache.engine.CacheMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The configuration file: the example in the repository, every kind of error (file, line, key), and fuzzing. */
class ServeConfigTest {
    static final Path EXAMPLE = Path.of(System.getProperty("jdmcache.root", ".."), "dist", "jdmcache.yaml");
    static final Path FILE = Path.of("/etc/jdmcache/test.yaml");

    @Test
    void theCommentedExampleInTheRepositoryParses() throws Exception {
        ServeConfig c = ServeConfig.load(EXAMPLE);
        assertThat(c.volumes().keySet()).containsExactly("home", "scratch");
        assertThat(c.settings().listen()).isEqualTo("127.0.0.1:10809");
        assertThat(c.settings().control()).isEqualTo(Path.of("/run/jdmcache/control.sock"));
        assertThat(c.settings().metricsListen()).isEqualTo("127.0.0.1:9715");
        assertThat(c.settings().busyPollMicros()).isNull();
        assertThat(c.settings().defaultVolume()).isEqualTo("home");
        ServeConfig.VolumeSpec home = c.volumes().get("home");
        assertThat(home.config().toTableLine()).isEqualTo("/var/lib/jdmcache/home/metadata.img "
                + "/dev/disk/by-partlabel/jdmcache-home /dev/md0 128 2 metadata2 writeback smq 2 "
                + "migration_threshold 4096");
        assertThat(home.description()).isEqualTo("home directories on the RAID, cached on NVMe");
        assertThat(home.readOnly()).isFalse();
        ServeConfig.VolumeSpec scratch = c.volumes().get("scratch");
        assertThat(scratch.config().mode()).isEqualTo(CacheMode.WRITETHROUGH);
        assertThat(scratch.config().policy()).isEqualTo("smq");
        assertThat(scratch.description()).isEqualTo("jdmcache writethrough cache of /srv/scratch.img");
        assertThat(Files.readAllLines(EXAMPLE).get(scratch.line() - 1)).isEqualTo("  scratch:");
    }

    @Test
    void relativePathsAreRelativeToTheFilesFolderAndDefaultsApply() throws Exception {
        ServeConfig c = ServeConfig.parse(FILE, """
                volumes:
                  v1:
                    metadata: md.img
                    cache: ../fast/c.img
                    origin: /srv/o.img
                    read_only: true
                """);
        ServeConfig.VolumeSpec v = c.volumes().get("v1");
        assertThat(v.config().metadataDevice()).isEqualTo("/etc/jdmcache/md.img");
        assertThat(v.config().cacheDevice()).isEqualTo("/etc/fast/c.img");
        assertThat(v.config().toTableLine()).endsWith("128 2 metadata2 writeback smq 0");
        assertThat(v.readOnly()).isTrue();
        assertThat(v.line()).isEqualTo(2);
        assertThat(c.settings()).isEqualTo(new ServeConfig.Settings(null, null, null, null, null));
    }

    @Test
    void sameAsComparesSettingsNotLines() throws Exception {
        String a = "volumes:\n  v:\n    metadata: m\n    cache: c\n    origin: o\n";
        ServeConfig.VolumeSpec one = ServeConfig.parse(FILE, a).volumes().get("v");
        ServeConfig.VolumeSpec moved = ServeConfig.parse(FILE, "\n\n" + a).volumes().get("v");
        ServeConfig.VolumeSpec changed = ServeConfig.parse(FILE, a + "    mode: passthrough\n").volumes().get("v");
        assertThat(one.sameAs(moved)).isTrue();
        assertThat(one.line()).isNotEqualTo(moved.line());
        assertThat(one.sameAs(changed)).isFalse();
    }

    @Test
    void aRemoteOriginsSettingsPerVolume() throws Exception {
        String a = "volumes:\n  v:\n    metadata: m\n    cache: c\n    origin: nbd://h:10809/e\n";
        ServeConfig.VolumeSpec none = ServeConfig.parse(FILE, a).volumes().get("v");
        assertThat(none.originSettings()).isEqualTo(ServeConfig.OriginSettings.NONE);
        ServeConfig.VolumeSpec own = ServeConfig.parse(FILE, a + "    origin_connections: 2\n"
                + "    origin_timeout: 2.5\n    origin_retry: 1\n").volumes().get("v");
        assertThat(own.originSettings()).isEqualTo(new ServeConfig.OriginSettings(2, 2500L, 1000L));
        assertThat(own.sameAs(none)).isFalse();
        assertThat(io.jdmcache.cli.serve.ServedVolumesAccess.differences(none, own))
                .isEqualTo("origin_connections, origin_timeout, origin_retry");
        assertThatThrownBy(() -> ServeConfig.parse(FILE, a + "    origin_timeout: soon\n"))
                .hasMessage(FILE + ":6: volumes.v.origin_timeout: seconds from 0.0 to 86400 expected, found 'soon'");
        assertThatThrownBy(() -> ServeConfig.parse(FILE, a + "    origin_retry: 0.05\n"))
                .hasMessageContaining(":6: volumes.v.origin_retry: 0.05 is out of range");
        assertThatThrownBy(() -> ServeConfig.parse(FILE, a + "    origin_connections: 65\n"))
                .hasMessageContaining(":6: volumes.v.origin_connections: 65 is out of range (1 to 64)");
        String local = "volumes:\n  v:\n    metadata: m\n    cache: c\n    origin: /srv/o.img\n";
        assertThatThrownBy(() -> ServeConfig.parse(FILE, local + "    origin_timeout: 3\n"))
                .hasMessage(FILE + ":6: volumes.v.origin_timeout: only for a remote origin (nbd://...), not "
                        + "/srv/o.img");
    }

    @Test
    void aVolumesTraceIsAPathRelativeToTheFileAndPartOfItsSettings() throws Exception {
        String a = "volumes:\n  v:\n    metadata: m\n    cache: c\n    origin: o\n";
        ServeConfig.VolumeSpec none = ServeConfig.parse(FILE, a).volumes().get("v");
        ServeConfig.VolumeSpec traced = ServeConfig.parse(FILE, a + "    trace: traces/v.jdmtrace\n").volumes()
                .get("v");
        assertThat(none.trace()).isNull();
        assertThat(traced.trace()).isEqualTo(Path.of("/etc/jdmcache/traces/v.jdmtrace"));
        assertThat(none.sameAs(traced)).isFalse();
        assertThatThrownBy(() -> ServeConfig.parse(FILE, a + "    trace: ''\n"))
                .hasMessage(FILE + ":6: volumes.v.trace: an empty path");
    }

    private static final String V = "volumes:\n  v:\n    metadata: m\n    cache: c\n    origin: o\n";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            unknown top key        | lisen: 1\\n{V}                                    | 1 | lisen             | unknown key
            bad listen             | listen: nowhere:x\\n{V}                          | 1 | listen            | HOST:PORT or unix:PATH expected
            port out of range      | listen: 70000\\n{V}                              | 1 | listen            | out of range
            metrics on a socket    | metrics_listen: unix:/x\\n{V}                    | 1 | metrics_listen    | HOST:PORT expected
            busy poll text         | busy_poll: fast\\n{V}                            | 1 | busy_poll         | a whole number
            busy poll negative     | busy_poll: -1\\n{V}                              | 1 | busy_poll         | a whole number
            busy poll too big      | busy_poll: 1000001\\n{V}                         | 1 | busy_poll         | out of range
            no volumes             | listen: 1\\n                                     | 1 | volumes           | missing
            volumes empty          | volumes: {}\\n                                   | 1 | volumes           | no volumes
            volumes a list         | volumes:\\n  - a\\n                              | 2 | volumes           | a mapping
            bad name               | volumes:\\n  a/b:\\n    metadata: m\\n           | 2 | volumes.a/b       | a volume name
            volume not a mapping   | volumes:\\n  v: 3\\n                             | 2 | volumes.v         | a mapping
            missing origin         | volumes:\\n  v:\\n    metadata: m\\n    cache: c\\n | 2 | volumes.v.origin | missing
            unknown volume key     | {V}    origin2: x\\n                             | 6 | volumes.v.origin2 | unknown key
            same file twice        | volumes:\\n  v:\\n    metadata: m\\n    cache: ./m\\n    origin: o\\n | 4 | volumes.v.cache | the same file as metadata
            bad mode               | {V}    mode: writebak\\n                         | 6 | volumes.v.mode    | 'writebak' is not writeback
            bad policy             | {V}    policy: lru\\n                            | 6 | volumes.v.policy  | 'lru' is not smq
            block size small       | {V}    block_size: 32\\n                         | 6 | volumes.v.block_size | out of range
            block size odd         | {V}    block_size: 100\\n                        | 6 | volumes.v.block_size | not a multiple of 64
            block size quoted      | {V}    block_size: '128'\\n                      | 6 | volumes.v.block_size | a whole number
            version 3              | {V}    metadata_version: 3\\n                    | 6 | volumes.v.metadata_version | out of range
            yes is not a boolean   | {V}    read_only: yes\\n                         | 6 | volumes.v.read_only | true or false expected, found 'yes'
            passdown a list        | {V}    discard_passdown: [true]\\n               | 6 | volumes.v.discard_passdown | true or false expected, found a list
            policy args a list     | {V}    policy_args: [a, b]\\n                    | 6 | volumes.v.policy_args | a mapping
            policy arg with space  | {V}    policy_args: {migration_threshold: 'a b'}\\n | 6 | volumes.v.policy_args.migration_threshold | without spaces
            policy arg empty       | {V}    policy_args:\\n      migration_threshold:\\n | 7 | volumes.v.policy_args.migration_threshold | a value expected, found nothing
            duplicate volume       | {V}  v:\\n    metadata: x\\n                     | 6 | volumes.v         | given twice
            duplicate key          | {V}    cache: d\\n                               | 6 | volumes.v.cache   | given twice
            duplicate top key      | {V}volumes: {}\\n                                | 6 | volumes           | given twice
            unknown default        | default_volume: w\\n{V}                          | 1 | default_volume    | 'w' is not one of the volumes
            description control    | {V}    description: "a\\tb"\\n                  | 6 | volumes.v.description | a control character
            nothing as a path      | volumes:\\n  v:\\n    metadata:\\n    cache: c\\n    origin: o\\n | 3 | volumes.v.metadata | a text value expected, found nothing
            """)
    void everyErrorNamesTheFileTheLineAndTheKey(String what, String text, int line, String key, String problem) {
        String yaml = text.replace("{V}", V.replace("\n", "\\n")).replace("\\n", "\n");
        assertThatThrownBy(() -> ServeConfig.parse(FILE, yaml), what)
                .isInstanceOf(ConfigFileException.class)
                .hasMessageStartingWith(FILE + ":" + line + ": " + key + ": ")
                .hasMessageContaining(problem)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', textBlock = """
            bad indentation   | volumes:\\n  v:\\n    metadata: m\\n   cache: c\\n   | 4
            unclosed quote    | volumes:\\n  v:\\n    metadata: 'm\\n               | 4
            tab indentation   | volumes:\\n\\tv: 1\\n                              | 2
            second document   | {V}---\\nvolumes: {}\\n                            | 7
            unknown tag       | volumes: !secret x\\n                             | 1
            """)
    void yamlSyntaxErrorsNameTheFileAndTheLine(String what, String text, int line) {
        String yaml = text.replace("{V}", V.replace("\n", "\\n")).replace("\\n", "\n").replace("\\t", "\t");
        assertThatThrownBy(() -> ServeConfig.parse(FILE, yaml), what)
                .isInstanceOf(ConfigFileException.class)
                .hasMessageStartingWith(FILE + ":" + line + ": ")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void unreadableAndOversizedFilesAreOneLine(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path missing = dir.resolve("none.yaml");
        assertThatThrownBy(() -> ServeConfig.load(missing)).hasMessage(missing + ": cannot read it: no such file");
        Path big = Files.write(dir.resolve("big.yaml"), new byte[(int) ServeConfig.MAX_BYTES + 1]);
        assertThatThrownBy(() -> ServeConfig.load(big)).hasMessageContaining(big + ": larger than 1024 KiB");
        Path latin = Files.write(dir.resolve("latin.yaml"), new byte[] {'a', ':', ' ', (byte) 0xe9, '\n'});
        assertThatThrownBy(() -> ServeConfig.load(latin)).hasMessage(latin + ": not UTF-8 text");
    }

    /**
     * The example with lines dropped, doubled, swapped, cut, re-indented or with characters changed: it either
     * parses or fails with one line that names the file and a line of it, and a key unless YAML itself failed.
     */
    @Property(tries = 400)
    void damagedExamplesParseOrFailInOneLine(@ForAll @IntRange(min = 1, max = 6) int damages, @ForAll long seed)
            throws IOException {
        Random r = new Random(seed);
        List<String> lines = new ArrayList<>(Files.readAllLines(EXAMPLE));
        for (int i = 0; i < damages; i++) {
            int at = r.nextInt(lines.size());
            String l = lines.get(at);
            switch (r.nextInt(7)) {
                case 0 -> lines.remove(at);
                case 1 -> lines.add(at, l);
                case 2 -> lines.set(at, l.substring(0, r.nextInt(l.length() + 1)));
                case 3 -> lines.set(at, " " + l);
                case 4 -> lines.set(at, l.replaceFirst("^  ", ""));
                case 5 -> {
                    if (!l.isEmpty()) {
                        char[] c = l.toCharArray();
                        String odd = ":-#'\"{}[]&*!|> 0aZ\t\u00e9";
                        c[r.nextInt(c.length)] = odd.charAt(r.nextInt(odd.length()));
                        lines.set(at, new String(c));
                    }
                }
                default -> java.util.Collections.swap(lines, at, r.nextInt(lines.size()));
            }
        }
        String text = String.join("\n", lines) + "\n";
        try {
            ServeConfig c = ServeConfig.parse(FILE, text);
            assertThat(c.volumes()).isNotEmpty();
        } catch (ConfigFileException e) {
            assertThat(e.getMessage()).doesNotContain("\n").matches("\\Q" + FILE + "\\E:(\\d+): .+");
            int line = Integer.parseInt(e.getMessage().substring(FILE.toString().length() + 1).split(":")[0]);
            assertThat(line).isBetween(1, lines.size() + 1);
        }
    }
}
