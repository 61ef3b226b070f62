package io.jdmcache.nbd.client;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnixDomainSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Where an NBD export is, in libnbd's URI syntax: {@code nbd://HOST[:PORT][/EXPORT]} (TCP, port 10809 when
 * none is given) or {@code nbd+unix:///EXPORT?socket=PATH} (a Unix domain socket). The export name is the
 * path without its first slash, percent-decoded; an empty one names the server's default export.
 *
 * @param text   the URI as given
 * @param host   the host for TCP, null for a Unix socket
 * @param port   the TCP port, -1 for a Unix socket
 * @param socket the socket's path for {@code nbd+unix}, null for TCP
 * @param export the export name (may be empty)
 */
public record NbdUri(String text, String host, int port, Path socket, String export) {
    public static final int DEFAULT_PORT = 10809;

    /** Whether {@code s} is meant as an NBD URI (it names one of the schemes), whether or not it is valid. */
    public static boolean looksLikeUri(String s) {
        return s.startsWith("nbd://") || s.startsWith("nbd+unix://") || s.startsWith("nbds://")
                || s.startsWith("nbds+unix://") || s.startsWith("nbd+vsock://") || s.startsWith("nbds+vsock://");
    }

    /**
     * Parses a URI.
     *
     * @throws IllegalArgumentException with one line naming the URI and what is wrong with it
     */
    public static NbdUri parse(String s) {
        URI u;
        try {
            u = new URI(s);
        } catch (URISyntaxException e) {
            throw bad(s, "not a valid URI (" + e.getReason() + ")");
        }
        String scheme = u.getScheme();
        if (scheme == null) {
            throw bad(s, "no scheme (nbd:// or nbd+unix://)");
        }
        switch (scheme) {
            case "nbds", "nbds+unix", "nbds+vsock" -> throw bad(s, "TLS (" + scheme + "://) is not supported");
            case "nbd+vsock" -> throw bad(s, "vsock is not supported");
            case "nbd", "nbd+unix" -> {
            }
            default -> throw bad(s, "unknown scheme '" + scheme + "' (nbd:// or nbd+unix://)");
        }
        if (u.getRawUserInfo() != null) {
            throw bad(s, "a user name is not supported");
        }
        if (u.getRawFragment() != null) {
            throw bad(s, "a fragment (#...) is not supported");
        }
        String export = exportName(s, u.getRawPath());
        String socketPath = null;
        String query = u.getRawQuery();
        if (query != null && !query.isEmpty()) {
            for (String kv : query.split("[&;]")) {
                int eq = kv.indexOf('=');
                String key = eq < 0 ? kv : kv.substring(0, eq);
                String value = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                if (key.equals("socket") && scheme.equals("nbd+unix")) {
                    socketPath = value;
                } else if (key.startsWith("tls")) {
                    throw bad(s, "TLS (" + key + ") is not supported");
                } else {
                    throw bad(s, "unknown query parameter '" + key + "'");
                }
            }
        }
        if (scheme.equals("nbd+unix")) {
            if (u.getRawAuthority() != null) {
                throw bad(s, "nbd+unix takes no host (nbd+unix:///EXPORT?socket=PATH)");
            }
            if (socketPath == null || socketPath.isEmpty()) {
                throw bad(s, "nbd+unix needs ?socket=PATH");
            }
            return new NbdUri(s, null, -1, Path.of(socketPath), export);
        }
        String host = u.getHost();
        if (host == null || host.isEmpty()) {
            throw bad(s, "no host (nbd://HOST[:PORT][/EXPORT])");
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = u.getPort();
        if (port == 0 || port > 65535) {
            throw bad(s, "port " + port + " is out of range (1 to 65535)");
        }
        return new NbdUri(s, host, port < 0 ? DEFAULT_PORT : port, null, export);
    }

    private static String exportName(String s, String rawPath) {
        if (rawPath == null || rawPath.isEmpty() || rawPath.equals("/")) {
            return "";
        }
        if (rawPath.charAt(0) != '/') {
            throw bad(s, "the export name must follow a '/'");
        }
        String name = URLDecoder.decode(rawPath.substring(1).replace("+", "%2B"), StandardCharsets.UTF_8);
        if (name.getBytes(StandardCharsets.UTF_8).length > 4096) {
            throw bad(s, "the export name is longer than 4096 bytes");
        }
        if (name.indexOf('\0') >= 0) {
            throw bad(s, "the export name contains a NUL");
        }
        return name;
    }

    private static IllegalArgumentException bad(String s, String why) {
        return new IllegalArgumentException("bad NBD URI '" + s + "': " + why);
    }

    /** The address to connect to (a host name is looked up on each call). */
    public SocketAddress address() {
        return socket != null ? UnixDomainSocketAddress.of(socket) : new InetSocketAddress(host, port);
    }

    public boolean isUnix() {
        return socket != null;
    }

    @Override
    public String toString() {
        return text;
    }
}
