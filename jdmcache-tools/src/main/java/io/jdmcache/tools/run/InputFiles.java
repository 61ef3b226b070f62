package io.jdmcache.tools.run;

import io.jdmcache.pdata.io.FileBlockDevice;

import java.io.IOException;
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

    /**
     * Opens {@code path} read-only after the reference's checks: it must exist, be a regular file or a block
     * device, be readable, and hold at least one 4 KiB block.
     *
     * @param tooSmall the tool's message for a file smaller than a block
     */
    public static FileBlockDevice openMetadata(Path path, String tooSmall) throws Unusable, IOException {
        checkKind(path);
        FileBlockDevice dev;
        try {
            dev = FileBlockDevice.open(path, true);
        } catch (AccessDeniedException e) {
            throw new Unusable("syscall 'open' failed: Permission denied\n"
                    + "Note: you cannot run this tool with these options on live metadata.");
        }
        if (dev.size() < BLOCK) {
            dev.close();
            throw new Unusable(tooSmall);
        }
        return dev;
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
