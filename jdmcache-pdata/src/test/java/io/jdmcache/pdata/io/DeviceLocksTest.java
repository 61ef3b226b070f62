package io.jdmcache.pdata.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Device claims within this process and against another one, and file identity whatever the spelling. */
class DeviceLocksTest {
    private static Path file(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(1 << 16);
        }
        return p;
    }

    @Test
    void oneFileHasOneIdentityWhateverItsSpelling(@TempDir Path dir) throws IOException {
        Path a = file(dir, "a");
        Path b = file(dir, "b");
        Files.createDirectory(dir.resolve("sub"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), a);
        Path hard = Files.createLink(dir.resolve("hard"), a);
        FileIdentity id = FileIdentity.of(a);
        assertThat(FileIdentity.of(link)).isEqualTo(id);
        assertThat(FileIdentity.of(hard)).isEqualTo(id);
        assertThat(FileIdentity.of(Path.of(dir + "/./a"))).isEqualTo(id);
        assertThat(FileIdentity.of(dir.resolve("sub/../a"))).isEqualTo(id);
        assertThat(FileIdentity.of(b)).isNotEqualTo(id);
        assertThat(FileIdentity.of(dir.resolve("none"))).isNull();
        assertThat(id.blockDevice()).isFalse();
    }

    @Test
    void aSecondWriterInThisProcessIsRefusedUntilTheFirstCloses(@TempDir Path dir) throws IOException {
        Path a = file(dir, "a");
        Path link = Files.createSymbolicLink(dir.resolve("link"), a);
        try (FileBlockDevice first = FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "metadata a")) {
            assertThatThrownBy(() -> FileBlockDevice.open(link, false, DeviceLocks.Mode.EXCLUSIVE, "cache link"))
                    .isInstanceOf(DeviceBusyException.class)
                    .hasMessage("cache link is in use by this process, as metadata a");
            assertThatThrownBy(() -> FileBlockDevice.open(a, true, DeviceLocks.Mode.SHARED, "input a"))
                    .isInstanceOf(DeviceBusyException.class);
            assertThat(first.size()).isEqualTo(1 << 16);
        }
        // released with the close: both kinds of claim work again
        try (FileBlockDevice again = FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "a")) {
            assertThat(again.isReadOnly()).isFalse();
        }
    }

    @Test
    void readersShareButKeepWritersOut(@TempDir Path dir) throws IOException {
        Path a = file(dir, "a");
        try (FileBlockDevice r1 = FileBlockDevice.open(a, true, DeviceLocks.Mode.SHARED, "r1");
             FileBlockDevice r2 = FileBlockDevice.open(a, true, DeviceLocks.Mode.SHARED, "r2")) {
            assertThatThrownBy(() -> FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "writer"))
                    .isInstanceOf(DeviceBusyException.class).hasMessageContaining("writer is in use");
            r1.close();
            assertThatThrownBy(() -> FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "writer"))
                    .as("one reader is still there").isInstanceOf(DeviceBusyException.class);
        }
        FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "writer").close();
    }

    @Test
    void aFailedOpenLeavesNoClaimBehind(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> FileBlockDevice.open(missing, false, DeviceLocks.Mode.EXCLUSIVE, "m"))
                .hasMessageContaining("No such file or directory");
        Path a = file(dir, "a");
        Files.delete(a);
        file(dir, "a");
        FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "a").close();
        FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "a").close();
    }

    @Test
    void anotherProcessHoldingTheLockIsNamed(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3 holds the lock from another process");
        Path a = file(dir, "a");
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import fcntl,os,sys,time\n"
                        + "f=os.open(sys.argv[1],os.O_RDWR)\n"
                        + "fcntl.lockf(f,fcntl.LOCK_EX)\n"
                        + "print('locked',flush=True)\n"
                        + "sys.stdin.read()\n", a.toString()).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("locked");
            assertThatThrownBy(() -> FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "the origin a"))
                    .isInstanceOf(DeviceBusyException.class)
                    .hasMessageStartingWith("the origin a is in use by process " + p.pid() + " (")
                    .hasMessageContaining("python3");
            assertThatThrownBy(() -> FileBlockDevice.open(a, true, DeviceLocks.Mode.SHARED, "input a"))
                    .isInstanceOf(DeviceBusyException.class)
                    .hasMessageEndingWith(", which has it open for writing");
            // an unclaimed open (what tests and internal copies use) is not refused
            FileBlockDevice.open(a, true).close();
        } finally {
            p.getOutputStream().close();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
        }
        FileBlockDevice.open(a, false, DeviceLocks.Mode.EXCLUSIVE, "a").close();
    }

    @Test
    void osErrorsSayTheOperationAndTheSystemsReason(@TempDir Path dir) throws IOException {
        Path a = file(dir, "a");
        assertThat(OsErrors.reason(new java.nio.file.AccessDeniedException(a.toString())))
                .isEqualTo("Permission denied");
        assertThat(OsErrors.describe("open", a, new java.nio.file.NoSuchFileException(a.toString())).getMessage())
                .isEqualTo("cannot open " + a + ": No such file or directory");
        assertThatThrownBy(() -> FileBlockDevice.open(dir, false)).hasMessageContaining("is a directory");
    }
}
