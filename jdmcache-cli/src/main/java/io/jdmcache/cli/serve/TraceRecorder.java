package io.jdmcache.cli.serve;

import io.jdmcache.sim.trace.JdmTraceFormat;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Records the requests of one volume in jdmcache's binary trace format ({@link JdmTraceFormat}), off the I/O
 * path: a request thread takes a slot of a bounded ring (one compare-and-set), fills it and publishes it; one
 * writer thread of its own drains the ring into a buffered file. The I/O path never touches the file and
 * never waits: when the ring is full (the writer fell behind, e.g. the disk the trace goes to is slower than
 * the requests come), the request is dropped from the trace and counted in {@link #dropped()}. When writing the
 * file fails, recording stops and {@link #failure()} says why (the requests go on).
 *
 * <p>Times are ns since the recorder started, read with {@link System#nanoTime()} in the same compare-and-set
 * loop that takes the slot, so that they never go back along the ring: a slot taken after another was taken
 * after that one's time was read.
 */
public final class TraceRecorder implements AutoCloseable {
    /** Records the ring holds (each 32 bytes: 1 MiB in all). */
    static final int DEFAULT_CAPACITY = 1 << 15;
    /**
     * How long the writer sleeps once it has drained the ring: long enough that its wake-ups do not steal a core
     * from a request thread at queue depth 1 (at 4 ms, 250 wake-ups a second cost 4K reads at QD1 12-15% of
     * their IOPS on a 2-vCPU machine; at 25 ms, 2%), short enough that the ring (32,768 records) does not fill
     * meanwhile below 1.3 million requests a second.
     */
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
    /** How often the writer flushes its buffer to the file while requests keep coming (and when idle). */
    private static final long FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    private static final VarHandle PUBLISHED = MethodHandles.arrayElementVarHandle(long[].class);

    private final Path file;
    private final int mask;
    private final long[] times;
    private final byte[] ops;
    private final long[] offsets;
    private final long[] lengths;
    /** Slot i is published for sequence s when published[i] == s + 1. */
    private final long[] published;
    /** The next sequence number to take. */
    private final AtomicLong head = new AtomicLong();
    /** The first sequence number the writer has not consumed (written by the writer only). */
    private volatile long tail;
    private final LongAdder dropped = new LongAdder();
    private volatile long written;
    private volatile boolean stopping;
    private volatile String failure;
    private final long t0;
    private final Thread writer;
    private final OutputStream out;

    private TraceRecorder(Path file, int capacity, OutputStream out, String name) throws IOException {
        if (Integer.bitCount(capacity) != 1 || capacity < 2) {
            throw new IllegalArgumentException("ring capacity must be a power of two, got " + capacity);
        }
        this.file = file;
        this.mask = capacity - 1;
        this.times = new long[capacity];
        this.ops = new byte[capacity];
        this.offsets = new long[capacity];
        this.lengths = new long[capacity];
        this.published = new long[capacity];
        this.out = out;
        Instant now = Instant.now();
        this.t0 = System.nanoTime();
        JdmTraceFormat.Writer w = new JdmTraceFormat.Writer(out, now.getEpochSecond() * 1_000_000_000L + now.getNano());
        out.flush(); // the header is there at once: a trace of no request is a valid trace
        this.writer = new Thread(() -> drain(w), "jdmcache-trace-" + name);
        writer.setDaemon(true);
    }

    /**
     * Starts recording to {@code file}, created or truncated.
     *
     * @param name what the writer thread is called after (the volume's name)
     */
    public static TraceRecorder start(Path file, String name) throws IOException {
        return start(file, name, DEFAULT_CAPACITY);
    }

    static TraceRecorder start(Path file, String name, int capacity) throws IOException {
        TraceRecorder r = open(file, name, capacity);
        r.writer.start();
        return r;
    }

    /** A recorder whose writer has not started yet (tests: the ring fills up); {@link #startWriter()} starts it. */
    static TraceRecorder open(Path file, String name, int capacity) throws IOException {
        OutputStream os;
        try {
            os = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new IOException("cannot write the trace " + file + ": " + reason(e), e);
        }
        OutputStream out = new Buffer(os, 1 << 20);
        TraceRecorder r;
        try {
            r = new TraceRecorder(file, capacity, out, name);
        } catch (IOException | RuntimeException e) {
            try {
                out.close();
            } catch (IOException ignored) {
                // the first failure is the one to tell
            }
            throw new IOException("cannot write the trace " + file + ": " + reason(e), e);
        }
        return r;
    }

    void startWriter() {
        writer.start();
    }

    public Path file() {
        return file;
    }

    /**
     * Records one request (called on the I/O path; never blocks).
     *
     * @param op one of {@link JdmTraceFormat}'s operation constants
     */
    public void record(int op, long offset, long length) {
        if (stopping) {
            return;
        }
        long seq;
        long now;
        int capacity = mask + 1;
        do {
            seq = head.get();
            if (seq - tail >= capacity) {
                dropped.increment();
                return;
            }
            now = System.nanoTime();
        } while (!head.compareAndSet(seq, seq + 1));
        int i = (int) seq & mask;
        times[i] = now - t0;
        ops[i] = (byte) op;
        offsets[i] = offset;
        lengths[i] = length;
        PUBLISHED.setRelease(published, i, seq + 1);
    }

    /** Requests left out of the trace because the ring was full. */
    public long dropped() {
        return dropped.sum();
    }

    /** Requests written to the file (some may still be in its buffer until the recorder stops). */
    public long written() {
        return written;
    }

    /** Why writing the file failed, or null. */
    public String failure() {
        return failure;
    }

    /** Whether the writer still writes (neither stopped nor failed). */
    public boolean recording() {
        return !stopping && failure == null;
    }

    /** One line for {@code status --human}. */
    public String describe() {
        long d = dropped();
        String f = failure;
        return "trace: " + (f != null ? "stopped, writing " + file + " failed: " + f
                : (stopping ? "stopping, " : "recording to ") + file) + "; " + written() + " requests written, "
                + d + " dropped" + (d > 0 ? " (the trace writer fell behind)" : "");
    }

    private void drain(JdmTraceFormat.Writer w) {
        long seq = tail;
        long last = 0;
        long lastFlush = System.nanoTime();
        boolean dirty = false;
        int spins = 0;
        try {
            while (true) {
                int i = (int) seq & mask;
                if ((long) PUBLISHED.getAcquire(published, i) == seq + 1) {
                    long t = Math.max(times[i], last); // never back in time, whatever the clock did
                    w.record(ops[i], t, offsets[i], lengths[i]);
                    last = t;
                    seq++;
                    if ((seq & 63) == 0) {
                        tail = seq; // in batches: the request threads read it, the writer need not bounce it
                        written = seq;
                    }
                    dirty = true;
                    spins = 0;
                    if ((seq & 1023) == 0 && System.nanoTime() - lastFlush > FLUSH_NANOS) {
                        out.flush();
                        lastFlush = System.nanoTime();
                        dirty = false;
                    }
                    continue;
                }
                if (seq < head.get()) { // taken, about to be published
                    if (++spins < 100) {
                        Thread.onSpinWait();
                    } else {
                        Thread.yield(); // its thread may have been preempted: let it run
                    }
                    continue;
                }
                tail = seq;
                written = seq;
                if (stopping) {
                    break;
                }
                if (dirty && System.nanoTime() - lastFlush > FLUSH_NANOS) {
                    out.flush();
                    lastFlush = System.nanoTime();
                    dirty = false;
                }
                LockSupport.parkNanos(IDLE_NANOS);
            }
            out.close();
        } catch (IOException | RuntimeException e) {
            failure = reason(e);
            stopping = true;
            try {
                out.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }

    /**
     * Stops recording: the requests recorded so far are written and the file closed ({@link #failure()} then
     * says whether that went well).
     */
    @Override
    public void close() {
        stopping = true;
        LockSupport.unpark(writer);
        try {
            writer.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A buffer without the locks of {@link java.io.BufferedOutputStream}: one thread writes (the writer). */
    private static final class Buffer extends OutputStream {
        private final OutputStream out;
        private final byte[] buf;
        private int n;

        Buffer(OutputStream out, int size) {
            this.out = out;
            this.buf = new byte[size];
        }

        @Override
        public void write(int b) throws IOException {
            if (n == buf.length) {
                flushBuffer();
            }
            buf[n++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > buf.length - n) {
                flushBuffer();
                if (len > buf.length) {
                    out.write(b, off, len);
                    return;
                }
            }
            System.arraycopy(b, off, buf, n, len);
            n += len;
        }

        private void flushBuffer() throws IOException {
            if (n > 0) {
                out.write(buf, 0, n);
                n = 0;
            }
        }

        @Override
        public void flush() throws IOException {
            flushBuffer();
            out.flush();
        }

        @Override
        public void close() throws IOException {
            try {
                flushBuffer();
            } finally {
                out.close();
            }
        }
    }

    private static String reason(Throwable e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null) {
            return fs.getReason();
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
