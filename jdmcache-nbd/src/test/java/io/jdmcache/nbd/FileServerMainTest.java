package io.jdmcache.nbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileServerMainTest {
    @TempDir
    Path dir;

    @Test
    void listenAddresses() {
        InetSocketAddress a = FileServerMain.parseHostPort("127.0.0.1:10809");
        assertThat(a.getPort()).isEqualTo(10809);
        assertThat(a.getHostString()).isEqualTo("127.0.0.1");
        assertThat(FileServerMain.parseHostPort("[::1]:0").getAddress().isLoopbackAddress()).isTrue();
        assertThatThrownBy(() -> FileServerMain.parseHostPort("localhost"))
                .hasMessage("--listen wants HOST:PORT, got: localhost");
        assertThatThrownBy(() -> FileServerMain.parseHostPort("h:70000")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> FileServerMain.parseHostPort("h:x")).hasMessageContaining("bad port");
    }

    @Test
    void userErrorsNameWhatIsWrong() {
        assertThatThrownBy(() -> FileServerMain.run(new String[0])).hasMessage("no file to export given");
        assertThatThrownBy(() -> FileServerMain.run(new String[] {"a", "--bogus"}))
                .hasMessage("unexpected argument: --bogus");
        assertThatThrownBy(() -> FileServerMain.run(new String[] {"a", "--listen"}))
                .hasMessage("--listen needs a value");
        assertThatThrownBy(() -> FileServerMain.run(new String[] {"a", "--busy-poll", "x"}))
                .hasMessage("--busy-poll: not a number: x");
        assertThatThrownBy(() -> FileServerMain.run(new String[] {"a", "--busy-poll", "-1"}))
                .hasMessage("busy-poll time must be 0..1000000 microseconds: -1");
        Path missing = dir.resolve("missing.img");
        assertThatThrownBy(() -> FileServerMain.run(new String[] {missing.toString()}))
                .isInstanceOf(IOException.class).hasMessageContaining("missing.img");
    }

    @Test
    void fileBackendExportsTheFileSize() throws IOException {
        Path f = dir.resolve("d.img");
        Files.write(f, new byte[12345]);
        try (FileBackend b = FileBackend.open(f, true)) {
            assertThat(b.size()).isEqualTo(12345);
            assertThat(b.isReadOnly()).isTrue();
            assertThat(b.canMultiConn()).isTrue();
            assertThat(b.canFastZero()).isFalse();
            assertThat(b.blockStatus(0, 12345)).containsExactly(new Extent(12345, 0));
        }
        assertThatThrownBy(() -> new Extent(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
