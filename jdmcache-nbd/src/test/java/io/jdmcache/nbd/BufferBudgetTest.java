package io.jdmcache.nbd;

import static io.jdmcache.nbd.NbdTestClient.loopback;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Running out of buffer memory is an ordinary condition: the pool's budget refuses with a checked exception,
 * the request that needed the buffer gets ENOMEM, and the connection goes on (no OutOfMemoryError is caught).
 */
class BufferBudgetTest {
    @TempDir
    Path dir;

    @Test
    void thePoolHandsOutNoMoreThanItsBudget() throws IOException {
        BufferPool pool = new BufferPool(64 << 10);
        ByteBuffer a = pool.get(32 << 10);
        ByteBuffer b = pool.get(20 << 10); // a 32 KiB class
        assertThat(pool.handedOut()).isEqualTo(64 << 10);
        assertThatThrownBy(() -> pool.get(1)).isInstanceOf(BufferPool.NoBufferMemoryException.class)
                .hasMessage("out of buffer memory: 0 MiB of 0 MiB in use");
        assertThat(pool.handedOut()).as("a refusal takes nothing").isEqualTo(64 << 10);
        pool.release(a);
        assertThat(pool.get(4096).capacity()).isEqualTo(4096);
        pool.release(b);
        assertThat(pool.handedOut()).isEqualTo(4096);
        assertThat(BufferPool.defaultBudget()).isGreaterThanOrEqualTo(64L << 20);
    }

    @Test
    void aWriteOrReadWithNoBufferLeftGetsEnomemAndTheConnectionGoesOn() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            Path file = dir.resolve("disk.img");
            Files.write(file, new byte[4 << 20]);
            NbdServer server = new NbdServer(NbdServer.Options.defaults(), new BufferPool(256 << 10));
            server.addExport("", "", FileBackend.open(file, false));
            try (NbdTestClient c = NbdTestClient.ready(server.start(loopback(0)), false, false)) {
                byte[] big = new byte[1 << 20];
                Arrays.fill(big, (byte) 7);
                assertThat(c.write(0, big, 0).error()).as("a 1 MiB payload with 256 KiB of buffers")
                        .isEqualTo(NbdErrorException.ENOMEM);
                assertThat(c.read(0, 1 << 20).error()).isEqualTo(NbdErrorException.ENOMEM);
                byte[] small = new byte[4096];
                Arrays.fill(small, (byte) 9);
                assertThat(c.write(8192, small, 0).error()).as("the stream stayed in step").isZero();
                NbdTestClient.Reply r = c.read(8192, 4096);
                assertThat(r.error()).isZero();
                assertThat(r.data()).isEqualTo(small);
                assertThat(c.read(0, 4096).data()).as("the refused write wrote nothing").isEqualTo(new byte[4096]);
            } finally {
                server.stop();
            }
        });
    }
}
