package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The local control socket of a running {@code jdmcache serve}: a Unix socket that takes one request line
 * ({@code status}, {@code status --human}, {@code status --map [COLUMNS [ROWS]]}, {@code metrics}, or
 * {@code message WORD...}, each optionally with {@code --volume NAME} right after its first word) and answers
 * with text; an answer that starts with {@code error: } is a failure. Without {@code --volume}, status and
 * metrics cover every volume (a server of a configuration file names each volume in its status lines, as
 * {@code dmsetup status} does), and a message goes to the only volume (it needs a name when there are more).
 * Only the local user (socket file mode 0600 via the directory it lives in) can reach it.
 */
public final class ControlServer implements AutoCloseable {
    private final Path path;
    private final ServedVolumes volumes;
    private final ServerSocketChannel listener;
    private final Thread thread;

    private ControlServer(Path path, ServedVolumes volumes, ServerSocketChannel listener) {
        this.path = path;
        this.volumes = volumes;
        this.listener = listener;
        this.thread = new Thread(this::acceptLoop, "jdmcache-control");
        thread.setDaemon(true);
    }

    /**
     * Listens on {@code path} for requests about {@code volumes}: a stale socket left there by a crash is
     * replaced; anything else there (a file, a directory, a socket a server answers on) is refused.
     */
    public static ControlServer start(Path path, ServedVolumes volumes) throws IOException {
        SocketPaths.prepareForBind(path, "control socket"); // removes nothing but a stale socket
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot listen on the control socket " + path + ": " + e.getMessage()
                    + (Files.exists(path) ? " (another jdmcache serve uses it; pass --control PATH)" : ""), e);
        }
        ControlServer s = new ControlServer(path, volumes, ch);
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
                String answer = answer(volumes, line == null ? "" : line.strip());
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

    /** The answer to one request line. */
    static String answer(ServedVolumes volumes, String request) {
        String[] words = request.isEmpty() ? new String[0] : request.split("\\s+");
        if (words.length == 0) {
            return "error: empty request (" + REQUESTS + ")\n";
        }
        String volume = null;
        int from = 1;
        if (words.length > 1 && words[1].equals("--volume")) {
            if (words.length < 3) {
                return "error: --volume needs a volume's name\n";
            }
            volume = words[2];
            from = 3;
        }
        String[] args = Arrays.copyOfRange(words, from, words.length);
        try {
            switch (words[0]) {
                case "status" -> {
                    return status(volumes, volume, args);
                }
                case "metrics" -> {
                    return volumes.metrics().text(volume == null ? null : one(volumes, volume).name());
                }
                case "message" -> {
                    if (args.length == 0) {
                        return "error: message needs words, e.g. message migration_threshold 4096\n";
                    }
                    if (request.chars().anyMatch(ch -> ch < 0x20 || ch == 0x7f)) {
                        return "error: message words must be printable text (a control character was sent)\n";
                    }
                    ServedVolumes.Volume v = volume != null ? one(volumes, volume) : only(volumes);
                    if (args[0].equals("trace")) {
                        return trace(volumes, v, args);
                    }
                    v.cache().message(args);
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

    /**
     * {@code trace start FILE} and {@code trace stop}: serve's own messages (the kernel has none like them),
     * which record the volume's NBD requests in jdmcache's trace format. FILE is taken as the server sees it
     * ({@code jdmcache message} makes a relative path absolute first).
     */
    private static String trace(ServedVolumes volumes, ServedVolumes.Volume v, String[] args) throws IOException {
        if (args.length == 3 && args[1].equals("start")) {
            Path file = Path.of(args[2]);
            volumes.startTrace(v, file);
            return "recording the requests of volume " + v.name() + " to " + file + "\n";
        }
        if (args.length == 2 && args[1].equals("stop")) {
            return volumes.stopTrace(v) + "\n";
        }
        throw new IllegalArgumentException("trace: 'trace start FILE' or 'trace stop' expected, got '"
                + String.join(" ", args) + "'");
    }

    private static String status(ServedVolumes volumes, String volume, String[] args) throws IOException {
        String view = args.length == 0 ? "" : args[0];
        if (!view.isEmpty() && !view.equals("--human") && !view.equals("--map")) {
            throw new IllegalArgumentException("status takes --human or --map [COLUMNS [ROWS]], not '" + view + "'");
        }
        int columns = 64;
        int rows = 16;
        if (view.equals("--map")) {
            columns = args.length > 1 ? mapSize(args[1], "columns", 1, 1024) : 64;
            rows = args.length > 2 ? mapSize(args[2], "rows", 1, 1024) : 16;
        }
        if (volume != null || !volumes.named()) {
            ServedVolumes.Volume v = volume != null ? one(volumes, volume) : only(volumes);
            return status(v, view, columns, rows);
        }
        StringBuilder b = new StringBuilder();
        for (ServedVolumes.Volume v : volumes.running()) {
            if (view.isEmpty()) {
                b.append(v.name()).append(": ").append(status(v, view, columns, rows));
            } else {
                b.append(b.length() == 0 ? "" : "\n").append("volume ").append(v.name()).append(":\n")
                        .append(status(v, view, columns, rows));
            }
        }
        for (Map.Entry<String, String> e : volumes.leftOut().entrySet()) {
            b.append(view.isEmpty() ? "" : b.length() == 0 ? "volume " : "\nvolume ").append(e.getKey())
                    .append(": not served: ").append(e.getValue()).append('\n');
        }
        if (b.length() == 0) {
            throw new IllegalArgumentException("no volume is served");
        }
        return b.toString();
    }

    private static String status(ServedVolumes.Volume v, String view, int columns, int rows) {
        CacheDevice cache = v.cache();
        String status = cache.status();
        TraceRecorder trace = v.backend().trace();
        return switch (view) {
            case "--human" -> StatusText.human(status, cache.blockBytes()) + "\n" + RemoteOrigin.describe(cache) + "\n"
                    + StatusText.backgroundErrors(cache.counters(), cache.backgroundFailure()) + "\n"
                    + (trace == null ? "" : trace.describe() + "\n");
            case "--map" -> CacheMap.render(cache, columns, rows);
            default -> "0 " + (cache.size() / 512) + " cache " + status + "\n";
        };
    }

    /** The served volume {@code name}, or an error saying why there is none. */
    private static ServedVolumes.Volume one(ServedVolumes volumes, String name) {
        ServedVolumes.Volume v = volumes.get(name);
        if (v != null) {
            return v;
        }
        String why = volumes.whyLeftOut(name);
        if (why != null) {
            throw new IllegalArgumentException("volume '" + name + "' is not served: " + why);
        }
        throw new IllegalArgumentException("no volume '" + name + "' (served: " + names(volumes) + ")");
    }

    /** The one volume served; an error when there are several (or none). */
    private static ServedVolumes.Volume only(ServedVolumes volumes) {
        List<ServedVolumes.Volume> all = volumes.running();
        if (all.size() == 1) {
            return all.get(0);
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException("no volume is served");
        }
        throw new IllegalArgumentException("this server serves " + all.size() + " volumes (" + names(volumes)
                + "); name one with --volume NAME");
    }

    private static String names(ServedVolumes volumes) {
        List<String> n = new ArrayList<>();
        for (ServedVolumes.Volume v : volumes.running()) {
            n.add(v.name());
        }
        return n.isEmpty() ? "none" : String.join(", ", n);
    }

    private static final String REQUESTS = "status, status --human, status --map [COLUMNS [ROWS]], metrics, "
            + "message WORD... (also message trace start FILE, message trace stop), each with --volume NAME after "
            + "its first word if need be";

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
