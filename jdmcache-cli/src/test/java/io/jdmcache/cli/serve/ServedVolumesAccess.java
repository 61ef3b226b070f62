package io.jdmcache.cli.serve;

import io.jdmcache.cli.config.ServeConfig.VolumeSpec;

/** Test access to {@link ServedVolumes}' package-private helpers from other packages. */
public final class ServedVolumesAccess {
    private ServedVolumesAccess() {
    }

    public static String differences(VolumeSpec was, VolumeSpec now) {
        return ServedVolumes.differences(was, now);
    }
}
