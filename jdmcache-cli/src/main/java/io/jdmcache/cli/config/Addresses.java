package io.jdmcache.cli.config;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;

/** The listening addresses {@code serve} takes, from its options or from a configuration file. */
public final class Addresses {
    /** The loopback address a bare port listens on. */
    public static final String LOOPBACK = "127.0.0.1";

    private Addresses() {
    }

    /**
     * {@code HOST:PORT}, {@code [V6]:PORT}, {@code PORT} (on the loopback address) or {@code unix:PATH}.
     *
     * @param what how the message names the value, e.g. {@code --listen}
     * @throws IllegalArgumentException saying what is wrong, naming {@code what}
     */
    public static SocketAddress parse(String s, String what) {
        if (s.startsWith("unix:")) {
            if (s.length() == 5) {
                throw new IllegalArgumentException(what + " unix:PATH needs a path");
            }
            return UnixDomainSocketAddress.of(s.substring(5));
        }
        return tcp(s, what, "HOST:PORT or unix:PATH");
    }

    /** {@code HOST:PORT}, {@code [V6]:PORT} or {@code PORT} (on the loopback address): TCP only. */
    public static InetSocketAddress tcp(String s, String what) {
        return tcp(s, what, "HOST:PORT");
    }

    private static InetSocketAddress tcp(String s, String what, String expected) {
        String host = LOOPBACK;
        String port = s;
        int colon = s.lastIndexOf(':');
        if (colon >= 0) {
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException(what + " " + s + ": " + expected
                        + " expected (the host is empty)");
            }
        }
        int p;
        try {
            p = Integer.parseInt(port);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " " + s + ": " + expected + " expected");
        }
        if (p < 0 || p > 65535) {
            throw new IllegalArgumentException(what + " " + s + ": port " + p + " is out of range");
        }
        return new InetSocketAddress(host, p);
    }
}
