package io.jdmcache.pdata.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Exclusive and shared claims on the devices a process opens, so that two writers (two {@code serve}s, or a
 * {@code serve} and {@code restore}) can never share a metadata, cache or origin device.
 *
 * <p>Between processes the claim is a POSIX record lock ({@link FileChannel#tryLock}) on the whole file or device
 * node, held for as long as the device is open: a writer takes it exclusive, a reader shared. Within this process
 * a table keyed by {@link FileIdentity} comes first, because POSIX locks do not conflict within one process and are
 * dropped when any descriptor of the file is closed: a second claim is refused before a channel is even opened.
 * A block device is also refused while the kernel uses it (mounted, or held by device-mapper or md), which is
 * what the kernel's own {@code O_EXCL} open would catch.
 */
public final class DeviceLocks {
    /** How a device is claimed. */
    public enum Mode {
        /** No claim (internal use and tests). */
        NONE,
        /** Readers only: any number of them, no writer. */
        SHARED,
        /** One writer, no reader. */
        EXCLUSIVE
    }

    private static final Map<FileIdentity, Held> HELD = new HashMap<>();

    private record Held(Mode mode, int count, String what) {
    }

    private DeviceLocks() {
    }

    /** A claim taken by {@link #claim}; {@link #release()} it when the device is closed. */
    public static final class Claim {
        private final FileIdentity id;
        private final FileLock lock;
        private boolean released;

        private Claim(FileIdentity id, FileLock lock) {
            this.id = id;
            this.lock = lock;
        }

        /** Drops the claim (the OS lock goes with the channel when it is closed). */
        public void release() {
            synchronized (HELD) {
                if (released) {
                    return;
                }
                released = true;
                Held h = HELD.get(id);
                if (h != null) {
                    if (h.count() <= 1) {
                        HELD.remove(id);
                    } else {
                        HELD.put(id, new Held(h.mode(), h.count() - 1, h.what()));
                    }
                }
            }
            try {
                if (lock != null && lock.isValid()) {
                    lock.release();
                }
            } catch (IOException ignored) {
                // the channel is being closed: the lock goes with it
            }
        }
    }

    /**
     * Claims in this process the device at {@code path} before it is opened: refused when this process already
     * holds it in a conflicting way, or when it is a block device the kernel uses.
     *
     * @param what how the caller names it ("metadata device m.img")
     */
    public static FileIdentity reserve(Path path, Mode mode, String what) throws IOException {
        if (mode == Mode.NONE) {
            return null;
        }
        FileIdentity id = FileIdentity.of(path);
        if (id == null) {
            return null; // the open reports it
        }
        synchronized (HELD) {
            Held h = HELD.get(id);
            if (h != null && (mode == Mode.EXCLUSIVE || h.mode() == Mode.EXCLUSIVE)) {
                throw new DeviceBusyException(what + " is in use by this process, as " + h.what(), "this process");
            }
            if (id.blockDevice() && mode == Mode.EXCLUSIVE) {
                String user = kernelUser(id.dev());
                if (user != null) {
                    throw new DeviceBusyException(what + " is in use: " + user, user);
                }
            }
            HELD.put(id, h == null ? new Held(mode, 1, what) : new Held(mode, h.count() + 1, h.what()));
        }
        return id;
    }

    /** Undoes {@link #reserve} when the open fails before {@link #lock}. */
    public static void unreserve(FileIdentity id) {
        if (id == null) {
            return;
        }
        new Claim(id, null).release();
    }

    /**
     * Takes the OS lock for a device reserved by {@link #reserve} and opened as {@code channel}; on refusal the
     * exception names the holder where it can be found, and the caller drops the reservation.
     */
    public static Claim lock(FileIdentity id, FileChannel channel, Path path, Mode mode, String what)
            throws IOException {
        if (mode == Mode.NONE || id == null) {
            return new Claim(id, null);
        }
        synchronized (HELD) {
            Held h = HELD.get(id);
            if (h != null && h.count() > 1) {
                // another reader of this process holds the OS lock already (a JVM takes one per file); if it
                // closes first, other processes are no longer kept out: acceptable for readers
                return new Claim(id, null);
            }
        }
        FileLock lock;
        try {
            lock = channel.tryLock(0, Long.MAX_VALUE, mode == Mode.SHARED);
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            throw OsErrors.describe("lock", path, e);
        }
        if (lock == null) {
            String holder = lockHolder(path);
            throw new DeviceBusyException(what + " is in use by " + (holder == null ? "another process" : holder)
                    + (mode == Mode.SHARED ? ", which has it open for writing" : ""), holder);
        }
        return new Claim(id, lock);
    }

    /** The process holding a POSIX lock on {@code path}, from {@code /proc/locks}; null if it cannot be told. */
    static String lockHolder(Path path) {
        try {
            Map<String, Object> a = Files.readAttributes(path, "unix:dev,ino");
            long dev = ((Number) a.get("dev")).longValue();
            long ino = ((Number) a.get("ino")).longValue();
            String key = String.format(Locale.ROOT, "%02x:%02x:%d", FileIdentity.major(dev), FileIdentity.minor(dev),
                    ino);
            for (String line : Files.readAllLines(Path.of("/proc/locks"), StandardCharsets.US_ASCII)) {
                String[] f = line.trim().split("\\s+");
                // "1: POSIX  ADVISORY  WRITE 1234 fd:01:5678 0 EOF" (a "->" marks a waiter)
                if (f.length >= 6 && !f[1].equals("->") && f[1].equals("POSIX") && f[5].equals(key)) {
                    return describeProcess(Long.parseLong(f[4]));
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    private static String describeProcess(long pid) {
        if (pid == ProcessHandle.current().pid()) {
            return "this process (" + pid + ")";
        }
        String cmd = ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).orElse(null);
        if (cmd == null) {
            try {
                cmd = new String(Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline")), StandardCharsets.UTF_8)
                        .replace('\0', ' ').trim();
            } catch (IOException e) {
                cmd = "";
            }
        }
        if (cmd.length() > 120) {
            cmd = cmd.substring(0, 117) + "...";
        }
        return "process " + pid + (cmd.isEmpty() ? "" : " (" + cmd + ")");
    }

    /** Who in the kernel uses a block device: where it is mounted, or the device stacked on it; null if nobody. */
    static String kernelUser(long rdev) {
        long major = FileIdentity.major(rdev);
        long minor = FileIdentity.minor(rdev);
        String mm = major + ":" + minor;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 4 && f[2].equals(mm)) {
                    return "mounted at " + f[4];
                }
            }
        } catch (IOException | RuntimeException e) {
            // no /proc: nothing more to tell
        }
        Path holders = Path.of("/sys/dev/block/" + mm + "/holders");
        if (Files.isDirectory(holders)) {
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(holders)) {
                for (Path h : ds) {
                    return "held by the kernel's " + h.getFileName() + " (device-mapper or md)";
                }
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }
}
