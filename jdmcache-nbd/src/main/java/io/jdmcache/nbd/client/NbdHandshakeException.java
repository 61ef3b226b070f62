package io.jdmcache.nbd.client;

import java.io.IOException;

/** The server was reached but the handshake failed: not an NBD server, no such export, a refused option. */
public class NbdHandshakeException extends IOException {
    public NbdHandshakeException(String message) {
        super(message);
    }
}
