package io.jdmcache.pdata.testing;

import java.io.IOException;

/** Thrown by a {@link CrashingDevice} for every I/O after its power was cut. */
public final class PowerLossException extends IOException {
    private static final long serialVersionUID = 1L;

    public PowerLossException(String message) {
        super(message);
    }
}
