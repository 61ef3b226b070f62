package io.jdmcache.cli.serve;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A {@code jdmcache serve} in its own JVM (so it can be killed), on the test's classpath. */
final class ServerProcess implements AutoCloseable {
    private static final Pattern SERVING =
            Pattern.compile("serving (nbd://127\\.0\\.0\\.1:(\\d+)/\\S*|nbd\\+unix:///\\S*)");
    final Process process;
    final String uri;
    final int port;
    final Path stderr;

    private ServerProcess(Process process, String uri, int port, Path stderr) {
        this.process = process;
        this.uri = uri;
        this.port = port;
        this.stderr = stderr;
    }

    /** Starts {@code jdmcache serve ARGS} in {@code dir} and waits until it accepts clients. */
    static ServerProcess start(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.jdmcache.cli.Main", "serve"));
        if (!List.of(args).contains("--listen")) {
            cmd.addAll(List.of("--listen", "127.0.0.1:0"));
        }
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "serve", ".err");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = out.readLine()) != null) {
            Matcher m = SERVING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe open and empty
                        }
                    } catch (IOException ignored) {
                        // the process ended
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return new ServerProcess(p, m.group(1), m.group(2) == null ? -1 : Integer.parseInt(m.group(2)), err);
            }
        }
        p.waitFor(30, TimeUnit.SECONDS);
        throw new IOException("serve did not start (rc " + p.exitValue() + "): " + Files.readString(err));
    }

    /** SIGTERM and the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("serve did not stop within 60 s of SIGTERM");
        }
        return process.exitValue();
    }

    /** SIGKILL: a crash. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    String errors() throws IOException {
        return Files.readString(stderr);
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
