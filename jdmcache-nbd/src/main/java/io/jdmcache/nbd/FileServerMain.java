package io.jdmcache.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Serves a file over NBD until stopped (SIGINT/SIGTERM stop it gracefully).
 *
 * <pre>
 * java -cp jdmcache-nbd/target/classes io.jdmcache.nbd.FileServerMain FILE
 *      [--listen HOST:PORT | --unix SOCKET] [--export NAME] [--read-only] [--workers N] [--no-inline]
 * </pre>
 * Prints one line {@code listening on ADDRESS} once it accepts connections.
 */
public final class FileServerMain {
    private FileServerMain() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args));
        } catch (IllegalArgumentException e) {
            System.err.println("nbd-server: " + e.getMessage());
            System.err.println("usage: FileServerMain FILE [--listen HOST:PORT | --unix SOCKET] [--export NAME]"
                    + " [--read-only] [--workers N] [--no-inline] [--busy-poll USEC]");
            System.exit(2);
        } catch (IOException e) {
            System.err.println("nbd-server: " + e.getMessage());
            System.exit(1);
        }
    }

    private static int number(String v, String option) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": not a number: " + v);
        }
    }

    static int run(String[] args) throws IOException {
        Path file = null;
        SocketAddress listen = new InetSocketAddress("127.0.0.1", NbdServer.DEFAULT_PORT);
        NbdServer.Options opts = NbdServer.Options.defaults();
        boolean readOnly = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--listen":
                    listen = parseHostPort(value(args, ++i, a));
                    break;
                case "--unix":
                    listen = UnixDomainSocketAddress.of(value(args, ++i, a));
                    break;
                case "--export":
                    opts = opts.withExportName(value(args, ++i, a));
                    break;
                case "--no-inline":
                    opts = opts.withInlineIdle(false);
                    break;
                case "--read-only":
                    readOnly = true;
                    break;
                case "--workers":
                    opts = opts.withWorkers(number(value(args, ++i, a), a));
                    break;
                case "--busy-poll":
                    opts = opts.withBusyPollMicros(number(value(args, ++i, a), a));
                    break;
                default:
                    if (a.startsWith("--") || file != null) {
                        throw new IllegalArgumentException("unexpected argument: " + a);
                    }
                    file = Path.of(a);
            }
        }
        if (file == null) {
            throw new IllegalArgumentException("no file to export given");
        }
        if (!Files.exists(file)) {
            throw new IOException(file + ": no such file to export");
        }
        NbdServer server = new NbdServer(FileBackend.open(file, readOnly), opts);
        SocketAddress bound = server.start(listen);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (IOException e) {
                System.err.println("nbd-server: while stopping: " + e.getMessage());
            }
            done.countDown();
        }));
        System.out.println("listening on " + bound);
        System.out.flush();
        try {
            done.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    static InetSocketAddress parseHostPort(String s) {
        int c = s.lastIndexOf(':');
        if (c < 0) {
            throw new IllegalArgumentException("--listen wants HOST:PORT, got: " + s);
        }
        String host = s.substring(0, c);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(c + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen: bad port in " + s);
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--listen: port out of range in " + s);
        }
        return new InetSocketAddress(host, port);
    }
}
