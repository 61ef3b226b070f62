package io.jdmcache.pdata.io;

import java.io.IOException;

/** A device another opener holds: its lock is taken, or it is mounted or held by the kernel. */
public final class DeviceBusyException extends IOException {
    private static final long serialVersionUID = 1L;
    private final String holder;

    public DeviceBusyException(String message, String holder) {
        super(message);
        this.holder = holder;
    }

    /** Who holds it, as far as can be known ("process 1234 (jdmcache serve ...)", "this process"), or null. */
    public String holder() {
        return holder;
    }
}
