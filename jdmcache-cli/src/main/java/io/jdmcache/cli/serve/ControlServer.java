package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.nbd.NbdServer;
import io.jdmcache.nbd.SocketPaths;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The local control socket of a running {@code jdmcache serve}: a Unix socket that takes one request line
 * ({@code status}, {@code status --human}, {@code status --map [COLUMNS [ROWS]]}, {@code metrics}, or
 * {@code message WORD...}) and answers with text; an answer that starts with {@code error: } is a failure.
 * Only the local user (socket file mode 0600 via the directory it lives in) can reach it.
 */
public final class ControlServer implements AutoCloseable {
    private final Path path;
    private final CacheDevice cache;
    private final NbdServer nbd;
    private final ServerSocketChannel listener;
    private final Thread thread;

    private ControlServer(Path path, CacheDevice cache, NbdServer nbd, ServerSocketChannel listener) {
        this.path = path;
        this.cache = cache;
        this.nbd = nbd;
        this.listener = listener;
        this.thread = new Thread(this::acceptLoop, "jdmcache-control");
        thread.setDaemon(true);
    }

    /**
     * Listens on {@code path}: a stale socket left there by a crash is replaced; anything else there (a file, a
     * directory, a socket a server answers on) is refused. The metrics include {@code nbd}'s.
     */
    public static ControlServer start(Path path, CacheDevice cache, NbdServer nbd) throws IOException {
        SocketPaths.prepareForBind(path, "control socket"); // removes nothing but a stale socket
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot listen on the control socket " + path + ": " + e.getMessage()
                    + (Files.exists(path) ? " (another jdmcache serve uses it; pass --control PATH)" : ""), e);
        }
        ControlServer s = new ControlServer(path, cache, nbd, ch);
        s.thread.start();
        return s;
    }

    /** Whether a server answers on the socket file at {@code path}. */
    static boolean isLive(Path path) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return c.isConnected();
        } catch (IOException e) {
            return false;
        }
    }

    public Path path() {
        return path;
    }

    private void acceptLoop() {
        while (listener.isOpen()) {
            try (SocketChannel c = listener.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                        StandardCharsets.UTF_8));
                String line = in.readLine();
                String answer = answer(cache, nbd, line == null ? "" : line.strip());
                OutputStream out = Channels.newOutputStream(c);
                out.write(answer.getBytes(StandardCharsets.UTF_8));
                out.flush();
            } catch (IOException e) {
                if (!listener.isOpen()) {
                    return;
                }
            }
        }
    }

    /** The answer to one request line ({@code nbd} may be null: no NBD metrics). */
    static String answer(CacheDevice cache, NbdServer nbd, String request) {
        String[] words = request.isEmpty() ? new String[0] : request.split("\\s+");
        if (words.length == 0) {
            return "error: empty request (" + REQUESTS + ")\n";
        }
        try {
            switch (words[0]) {
                case "status" -> {
                    String status = cache.status();
                    if (words.length > 1 && words[1].equals("--human")) {
                        return StatusText.human(status, cache.blockBytes()) + "\n" + RemoteOrigin.describe(cache)
                                + "\n";
                    }
                    if (words.length > 1 && words[1].equals("--map")) {
                        int columns = words.length > 2 ? mapSize(words[2], "columns", 1, 1024) : 64;
                        int rows = words.length > 3 ? mapSize(words[3], "rows", 1, 1024) : 16;
                        return CacheMap.render(cache, columns, rows);
                    }
                    return "0 " + (cache.size() / 512) + " cache " + status + "\n";
                }
                case "metrics" -> {
                    return Metrics.prometheus(cache, nbd);
                }
                case "message" -> {
                    if (words.length < 2) {
                        return "error: message needs words, e.g. message migration_threshold 4096\n";
                    }
                    if (request.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
                        return "error: message words must be printable text (a control character was sent)\n";
                    }
                    cache.message(Arrays.copyOfRange(words, 1, words.length));
                    return "";
                }
                default -> {
                    return "error: unknown request '" + words[0] + "' (" + REQUESTS + ")\n";
                }
            }
        } catch (IOException | RuntimeException e) {
            String m = e.getMessage();
            return "error: " + (m == null ? e.getClass().getSimpleName() : m) + "\n";
        }
    }

    private static final String REQUESTS = "status, status --human, status --map [COLUMNS [ROWS]], metrics, "
            + "message WORD...";

    private static int mapSize(String word, String what, int min, int max) {
        int v;
        try {
            v = Integer.parseInt(word);
        } catch (NumberFormatException e) {
            v = -1;
        }
        if (v < min || v > max) {
            throw new IllegalArgumentException("map " + what + " '" + word + "': a number from " + min + " to " + max);
        }
        return v;
    }

    /** Sends one request to the server on {@code path} and returns its answer. */
    public static String request(Path path, String line) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            OutputStream out = Channels.newOutputStream(c);
            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            c.shutdownOutput();
            return new String(Channels.newInputStream(c).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() throws IOException {
        listener.close();
        Files.deleteIfExists(path);
    }
}
