package io.jdmcache.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.FaultyDevice;
import io.jdmcache.policy.PolicyClock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Failures of background work nobody waits for: each one is counted (the counters behind the status and the
 * metrics), logged as a warning, and the last one is kept; none is swallowed.
 */
class BackgroundFailuresTest {
    static final int BLOCK = 64 * 1024;

    final MemoryBlockDevice md = new MemoryBlockDevice("md", 4 << 20);
    final FaultyDevice faultyMd = new FaultyDevice(md);
    final FaultyDevice cache = new FaultyDevice(new MemoryBlockDevice("cache", 16L * BLOCK));
    final FaultyDevice origin = new FaultyDevice(new MemoryBlockDevice("origin", 64L * BLOCK));
    final List<LogRecord> warnings = new ArrayList<>();
    final Logger log = Logger.getLogger("io.jdmcache.engine");
    final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (warnings) {
                if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(r);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void listen() {
        log.addHandler(handler);
    }

    @AfterEach
    void stopListening() {
        log.removeHandler(handler);
    }

    List<String> warningTexts() {
        synchronized (warnings) {
            return warnings.stream().map(r -> new java.util.logging.SimpleFormatter().formatMessage(r)).toList();
        }
    }

    CacheDevice open(String policy, EngineOptions options) throws IOException {
        CacheConfig c = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 1 writeback " + policy + " 0");
        return CacheDevice.open(c, faultyMd, cache, origin, options);
    }

    static ByteBuffer filled(int n, int value) {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            b.put((byte) value);
        }
        return b.flip();
    }

    @Test
    void aWholeBlockWriteWhosePromotionFailsGoesToTheOriginAndTheFailureIsCountedLoggedAndKept() throws IOException {
        try (CacheDevice d = open("smq", EngineOptions.manual(() -> 0L))) {
            cache.failAt(FaultyDevice.Kind.WRITE, 1, true);
            d.write(5L * BLOCK, filled(BLOCK, 9)); // would be promoted by the write: its data fails at the cache
            cache.heal();
            ByteBuffer got = ByteBuffer.allocate(BLOCK);
            d.read(5L * BLOCK, got);
            assertThat(got.flip()).as("the write still succeeded, on the origin").isEqualTo(filled(BLOCK, 9));
            assertThat(d.residency()).isZero();
            assertThat(d.counters().migrationErrors()).isEqualTo(1);
            assertThat(d.backgroundFailure()).hasMessageContaining("injected I/O error");
            assertThat(warningTexts()).singleElement().asString()
                    .contains("cache(faulty(origin))").contains("promote(oblock=5").contains("injected I/O error");
        }
    }

    @Test
    void aFailedWriteBackRunByTheCallerIsCountedAndLoggedOnce() throws IOException {
        try (CacheDevice d = open("smq", EngineOptions.manual(() -> 0L))) {
            d.write(0, filled(BLOCK, 1));
        }
        // idle at once, so a write-back that failed may be tried again straight away
        try (CacheDevice d = open("cleaner", new EngineOptions(1, 0, 1_000_000_000L, () -> 0L, false))) {
            origin.failAt(FaultyDevice.Kind.WRITE, 1, false);
            assertThatThrownBy(() -> d.runBackgroundWork(1)).hasMessageContaining("injected I/O error");
            assertThat(d.counters().migrationErrors()).isEqualTo(1);
            assertThat(d.backgroundFailure()).hasMessageContaining("injected I/O error");
            assertThat(warningTexts()).singleElement().asString().contains("writeback(oblock=0");
            assertThat(d.runBackgroundWork(1)).as("tried again, now it works").isEqualTo(1);
            assertThat(d.dirtyBlocks()).isZero();
            assertThat(d.counters().migrationErrors()).isEqualTo(1);
        }
    }

    @Test
    void eachWriteBackOfAFailedMergedRunCountsAndTheWorkersGoOn() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            try (CacheDevice d = open("smq", EngineOptions.manual(() -> 0L))) {
                d.write(0, filled(8 * BLOCK, 1)); // blocks 0..7, adjacent and dirty
                assertThat(d.dirtyBlocks()).isEqualTo(8);
            }
            // one worker, a budget of 8 blocks: the eight write-backs go as one merged origin write, which fails once
            origin.failAt(FaultyDevice.Kind.WRITE, 1, false);
            CacheConfig c = CacheConfig.parse("md cache origin " + BLOCK / 512 + " 1 writeback cleaner 2 "
                    + "migration_threshold " + 8 * BLOCK / 512);
            EngineOptions threads = new EngineOptions(1, 0, 20_000_000L, PolicyClock.SYSTEM, true);
            try (CacheDevice d = CacheDevice.open(c, faultyMd, cache, origin, threads)) {
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (d.dirtyBlocks() > 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertThat(d.dirtyBlocks()).as("written back after the failure").isZero();
                assertThat(d.counters().migrationErrors()).as("every write-back of the failed run counts")
                        .isEqualTo(8);
                assertThat(warningTexts()).singleElement().asString().contains("8 merged write-backs");
            }
        });
    }

    @Test
    void aFailedPeriodicCommitIsCountedLoggedAndKept() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            EngineOptions threads = new EngineOptions(1, Long.MAX_VALUE / 4, 10_000_000L, PolicyClock.SYSTEM, true);
            CacheDevice d = open("smq", threads);
            try {
                faultyMd.failAt(FaultyDevice.Kind.WRITE, 1, true);
                d.write(0, filled(BLOCK, 1)); // a new mapping: the timer's next commit has something to write
                long deadline = System.nanoTime() + 20_000_000_000L;
                while (d.counters().backgroundCommitErrors() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                assertThat(d.counters().backgroundCommitErrors()).isEqualTo(1);
                assertThat(d.backgroundFailure()).hasMessageContaining("injected I/O error");
                assertThat(warningTexts()).anyMatch(w -> w.contains("the periodic commit failed"));
            } finally {
                d.abandon();
            }
        });
    }
}
