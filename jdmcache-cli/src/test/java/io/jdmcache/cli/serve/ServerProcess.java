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
    /** Every line serve printed on standard output so far. */
    final List<String> stdout;

    private ServerProcess(Process process, String uri, int port, Path stderr, List<String> stdout) {
        this.process = process;
        this.uri = uri;
        this.port = port;
        this.stderr = stderr;
        this.stdout = stdout;
    }

    /** Starts {@code jdmcache serve ARGS} in {@code dir} and waits until it accepts clients. */
    static ServerProcess start(Path dir, String... args) throws IOException, InterruptedException {
        return start(dir, java.util.Map.of(), args);
    }

    /**
     * As {@link #start(Path, String...)}, with environment variables changed: a null value removes the
     * variable.
     */
    static ServerProcess start(Path dir, java.util.Map<String, String> env, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.jdmcache.cli.Main", "serve"));
        if (!List.of(args).contains("--listen")) {
            cmd.addAll(List.of("--listen", "127.0.0.1:0"));
        }
        cmd.addAll(List.of(args));
        Path err = Files.createTempFile(dir, "serve", ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        env.forEach((k, v) -> {
            if (v == null) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line;
        List<String> lines = new java.util.concurrent.CopyOnWriteArrayList<>();
        while ((line = out.readLine()) != null) {
            lines.add(line);
            Matcher m = SERVING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        String l;
                        while ((l = out.readLine()) != null) {
                            lines.add(l); // and keep the pipe open and empty
                        }
                    } catch (IOException ignored) {
                        // the process ended
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return new ServerProcess(p, m.group(1), m.group(2) == null ? -1 : Integer.parseInt(m.group(2)), err,
                        lines);
            }
        }
        p.waitFor(30, TimeUnit.SECONDS);
        throw new IOException("serve did not start (rc " + p.exitValue() + "): " + Files.readString(err));
    }

    /** Waits for a line of standard output that {@code p} finds something in; returns the first group. */
    String awaitOutput(Pattern p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            for (String l : stdout) {
                Matcher m = p.matcher(l);
                if (m.find()) {
                    return m.group(1);
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no line matching " + p + " on serve's stdout: " + stdout);
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

    /** Sends SIGHUP (with kill(1), as an operator or systemd's ExecReload would). */
    void hangUp() throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-HUP", String.valueOf(process.pid())).inheritIO().start();
        if (!k.waitFor(30, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new IOException("kill -HUP " + process.pid() + " failed");
        }
    }

    /** Waits until standard error holds {@code text} {@code times} times or more; returns standard error. */
    String awaitErrors(String text, int times) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            String e = errors();
            int n = 0;
            for (int i = e.indexOf(text); i >= 0; i = e.indexOf(text, i + 1)) {
                n++;
            }
            if (n >= times) {
                return e;
            }
            if (System.nanoTime() > deadline || !process.isAlive()) {
                throw new AssertionError("no '" + text + "' (x" + times + ") on serve's stderr: " + e);
            }
            Thread.sleep(50);
        }
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
