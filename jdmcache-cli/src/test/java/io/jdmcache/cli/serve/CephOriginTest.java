package io.jdmcache.cli.serve;

import static io.jdmcache.cli.serve.RemoteOriginFailureTest.dirty;
import static io.jdmcache.cli.serve.ServeTest.jdmcache;
import static io.jdmcache.cli.serve.ServeTest.need;
import static io.jdmcache.cli.serve.ServeTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jdmcache.cli.serve.ServeTest.Run;
import io.jdmcache.nbd.NbdErrorException;
import io.jdmcache.nbd.client.NbdClient;
import io.jdmcache.nbd.client.ServerProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 item 5: a Ceph RBD image as the origin. A single-node Ceph (bench/ceph-cluster.sh: one monitor, one
 * bluestore OSD on a sparse file, auth none, pool size 1) holds an RBD image; qemu-nbd exports it through its
 * rbd driver; {@code jdmcache serve} (writeback) is in front of that. Writers keep writing and reading back
 * patterns that name their 4 KiB slot and the write's sequence number while the OSD is killed (qemu-nbd then
 * blocks: nothing fails, nothing answers) and started again: jdmcache's {@code --origin-timeout} must hold, so
 * reads of data only on the origin fail with EIO in bounded time while every request to a cached block keeps
 * succeeding; after the write-back the image, read with {@code rbd export} (librbd, not through qemu-nbd),
 * holds every acknowledged write.
 */
class CephOriginTest {
    static final int SLOT = 4096;
    static final int BLOCK = 64 << 10; // serve's default cache block, 128 sectors
    static final long IMAGE = 256L << 20;
    static final int HOT_BLOCKS = 128; // 8 MiB, written whole before the load: cached
    static final int LOAD_BLOCKS = 512; // 32 MiB the writers use
    // 16 MiB written on the image before jdmcache starts; the writers read in the first half, the second is read
    // only while the OSD is down, and after
    static final long COLD = 128L << 20;
    static final long COLD_LEN = 16L << 20;
    static final int WRITERS = 4;
    static final int TIMEOUT_S = 2;

    @TempDir
    Path dir;

    Path sparse(String name, long bytes) throws Exception {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.setLength(bytes);
        }
        return p;
    }

    /** A slot's content for write {@code seq}: its slot number, the sequence number, then a mix of both. */
    static void pattern(ByteBuffer b, int at, long slot, long seq) {
        b.putLong(at, slot);
        b.putLong(at + 8, seq);
        long x = slot * 0x9E3779B97F4A7C15L ^ seq * 0xC2B2AE3D27D4EB4FL;
        for (int i = 16; i < SLOT; i += 8) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            b.putLong(at + i, x);
        }
    }

    /** The sequence number a slot holds (0 = never written), or -1 if its content is no write's. */
    static long seqOf(ByteBuffer b, int at, long slot) {
        long seq = b.getLong(at + 8);
        if (seq == 0) {
            for (int i = 0; i < SLOT; i += 8) {
                if (b.getLong(at + i) != 0) {
                    return -1;
                }
            }
            return 0;
        }
        ByteBuffer want = ByteBuffer.allocate(SLOT);
        pattern(want, 0, slot, seq);
        return b.slice(at, SLOT).equals(want) ? seq : -1;
    }

    /** What a slot may hold: its last acknowledged write, or a write that failed after it. */
    static final class Slots {
        final AtomicLongArray lastOk = new AtomicLongArray(LOAD_BLOCKS * (BLOCK / SLOT));
        final List<List<Long>> failedSince = new ArrayList<>();

        Slots() {
            for (int i = 0; i < lastOk.length(); i++) {
                failedSince.add(Collections.synchronizedList(new ArrayList<>()));
            }
        }

        void ok(int slot, long seq) {
            lastOk.set(slot, seq);
            failedSince.get(slot).clear();
        }

        void failed(int slot, long seq) {
            failedSince.get(slot).add(seq);
        }

        boolean allowed(int slot, long seq) {
            return seq == lastOk.get(slot) || failedSince.get(slot).contains(seq);
        }
    }

    record Op(long startNanos, long endNanos, boolean hot, String what, String error) {
    }

    final ConcurrentLinkedQueue<Op> ops = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    final AtomicLong seqs = new AtomicLong();
    volatile boolean stop;

    void writer(String uri, int id, Slots slots) {
        SplittableRandom r = new SplittableRandom(17 + id);
        ByteBuffer buf = ByteBuffer.allocate(BLOCK);
        try (NbdClient c = NbdClient.connect(uri, NbdClient.Options.defaults().withRequestTimeoutMillis(120_000))) {
            while (!stop) {
                boolean hot = r.nextInt(10) < 7;
                int block = hot ? r.nextInt(HOT_BLOCKS / WRITERS) * WRITERS + id
                        : HOT_BLOCKS + r.nextInt((LOAD_BLOCKS - HOT_BLOCKS) / WRITERS) * WRITERS + id;
                int kind = r.nextInt(20);
                long t0 = System.nanoTime();
                String what;
                String error = null;
                if (kind < 12) { // a write: the whole block or one slot
                    boolean whole = kind < 6;
                    int first = block * (BLOCK / SLOT) + (whole ? 0 : r.nextInt(BLOCK / SLOT));
                    int n = whole ? BLOCK / SLOT : 1;
                    long seq = seqs.incrementAndGet();
                    buf.clear().limit(n * SLOT);
                    for (int i = 0; i < n; i++) {
                        pattern(buf, i * SLOT, first + i, seq);
                    }
                    what = (whole ? "write 64k" : "write 4k") + " at slot " + first;
                    try {
                        c.write((long) first * SLOT, buf, false);
                        for (int i = 0; i < n; i++) {
                            slots.ok(first + i, seq);
                        }
                    } catch (IOException e) {
                        error = e.toString();
                        for (int i = 0; i < n; i++) {
                            slots.failed(first + i, seq);
                        }
                    }
                } else if (kind < 18) { // read one slot back
                    int slot = block * (BLOCK / SLOT) + r.nextInt(BLOCK / SLOT);
                    what = "read 4k at slot " + slot;
                    buf.clear().limit(SLOT);
                    try {
                        c.read((long) slot * SLOT, buf);
                        long got = seqOf(buf, 0, slot);
                        if (!slots.allowed(slot, got)) {
                            violations.add("slot " + slot + " read as write " + got + ", last acknowledged "
                                    + slots.lastOk.get(slot) + ", failed since " + slots.failedSince.get(slot));
                        }
                    } catch (IOException e) {
                        error = e.toString();
                    }
                } else if (kind == 18) { // a read of the cold range: a miss unless smq promoted it by now
                    hot = false;
                    long at = COLD + (long) r.nextInt((int) (COLD_LEN / 2 / SLOT)) * SLOT; // the first half
                    what = "read 4k of the cold range at " + at;
                    buf.clear().limit(SLOT);
                    try {
                        c.read(at, buf);
                        for (int i = 0; i < SLOT; i++) {
                            if (buf.get(i) != 0x5a) {
                                violations.add("the cold range read wrong at " + (at + i));
                                break;
                            }
                        }
                    } catch (IOException e) {
                        error = e.toString();
                    }
                } else {
                    what = "flush";
                    hot = true; // a flush needs only the local cache in writeback
                    try {
                        c.flush();
                    } catch (IOException e) {
                        error = e.toString();
                    }
                }
                ops.add(new Op(t0, System.nanoTime(), hot, what, error));
            }
        } catch (IOException e) {
            violations.add("writer " + id + ": " + e);
        }
    }

    static Run ceph(Path cephDir, String cmd) throws Exception {
        Run r = run(cephDir.getParent(), "bash", Path.of("..", "bench", "ceph-cluster.sh").toAbsolutePath().normalize()
                .toString(), cmd, cephDir.toString(), Long.toString(IMAGE >> 20));
        assertThat(r.rc()).as("ceph-cluster.sh " + cmd + ": " + r.out()).isZero();
        return r;
    }

    @Test
    void anRbdImageBehindQemuNbdKeepsEveryAcknowledgedWriteAcrossAnOsdCrash() throws Exception {
        need("ceph-mon", "ceph-osd", "ceph", "rbd", "monmaptool", "qemu-nbd", "qemu-io");
        assumeTrue(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/qemu/block-rbd.so")),
                "qemu's rbd driver is not installed (.ci/run installs qemu-block-extra)");
        Path cephDir = dir.resolve("ceph");
        Files.createDirectories(cephDir);
        ServerProcess q = null;
        try {
            String conf = ceph(cephDir, "start").out().trim();
            assertThat(conf).endsWith("ceph.conf");
            q = ServerProcess.qemuNbd(dir, "rbd", Path.of("rbd:rbd/img:conf=" + conf), "-e", "64");
            Run cold = run(dir, "qemu-io", "-f", "raw", "-c", "write -P 0x5a " + COLD + " " + COLD_LEN, "-c",
                    "flush", q.uri());
            assertThat(cold.out()).as(cold.out()).contains("wrote").doesNotContain("error");
            Path control = dir.resolve("ctl.sock");
            try (io.jdmcache.cli.serve.ServerProcess s = io.jdmcache.cli.serve.ServerProcess.start(dir, "--origin",
                    q.uri(), "--cache", sparse("cache.img", 64 << 20).toString(), "--metadata",
                    sparse("md.img", 8 << 20).toString(), "--origin-timeout", Integer.toString(TIMEOUT_S),
                    "--origin-retry", "0.5", "--control", control.toString())) {
                Slots slots = new Slots();
                try (NbdClient c = NbdClient.connect(s.uri, NbdClient.Options.defaults())) {
                    assertThat(c.size()).isEqualTo(IMAGE);
                    ByteBuffer b = ByteBuffer.allocate(BLOCK);
                    for (int blk = 0; blk < HOT_BLOCKS; blk++) {
                        long seq = seqs.incrementAndGet();
                        for (int i = 0; i < BLOCK / SLOT; i++) {
                            pattern(b, i * SLOT, (long) blk * (BLOCK / SLOT) + i, seq);
                        }
                        c.write((long) blk * BLOCK, b.clear(), false);
                        for (int i = 0; i < BLOCK / SLOT; i++) {
                            slots.ok(blk * (BLOCK / SLOT) + i, seq);
                        }
                    }
                    c.flush();
                }
                String st = jdmcache("status", "--control", control.toString()).out();
                long used = Long.parseLong(st.trim().split(" ")[6].split("/")[0]);
                assertThat(used).as("the hot set is cached: " + st).isGreaterThanOrEqualTo(HOT_BLOCKS);

                List<Thread> writers = new ArrayList<>();
                for (int i = 0; i < WRITERS; i++) {
                    int id = i;
                    Thread t = new Thread(() -> writer(s.uri, id, slots), "writer-" + i);
                    t.start();
                    writers.add(t);
                }
                Thread.sleep(5_000);

                ceph(cephDir, "stop-osd");
                long down = System.nanoTime();
                Thread.sleep(1_000);
                long r0 = System.nanoTime();
                String coldError = null;
                try (NbdClient c = NbdClient.connect(s.uri, NbdClient.Options.defaults()
                        .withRequestTimeoutMillis(120_000))) {
                    c.read(COLD + (13L << 20), ByteBuffer.allocate(SLOT));
                } catch (NbdErrorException e) {
                    coldError = e.error() == NbdErrorException.EIO ? "EIO" : e.toString();
                }
                double coldSeconds = (System.nanoTime() - r0) / 1e9;
                assertThat(coldError).as("a read of data only on the stalled origin").isEqualTo("EIO");
                // at most the timeout (sooner when the origin is already known to be failing), plus slack
                assertThat(coldSeconds).as("the EIO comes within --origin-timeout").isLessThan(TIMEOUT_S * 5.0);
                Thread.sleep(Math.max(0, 8_000 - (System.nanoTime() - down) / 1_000_000));
                long restart = System.nanoTime();
                ceph(cephDir, "start-osd");
                long up = System.nanoTime();
                Thread.sleep(5_000);
                stop = true;
                for (Thread t : writers) {
                    t.join(300_000);
                    assertThat(t.isAlive()).as(t.getName() + " ended").isFalse();
                }
                assertThat(violations).as("what the writers read back").isEmpty();

                long hotDuring = 0;
                long failedHot = 0;
                long maxHotMillis = 0;
                String slowest = "";
                long failedOther = 0;
                long failedOutsideOutage = 0;
                long lateMargin = 20_000_000_000L;
                for (Op op : ops) {
                    boolean during = op.endNanos > down && op.startNanos < restart;
                    if (op.hot) {
                        if (op.error != null) {
                            failedHot++;
                            violations.add("request to a cached block failed: " + op.what + ": " + op.error);
                        }
                        if (during) {
                            hotDuring++;
                            if ((op.endNanos - op.startNanos) / 1_000_000 > maxHotMillis) {
                                maxHotMillis = (op.endNanos - op.startNanos) / 1_000_000;
                                slowest = op.what;
                            }
                        }
                    } else if (op.error != null) {
                        failedOther++;
                        if (!op.error.contains("EIO")) {
                            violations.add("a failure other than EIO: " + op.what + ": " + op.error);
                        }
                        if (op.endNanos < down || op.startNanos > up + lateMargin) {
                            failedOutsideOutage++;
                            violations.add("failed while the OSD was up: " + op.what + ": " + op.error);
                        }
                    }
                }
                System.out.printf("CephOriginTest: %d requests, %d to cached blocks while the OSD was down (slowest"
                        + " %d ms, %s), %d other requests (the load area's other blocks, the cold range) failed (EIO), OSD"
                        + " restart %.1f s, cold read EIO after %.1f s%n",
                        ops.size(), hotDuring, maxHotMillis, slowest, failedOther, (up - restart) / 1e9, coldSeconds);
                assertThat(violations).isEmpty();
                assertThat(failedHot).isZero();
                // a hit waits at most for a write-back of its own block, which waits at most --origin-timeout
                assertThat(maxHotMillis).as("slowest request to a cached block while the OSD was down")
                        .isLessThan(TIMEOUT_S * 5_000L);
                assertThat(failedOutsideOutage).isZero();
                assertThat(hotDuring).as("requests to cached blocks served while the OSD was down")
                        .isGreaterThan(20);

                // every dirty block written back, then the whole load area read through jdmcache
                for (int i = 0; i < 1200 && dirty(control) > 0; i++) {
                    Thread.sleep(100);
                }
                assertThat(dirty(control)).as("written back once the OSD is back").isZero();
                ByteBuffer seen = ByteBuffer.allocate(LOAD_BLOCKS * BLOCK);
                try (NbdClient c = NbdClient.connect(s.uri, NbdClient.Options.defaults())) {
                    c.read(0, seen.duplicate());
                    ByteBuffer coldNow = ByteBuffer.allocate(SLOT);
                    c.read(COLD + (13L << 20), coldNow);
                    assertThat(coldNow.array()).containsOnly((byte) 0x5a);
                }
                assertThat(s.terminate()).isZero();
                assertThat(s.errors()).contains(q.uri());

                q.close();
                q = null;
                Path exported = dir.resolve("exported.img");
                Run ex = run(dir, "rbd", "-c", conf, "export", "rbd/img", exported.toString());
                assertThat(ex.rc()).as(ex.out()).isZero();
                ByteBuffer image = ByteBuffer.allocate(LOAD_BLOCKS * BLOCK);
                try (FileChannel f = FileChannel.open(exported, StandardOpenOption.READ)) {
                    assertThat(f.size()).isEqualTo(IMAGE);
                    while (image.hasRemaining()) {
                        f.read(image, image.position());
                    }
                    ByteBuffer coldOnImage = ByteBuffer.allocate((int) COLD_LEN);
                    f.read(coldOnImage, COLD);
                    for (int i = 0; i < COLD_LEN; i++) {
                        if (coldOnImage.get(i) != 0x5a) {
                            throw new AssertionError("the cold range changed at " + (COLD + i));
                        }
                    }
                }
                int exact = 0;
                int written = 0;
                for (int slot = 0; slot < slots.lastOk.length(); slot++) {
                    long got = seqOf(image, slot * SLOT, slot);
                    assertThat(slots.allowed(slot, got)).as("slot %d on the image holds write %d; last acknowledged"
                            + " %d, failed since %s", slot, got, slots.lastOk.get(slot),
                            slots.failedSince.get(slot)).isTrue();
                    if (slots.lastOk.get(slot) > 0) {
                        written++;
                        if (slots.failedSince.get(slot).isEmpty()) {
                            exact++;
                        }
                    }
                }
                assertThat(image.rewind()).as("the image holds what jdmcache served").isEqualTo(seen.rewind());
                System.out.printf("CephOriginTest: %d slots written, %d of them with no failed write after the last"
                        + " acknowledged one, every one on the image%n", written, exact);
                assertThat(exact).isGreaterThan(HOT_BLOCKS * (BLOCK / SLOT) / 2);
            }
        } finally {
            if (q != null) {
                q.close();
            }
            run(dir, "bash", Path.of("..", "bench", "ceph-cluster.sh").toAbsolutePath().normalize().toString(),
                    "stop", cephDir.toString());
        }
    }
}
