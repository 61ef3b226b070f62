package io.jdmcache.nbd.client;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An NBD server program (nbdkit, qemu-nbd) started by a test and stopped by its own process handle. It
 * listens on a Unix socket in the test's folder or on a free loopback port; {@link #uri()} names it.
 */
public final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final String uri;
    private final List<String> command;

    private ServerProcess(Process process, Path log, String uri, List<String> command) {
        this.process = process;
        this.log = log;
        this.uri = uri;
        this.command = command;
    }

    public static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Skips the test (saying which package to install) when {@code tool} is missing. */
    public static void need(String tool, String pkg) {
        assumeTrue(onPath(tool), tool + " is not installed (apt-get install " + pkg + ")");
    }

    /** A port that was free a moment ago. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * nbdkit in the foreground on a Unix socket in {@code dir}: {@code args} are filters, the plugin and its
     * parameters, as on nbdkit's command line.
     */
    public static ServerProcess nbdkit(Path dir, String name, String... args) throws IOException {
        need("nbdkit", "nbdkit");
        Path sock = dir.resolve(name + ".sock");
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "--exit-with-parent", "-U", sock.toString()));
        cmd.addAll(List.of(args));
        return start(dir, name, cmd, sock, -1, "nbd+unix:///?socket=" + sock);
    }

    /** nbdkit in the foreground on a loopback TCP port. */
    public static ServerProcess nbdkitTcp(Path dir, String name, int port, String... args) throws IOException {
        need("nbdkit", "nbdkit");
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "--exit-with-parent", "-i", "127.0.0.1",
                "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        return start(dir, name, cmd, null, port, "nbd://127.0.0.1:" + port + "/");
    }

    /** qemu-nbd serving a raw file on a Unix socket, staying up across clients, up to 8 at once. */
    public static ServerProcess qemuNbd(Path dir, String name, Path file, String... extra) throws IOException {
        need("qemu-nbd", "qemu-utils");
        Path sock = dir.resolve(name + ".sock");
        List<String> cmd = new ArrayList<>(List.of("qemu-nbd", "-f", "raw", "-t", "-e", "8", "-k", sock.toString()));
        cmd.addAll(List.of(extra));
        cmd.add(file.toString());
        return start(dir, name, cmd, sock, -1, "nbd+unix:///?socket=" + sock);
    }

    private static ServerProcess start(Path dir, String name, List<String> cmd, Path sock, int port, String uri)
            throws IOException {
        Path log = dir.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        ServerProcess s = new ServerProcess(p, log, uri, cmd);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!s.listening(sock, port)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String out = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
                s.close();
                throw new IOException(String.join(" ", cmd) + " did not start: " + out);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        return s;
    }

    private boolean listening(Path sock, int port) {
        if (sock != null) {
            return Files.exists(sock);
        }
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public String uri() {
        return uri;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** SIGKILL, at once. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM, then SIGKILL if it has not ended within 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return String.join(" ", command);
    }
}
