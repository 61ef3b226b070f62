package io.jdmcache.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where {@code serve} puts its control socket and where {@code status} and {@code message} look for it. */
final class Control {
    static final String DEFAULT_HINT = "DATA-DIR/control.sock for the embedded default, else ./jdmcache.sock";

    private Control() {
    }

    /** The default socket: in the embedded default's data directory, else in the current directory. */
    static Path defaultPath(Path embeddedDataDir) {
        return embeddedDataDir != null ? embeddedDataDir.resolve("control.sock") : Path.of("jdmcache.sock");
    }

    /** The socket a client uses: the one given, else the first default that exists. */
    static Path find(Path given) {
        if (given != null) {
            return given;
        }
        Path embedded = defaultPath(Path.of("jdmcache-data"));
        return Files.exists(embedded) ? embedded : defaultPath(null);
    }
}
