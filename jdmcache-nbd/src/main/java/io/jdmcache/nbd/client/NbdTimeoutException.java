package io.jdmcache.nbd.client;

import java.io.IOException;

/** The server did not answer in time; the connection it was waited on is closed. */
public class NbdTimeoutException extends IOException {
    public NbdTimeoutException(String message) {
        super(message);
    }
}
