package io.jdmcache.pdata.io;

import java.io.IOException;

/**
 * A kind of device named by something other than a path (for example an {@code nbd://} URI), found through
 * {@link java.util.ServiceLoader}: a module on the class path that declares one in
 * {@code META-INF/services/io.jdmcache.pdata.io.DeviceProvider} makes its devices usable wherever a device is
 * named (a table line, {@code --origin}), without the modules that open devices depending on it.
 */
public interface DeviceProvider {
    /** Whether {@code name} is meant for this provider (its scheme), valid or not. */
    boolean accepts(String name);

    /**
     * Opens the device {@code name} (which {@link #accepts} said is this provider's).
     *
     * @throws IOException with one line naming the device and what went wrong
     */
    BlockDevice open(String name, boolean readOnly) throws IOException;
}
