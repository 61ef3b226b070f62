package io.jdmcache.pdata.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * The operating system's reason for a failed operation, in its own words ("Permission denied", "No such file or
 * directory"). The JDK's file exceptions often carry only the path as their message, which tells a user nothing.
 */
public final class OsErrors {
    private OsErrors() {
    }

    /** The reason alone, without the path. */
    public static String reason(IOException e) {
        if (e instanceof FileSystemException f) {
            if (f.getReason() != null && !f.getReason().isBlank()) {
                return f.getReason();
            }
            if (e instanceof AccessDeniedException) {
                return "Permission denied";
            }
            if (e instanceof NoSuchFileException) {
                return "No such file or directory";
            }
            if (e instanceof FileAlreadyExistsException) {
                return "File exists";
            }
            if (e instanceof NotDirectoryException) {
                return "Not a directory";
            }
            if (e instanceof DirectoryNotEmptyException) {
                return "Directory not empty";
            }
            return e.getClass().getSimpleName().replace("Exception", "");
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /**
     * One line naming the operation, the path and the reason: {@code cannot open cache device c.img for writing:
     * Permission denied}.
     */
    public static IOException describe(String operation, Object path, IOException e) {
        IOException d = new IOException("cannot " + operation + " " + path + ": " + reason(e), e);
        return d;
    }
}
