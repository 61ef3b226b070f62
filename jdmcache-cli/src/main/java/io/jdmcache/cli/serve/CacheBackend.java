package io.jdmcache.cli.serve;

import io.jdmcache.engine.CacheDevice;
import io.jdmcache.nbd.NbdBackend;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The cache engine as an NBD export: the adapter between the two layers, which know nothing of each other.
 * One {@link CacheDevice} serves every connection, so a flush on one covers writes completed on all
 * (multi-conn is safe).
 */
public final class CacheBackend implements NbdBackend {
    private final CacheDevice cache;
    private final boolean readOnly;

    public CacheBackend(CacheDevice cache, boolean readOnly) {
        this.cache = cache;
        this.readOnly = readOnly;
    }

    public CacheDevice cache() {
        return cache;
    }

    @Override
    public long size() {
        return cache.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        cache.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        if (fua) {
            cache.writeFua(offset, src);
        } else {
            cache.write(offset, src);
        }
    }

    @Override
    public void flush() throws IOException {
        cache.flush();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        cache.discard(offset, length);
    }

    @Override
    public void writeZeroes(long offset, long length, boolean noHole) throws IOException {
        cache.writeZeroes(offset, length);
    }

    @Override
    public boolean isReadOnly() {
        return readOnly || cache.isReadOnly();
    }

    @Override
    public boolean canMultiConn() {
        return true;
    }

    @Override
    public void close() throws IOException {
        cache.close();
    }
}
