package io.jdmcache.cli.serve;

import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.need;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.jdmcache.cli.serve.ServeTest.Run;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jdmcache serve --config FILE}: three volumes, one of them broken, served as three exports of one
 * server (the broken one left out), chosen with {@code --volume} on the control socket; the file edited and
 * SIGHUP sent (a volume removed, one added, one changed, then a damaged file); the log lines under systemd
 * (no timestamps) and elsewhere (timestamps).
 */
class ServeConfigFileTest {
    @TempDir
    Path dir;

    /** Makes the sparse files of a volume: 16 MiB origin, 2 MiB cache (32 blocks of 64 KiB), 8 MiB metadata. */
    void volumeFiles(String name) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        sparse(d.resolve("origin.img"), 16 << 20);
        sparse(d.resolve("cache.img"), 2 << 20);
        sparse(d.resolve("md.img"), 8 << 20);
    }

    static void sparse(Path p, long bytes) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
    }

    static String volume(String name, String extra) {
        return "  " + name + ":\n"
                + "    metadata: " + name + "/md.img\n"
                + "    cache: " + name + "/cache.img\n"
                + "    origin: " + name + "/origin.img\n"
                + "    block_size: 128\n"
                + extra;
    }

    Path writeConfig(String volumes) throws IOException {
        Path f = dir.resolve("jdmcache.yaml");
        Files.writeString(f, "control: ctl.sock\ndefault_volume: a\nvolumes:\n" + volumes);
        return f;
    }

    static boolean cleanShutdown(Path md) throws IOException {
        return (Files.readAllBytes(md)[4] & 1) == 1;
    }

    @Test
    void threeVolumesOneBrokenThenReloads() throws Exception {
        need("nbdinfo", "qemu-io");
        for (String v : List.of("a", "b", "d")) {
            volumeFiles(v);
        }
        Files.createDirectories(dir.resolve("c"));
        sparse(dir.resolve("c/cache.img"), 2 << 20);
        sparse(dir.resolve("c/md.img"), 8 << 20); // c/origin.img is missing
        Path config = writeConfig(volume("a", "    description: volume a\n")
                + volume("b", "    mode: writethrough\n    description: volume b\n")
                + volume("c", ""));
        String ctl = dir.resolve("ctl.sock").toString();
        Map<String, String> env = new HashMap<>();
        env.put("JOURNAL_STREAM", "8:12345"); // as systemd sets it: no timestamps
        try (ServerProcess s = ServerProcess.start(dir, env, "--config", config.toString())) {
            String log = s.errors();
            assertThat(log.lines().toList()).as(log).allMatch(l -> l.startsWith("jdmcache: "));
            assertThat(log).contains("jdmcache: volume a: serving export 'a': 16 MiB through 32 cache blocks")
                    .contains("jdmcache: volume b: serving export 'b'")
                    .containsPattern("jdmcache: volume c: left out, not served: .*c/origin\\.img");
            Run list = run(dir, "nbdinfo", "--list", s.uri);
            assertThat(list.rc()).as(list.out()).isZero();
            assertThat(list.out()).contains("export=\"a\"", "description: volume a", "export=\"b\"",
                    "description: volume b").doesNotContain("export=\"c\"");
            Run info = run(dir, "nbdinfo", "--size", s.uri); // the empty name selects the default volume
            assertThat(info.out().trim()).isEqualTo(String.valueOf(16 << 20));

            Run wa = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x11 0 65536", s.uri + "a");
            assertThat(wa.out()).as(wa.out()).contains("wrote 65536/65536");
            Run wb = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x22 65536 65536", s.uri + "b");
            assertThat(wb.out()).as(wb.out()).contains("wrote 65536/65536");

            Run status = jdmcache("status", "--control", ctl);
            assertThat(status.rc()).as(status.out()).isZero();
            List<String> lines = status.out().lines().toList();
            assertThat(lines).hasSize(3);
            assertThat(lines.get(0)).startsWith("a: 0 32768 cache ").contains(" writeback ");
            assertThat(lines.get(1)).startsWith("b: 0 32768 cache ").contains(" writethrough ");
            assertThat(lines.get(2)).startsWith("c: not served: ");
            Run sb = jdmcache("status", "--volume", "b", "--control", ctl);
            assertThat(sb.out()).startsWith("0 32768 cache ").contains(" writethrough ");
            Run mb = jdmcache("metrics", "--volume", "b", "--control", ctl);
            assertThat(mb.rc()).isZero();
            assertThat(mb.out()).contains("jdmcache_nbd_written_bytes_total{volume=\"b\"} 65536.0")
                    .doesNotContain("volume=\"a\"");
            Run ma = jdmcache("metrics", "--control", ctl);
            assertThat(ma.out()).contains("jdmcache_nbd_written_bytes_total{volume=\"a\"} 65536.0")
                    .contains("jdmcache_nbd_written_bytes_total{volume=\"b\"} 65536.0")
                    .containsPattern("jdmcache_request_duration_seconds_count\\{op=\"write\",outcome=\"(hit|miss)\","
                            + "volume=\"a\"\\} [1-9]");
            Run nameless = jdmcache("message", "--control", ctl, "migration_threshold", "4096");
            assertThat(nameless.rc()).isEqualTo(1);
            assertThat(nameless.out()).contains("serves 2 volumes (a, b); name one with --volume NAME");
            assertThat(jdmcache("message", "--volume", "a", "--control", ctl, "migration_threshold", "4096").rc())
                    .isZero();
            assertThat(jdmcache("status", "--volume", "a", "--control", ctl).out()).contains("migration_threshold 4096");
            assertThat(jdmcache("status", "--volume", "b", "--control", ctl).out())
                    .doesNotContain("migration_threshold 4096");
            Run broken = jdmcache("status", "--volume", "c", "--control", ctl);
            assertThat(broken.rc()).isEqualTo(1);
            assertThat(broken.out()).contains("volume 'c' is not served");

            // b removed, d added, a changed (its mode), c still broken
            writeConfig(volume("a", "    description: volume a\n    mode: writethrough\n") + volume("c", "")
                    + volume("d", "    description: volume d, added\n"));
            s.hangUp();
            log = s.awaitErrors("jdmcache: reloaded ", 1);
            assertThat(log).contains("jdmcache: volume b: no longer in ")
                    .contains("jdmcache: volume b: stopped; its metadata is committed with the clean-shutdown flag")
                    .contains("jdmcache: volume d: serving export 'd'")
                    .containsPattern("jdmcache: volume a: changed in \\S+ \\(mode\\); it keeps running as it is")
                    .contains("2 volumes served (a, d); started d, stopped b, changed a");
            assertThat(log.lines().filter(l -> l.contains("volume c: left out")).count()).as("c tried again")
                    .isEqualTo(2);
            list = run(dir, "nbdinfo", "--list", s.uri);
            assertThat(list.out()).contains("export=\"a\"", "export=\"d\"", "description: volume d, added")
                    .doesNotContain("export=\"b\"");
            assertThat(cleanShutdown(dir.resolve("b/md.img"))).as("b's metadata committed clean").isTrue();
            Run check = jdmcache("check", dir.resolve("b/md.img").toString());
            assertThat(check.rc()).as(check.out()).isZero();
            assertThat(jdmcache("status", "--volume", "a", "--control", ctl).out()).as("a keeps its old mode")
                    .contains(" writeback ").contains("migration_threshold 4096");
            Run ra = run(dir, "qemu-io", "-f", "raw", "-c", "read -P 0x11 0 65536", s.uri + "a");
            assertThat(ra.out()).as(ra.out()).contains("read 65536/65536").doesNotContain("verification failed");
            Run wd = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x33 0 4096", "-c", "read -P 0x33 0 4096",
                    s.uri + "d");
            assertThat(wd.out()).as(wd.out()).contains("read 4096/4096").doesNotContain("verification failed");

            // a damaged file: reported, nothing changes
            Files.writeString(config, "volumes:\n  a:\n    metadata: [\n");
            s.hangUp();
            log = s.awaitErrors("reload refused, nothing changed: ", 1);
            assertThat(log).containsPattern("reload refused, nothing changed: \\S*jdmcache\\.yaml:\\d+: ");
            list = run(dir, "nbdinfo", "--list", s.uri);
            assertThat(list.out()).contains("export=\"a\"", "export=\"d\"");

            assertThat(s.terminate()).as("SIGTERM: rc 0").isZero();
            log = s.errors();
            assertThat(log).contains("jdmcache: volume a: stopped; its metadata is committed with the clean-shutdown")
                    .contains("jdmcache: volume d: stopped; its metadata is committed with the clean-shutdown");
            assertThat(log.lines().toList()).allMatch(l -> l.startsWith("jdmcache: "));
        }
        for (String v : List.of("a", "d")) {
            assertThat(cleanShutdown(dir.resolve(v + "/md.img"))).as(v + " committed clean").isTrue();
            assertThat(jdmcache("check", dir.resolve(v + "/md.img").toString()).rc()).isZero();
        }
    }

    @Test
    void badFilesAndOptionsGetOneLine() throws Exception {
        Path config = writeConfig(volume("a", "    frob: 1\n"));
        Run r = jdmcache("serve", "--config", config.toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.out().trim()).isEqualTo("serve: " + config + ":9: volumes.a.frob: unknown key (known: "
                + "block_size, cache, description, discard_passdown, metadata, metadata_version, mode, origin, "
                + "origin_connections, origin_retry, origin_timeout, policy, policy_args, read_only, trace)");
        r = jdmcache("serve", "--config", config.toString(), "--mode", "writethrough");
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.out()).contains("--mode describes a volume on the command line; with --config").hasLineCount(1);
        r = jdmcache("serve", "--config", dir.resolve("none.yaml").toString());
        assertThat(r.rc()).isEqualTo(1);
        assertThat(r.out().trim()).isEqualTo("serve: " + dir.resolve("none.yaml") + ": cannot read it: no such file");
    }

    @Test
    void whenNoVolumeOpensServeEndsWithRc1AndLogsWithTimestampsOffSystemd() throws Exception {
        Path config = writeConfig(volume("a", "") + volume("b", "")); // no files at all
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), "io.jdmcache.cli.Main", "serve", "--config", config.toString(),
                "--listen", "127.0.0.1:0");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().remove("JOURNAL_STREAM");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        String stamp = "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} jdmcache: ";
        assertThat(out).containsPattern(stamp + "volume a: left out, not served: ")
                .containsPattern(stamp + "volume b: left out, not served: ")
                .contains("serve: no volume of " + config + " could be opened");
        assertThat(out).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void eventLogLinesAreOneLineEach() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        EventLog plain = new EventLog(new PrintStream(b, true, StandardCharsets.UTF_8), false);
        plain.event("volume %s: left out: %s", "x", "two\nlines\r\nhere");
        assertThat(b.toString(StandardCharsets.UTF_8)).isEqualTo("jdmcache: volume x: left out: two lines here\n");
        b.reset();
        new EventLog(new PrintStream(b, true, StandardCharsets.UTF_8), true).event("100% done");
        assertThat(b.toString(StandardCharsets.UTF_8))
                .matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} jdmcache: 100% done\\n");
    }
}
