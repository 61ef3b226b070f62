package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.DeviceBusyException;
import io.jdmcache.pdata.io.DeviceLocks;
import io.jdmcache.pdata.io.FileBlockDevice;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** Opening the metadata a tool reads, with the reference tools' messages for unusable paths. */
public final class InputFiles {
    public static final int BLOCK = 4096;

    private InputFiles() {
    }

    /** A path a tool cannot use, with the one-line message(s) the tool prints. */
    public static final class Unusable extends Exception {
        private static final long serialVersionUID = 1L;

        public Unusable(String message) {
            super(message, null, false, false);
        }
    }

    /** The reference tools' note for a device another opener holds. */
    public static final String LIVE_NOTE = "Note: you cannot run this tool with these options on live metadata.";

    /**
     * Opens {@code path} read-only after the reference's checks: it must exist, be a regular file or a block
     * device, be readable, and hold at least one 4 KiB block. It is claimed shared, so metadata a writer holds
     * (a running serve, a restore) is refused.
     *
     * @param tooSmall the tool's message for a file smaller than a block
     */
    public static FileBlockDevice openMetadata(Path path, String tooSmall) throws Unusable, IOException {
        return openMetadata(path, tooSmall, false, null);
    }

    /**
     * As {@link #openMetadata(Path, String)}; with {@code live}, metadata a writer holds is read anyway, and a
     * warning saying so goes to {@code warn}.
     */
    public static FileBlockDevice openMetadata(Path path, String tooSmall, boolean live, PrintStream warn)
            throws Unusable, IOException {
        checkKind(path);
        FileBlockDevice dev;
        try {
            dev = FileBlockDevice.open(path, true, DeviceLocks.Mode.SHARED, path.toString());
        } catch (AccessDeniedException e) {
            throw new Unusable("syscall 'open' failed: Permission denied\n" + LIVE_NOTE);
        } catch (DeviceBusyException e) {
            if (!live) {
                throw new Unusable(e.getMessage() + "\n" + LIVE_NOTE
                        + (warn == null ? "" : " Stop the writer first, or pass --live to read it as it is now."));
            }
            if (warn != null) {
                warn.println("warning: " + e.getMessage() + ": reading it live, as it is on disk now; a "
                        + "commit may change it meanwhile, so what follows may be inconsistent");
            }
            dev = FileBlockDevice.open(path, true);
        }
        if (dev.size() < BLOCK) {
            dev.close();
            throw new Unusable(tooSmall);
        }
        return dev;
    }

    /**
     * Opens the device a tool writes (restore's and repair's output, writeback's origin), claimed exclusively
     * for as long as it stays open: a device some other opener holds is refused with the reference's note, and
     * nothing is written to it.
     */
    public static FileBlockDevice openForWriting(Path path, String what) throws Unusable, IOException {
        try {
            return FileBlockDevice.open(path, false, DeviceLocks.Mode.EXCLUSIVE, what);
        } catch (DeviceBusyException e) {
            throw new Unusable(e.getMessage() + "\n" + LIVE_NOTE);
        }
    }

    /** The reference's "exists, and is a block device or a regular file" check. */
    public static void checkKind(Path path) throws Unusable, IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw new Unusable(path + ": No such file or directory");
        }
        if (!a.isRegularFile() && !isBlockDevice(path)) {
            throw new Unusable(path + ": Not a block device or regular file");
        }
    }

    /** True for block devices (not character devices, directories, fifos or sockets). */
    public static boolean isBlockDevice(Path path) {
        try {
            Object mode = Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            if (Files.isSymbolicLink(path)) {
                mode = Files.getAttribute(path, "unix:mode");
            }
            return (((Integer) mode) & 0170000) == 0060000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }
}
