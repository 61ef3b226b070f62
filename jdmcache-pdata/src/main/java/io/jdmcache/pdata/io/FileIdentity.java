package io.jdmcache.pdata.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What a path names, whatever its spelling: a regular file is its filesystem and inode, a block device its
 * device number (two device nodes or symbolic links for one disk are the same device). Symbolic links are
 * followed, so {@code a}, {@code ./a}, {@code dir/../a} and a link to {@code a} all have one identity.
 *
 * @param blockDevice whether this is a block device ({@code dev} is then its device number, {@code inode} 0)
 * @param dev         the containing filesystem's device number, or the block device's own
 * @param inode       the inode number of a file
 */
public record FileIdentity(boolean blockDevice, long dev, long inode) {
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    /** The identity of what {@code path} names; {@code null} when nothing is there. */
    public static FileIdentity of(Path path) throws IOException {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(path, "unix:mode,dev,ino,rdev");
        } catch (NoSuchFileException e) {
            return null;
        } catch (UnsupportedOperationException e) {
            throw new IOException(path + ": this platform cannot tell which file a path names", e);
        } catch (IOException e) {
            throw OsErrors.describe("look up", path, e);
        }
        int mode = ((Number) a.get("mode")).intValue();
        if ((mode & S_IFMT) == S_IFBLK) {
            return new FileIdentity(true, ((Number) a.get("rdev")).longValue(), 0);
        }
        return new FileIdentity(false, ((Number) a.get("dev")).longValue(), ((Number) a.get("ino")).longValue());
    }

    /** The major number of a Linux device number (glibc's encoding of {@code dev_t}). */
    public static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    /** The minor number of a Linux device number. */
    public static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }
}
