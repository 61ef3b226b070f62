package io.jdmcache.nbd;

import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Making room for a Unix-domain socket a server is about to bind: the only thing ever removed is a socket that
 * no live process answers on (the leftover of a crash). A regular file, a directory, a symbolic link, or a
 * socket that answers or that cannot be tried is left alone and reported.
 */
public final class SocketPaths {
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;

    private SocketPaths() {
    }

    /** What {@link #prepareForBind} found. */
    public enum Outcome { ABSENT, REMOVED_STALE }

    /**
     * Checks that {@code path} can be bound by a new listening socket, removing a stale socket left there.
     *
     * @param what how the caller names the socket in messages ("control socket", "NBD socket")
     * @throws IOException naming the path and what is wrong when anything else is there
     */
    public static Outcome prepareForBind(Path path, String what) throws IOException {
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(path, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return Outcome.ABSENT;
        } catch (UnsupportedOperationException e) {
            throw new IOException(what + " " + path + ": already exists (refusing to replace it)");
        }
        int mode = ((Number) attrs.get("mode")).intValue();
        if ((mode & S_IFMT) != S_IFSOCK) {
            throw new IOException(what + " " + path + ": " + kind(mode)
                    + " is already there and is not a socket (refusing to replace it; choose another path)");
        }
        String failure = probe(path);
        if (failure == null) {
            throw new IOException(what + " " + path + ": a running server already answers on it");
        }
        if (failure.equals(REFUSED)) {
            Files.deleteIfExists(path);
            return Outcome.REMOVED_STALE;
        }
        throw new IOException(what + " " + path + ": a socket owned by uid " + attrs.get("uid")
                + " that this process cannot try (" + failure + "); not removing it");
    }

    private static final String REFUSED = "Connection refused";

    /** Null when something answers on the socket; {@link #REFUSED} when nothing does; else the reason. */
    private static String probe(Path path) {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(path));
            return null;
        } catch (ConnectException e) {
            String m = String.valueOf(e.getMessage());
            return m.contains("refused") ? REFUSED : m;
        } catch (IOException e) {
            return e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : String.valueOf(e.getMessage());
        }
    }

    private static String kind(int mode) {
        switch (mode & S_IFMT) {
            case 0100000: return "a regular file";
            case 0040000: return "a directory";
            case 0120000: return "a symbolic link";
            case 0060000: return "a block device";
            case 0020000: return "a character device";
            case 0010000: return "a FIFO";
            default: return "something";
        }
    }
}
