package io.jdmcache.nbd;

import java.io.IOException;

/**
 * A backend failure that maps to a specific NBD error value (the wire values of the protocol, not the host
 * errno): for example {@link #ENOSPC} or {@link #ENOTSUP}. Any other {@link IOException} is answered EIO.
 */
public class NbdErrorException extends IOException {
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    private final int error;

    public NbdErrorException(int error, String message) {
        super(message);
        this.error = error;
    }

    /** The NBD error value sent to the client. */
    public int error() {
        return error;
    }
}
