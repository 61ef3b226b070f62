package io.jdmcache.remote;

import io.jdmcache.nbd.client.NbdUri;
import io.jdmcache.pdata.io.BlockDevice;
import io.jdmcache.pdata.io.DeviceProvider;
import java.io.IOException;

/** Opens {@code nbd://} and {@code nbd+unix://} names as {@link NbdOriginDevice}s, with {@link RemoteOptions#forName}. */
public final class NbdDeviceProvider implements DeviceProvider {
    @Override
    public boolean accepts(String name) {
        return NbdUri.looksLikeUri(name);
    }

    @Override
    public BlockDevice open(String name, boolean readOnly) throws IOException {
        try {
            return NbdOriginDevice.open(name, RemoteOptions.forName(name));
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
