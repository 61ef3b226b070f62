package io.jdmcache.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The systemd units in dist/systemd: {@code systemd-analyze verify} finds nothing to say about them (it exits 0
 * even on unknown keys and bad values, so any output fails the test), their hardening is there, and
 * {@code systemd-analyze security} rates them. The ExecStart path is pointed at this checkout's bin/jdmcache,
 * since verify checks that the program exists.
 */
class SystemdUnitsTest {
    static final Path ROOT = Path.of(System.getProperty("jdmcache.root", "..")).toAbsolutePath().normalize();
    static final Path UNITS = ROOT.resolve("dist/systemd");
    static final Path ANALYZE = Path.of("/usr/bin/systemd-analyze");
    static final String INSTALLED = "/usr/local/bin/jdmcache";

    record Run(int rc, String out) {
    }

    static Run analyze(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ANALYZE.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), out);
    }

    /** {@code unit} copied into {@code dir} as {@code name}, run from this checkout. */
    static Path localCopy(Path dir, String unit, String name) throws IOException {
        String text = Files.readString(UNITS.resolve(unit));
        assertThat(text).contains("ExecStart=" + INSTALLED + " serve --config ");
        return Files.writeString(dir.resolve(name), text.replace(INSTALLED, ROOT.resolve("bin/jdmcache").toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdmcache.service", "jdmcache@.service"})
    void theUnitsPassSystemdAnalyzeVerifyWithoutAWord(String unit, @TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(ANALYZE), "systemd-analyze is not installed (Debian's systemd package)");
        String name = unit.replace("@.", "@example.");
        Path copy = localCopy(dir, unit, name);
        Run r = analyze(dir, "verify", copy.toString());
        assertThat(r.out()).as("systemd-analyze verify %s", unit).isEmpty();
        assertThat(r.rc()).isZero();

        Run s = analyze(dir, "security", "--offline=yes", copy.toString());
        Matcher m = Pattern.compile("Overall exposure level for \\S+: (\\d+\\.\\d)").matcher(s.out());
        assertThat(m.find()).as(s.out()).isTrue();
        assertThat(Double.parseDouble(m.group(1))).as("exposure (0 safe .. 10 unsafe)").isLessThanOrEqualTo(3.0);
    }

    @Test
    void verifyWouldCatchAMistake(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(ANALYZE), "systemd-analyze is not installed (Debian's systemd package)");
        Path copy = localCopy(dir, "jdmcache.service", "jdmcache.service");
        Files.writeString(copy, Files.readString(copy).replace("ProtectSystem=strict", "ProtectSystem=strcit"));
        assertThat(analyze(dir, "verify", copy.toString()).out()).contains("strcit");
    }

    @ParameterizedTest
    @ValueSource(strings = {"jdmcache.service", "jdmcache@.service"})
    void hardeningStopAndReload(String unit) throws IOException {
        List<String> lines = Files.readAllLines(UNITS.resolve(unit));
        assertThat(lines).contains("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                "CapabilityBoundingSet=", "KillSignal=SIGTERM", "ExecReload=/bin/kill -HUP $MAINPID", "Type=exec");
        String rw = lines.stream().filter(l -> l.startsWith("ReadWritePaths=")).findFirst().orElseThrow();
        for (String p : rw.substring("ReadWritePaths=".length()).split(" ")) {
            assertThat(p).as("writable: the data and socket folders only").matches("/(var/lib|run)/jdmcache(/%i)?");
        }
        String stop = lines.stream().filter(l -> l.startsWith("TimeoutStopSec=")).findFirst().orElseThrow();
        assertThat(Integer.parseInt(stop.substring("TimeoutStopSec=".length())))
                .as("longer than the NBD server's 30 s grace for clients, plus the commits").isGreaterThanOrEqualTo(120);
        assertThat(lines).noneMatch(l -> l.startsWith("MemoryDenyWriteExecute=yes")); // the JIT needs it off
    }
}
