package io.jdmcache.pdata.io;

import java.io.IOException;
import java.util.List;
import java.util.ServiceLoader;
import java.util.regex.Pattern;

/** Devices named by something other than a path: the {@link DeviceProvider}s on the class path. */
public final class Devices {
    private static final Pattern URI = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://.*");
    private static volatile List<DeviceProvider> providers;

    private Devices() {
    }

    private static List<DeviceProvider> providers() {
        List<DeviceProvider> p = providers;
        if (p == null) {
            p = ServiceLoader.load(DeviceProvider.class, Devices.class.getClassLoader()).stream()
                    .map(ServiceLoader.Provider::get).toList();
            providers = p;
        }
        return p;
    }

    /**
     * Whether {@code name} names a device rather than a file: a provider on the class path takes it, or it looks
     * like a URI ({@code scheme://...}).
     */
    public static boolean isNamed(String name) {
        for (DeviceProvider d : providers()) {
            if (d.accepts(name)) {
                return true;
            }
        }
        return URI.matcher(name).matches();
    }

    /** Opens a device {@link #isNamed} said is named; a URI that no provider takes is refused. */
    public static BlockDevice openNamed(String name, boolean readOnly) throws IOException {
        for (DeviceProvider d : providers()) {
            if (d.accepts(name)) {
                return d.open(name, readOnly);
            }
        }
        int colon = name.indexOf(':');
        throw new IOException("no support for " + (colon > 0 ? name.substring(0, colon) + ":// devices" : name)
                + " here");
    }
}
