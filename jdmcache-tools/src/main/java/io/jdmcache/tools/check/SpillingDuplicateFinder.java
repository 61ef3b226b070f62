package io.jdmcache.tools.check;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Finds values seen more than once among any number of them in bounded memory: values are gathered in a
 * buffer of {@link #CHUNK} longs; a full buffer is sorted and written to a temporary file as a run on a
 * second thread while the caller fills the other buffer; at the end the runs are merged and equal neighbours
 * reported. Memory: two buffers (2 MiB) and read buffers of 2 MiB in all during the merge. The temporary
 * file (8 bytes a value) is removed by {@link #close}. What restore uses for origin blocks when it streams.
 */
public final class SpillingDuplicateFinder implements Closeable {
    /** Values per run. */
    static final int CHUNK = 1 << 17;
    /** At most this many duplicated values are returned (the caller reports the first and the count). */
    static final int MAX_REPORTED = 1 << 16;

    private final int chunk;
    private long[] filling;
    private long[] spare;
    private int n;
    private Path file;
    private FileChannel out;
    private long[] runs = new long[16];
    private int nRuns;
    private long written;
    private ExecutorService spiller;
    private Future<?> pending;
    private long duplicateCount;

    public SpillingDuplicateFinder() {
        this(CHUNK);
    }

    SpillingDuplicateFinder(int chunk) {
        this.chunk = chunk;
        this.filling = new long[chunk];
    }

    public void add(long v) throws IOException {
        if (n == filling.length) {
            spill();
        }
        filling[n++] = v;
    }

    private void spill() throws IOException {
        await();
        if (out == null) {
            file = Files.createTempFile("jdmcache-restore-", ".oblocks");
            out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.READ,
                    StandardOpenOption.DELETE_ON_CLOSE);
            spiller = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "restore-spill");
                t.setDaemon(true);
                return t;
            });
            spare = new long[chunk];
        }
        long[] full = filling;
        int count = n;
        filling = spare;
        spare = null;
        n = 0;
        pending = spiller.submit(() -> {
            writeRun(full, count);
            return null;
        });
        spare = full; // given back once the run is written (await() before reuse)
    }

    /** Sorts a full buffer and appends it to the file as one run (on the spill thread). */
    private void writeRun(long[] values, int count) throws IOException {
        Arrays.sort(values, 0, count);
        if (nRuns + 1 >= runs.length) {
            runs = Arrays.copyOf(runs, runs.length * 2);
        }
        runs[nRuns] = written;
        ByteBuffer b = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        long at = written;
        for (int i = 0; i < count; i++) {
            if (!b.hasRemaining()) {
                at = writeAt(b, at);
            }
            b.putLong(values[i]);
        }
        at = writeAt(b, at);
        written = at;
        nRuns++;
        runs[nRuns] = written;
    }

    private long writeAt(ByteBuffer b, long at) throws IOException {
        b.flip();
        while (b.hasRemaining()) {
            at += out.write(b, at);
        }
        b.clear();
        return at;
    }

    private void await() throws IOException {
        if (pending == null) {
            return;
        }
        try {
            pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while sorting origin blocks", e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            throw c instanceof IOException io ? io : new IOException(String.valueOf(c), c);
        } finally {
            pending = null;
        }
    }

    /** How many distinct values were seen more than once (after {@link #duplicates}). */
    public long duplicateCount() {
        return duplicateCount;
    }

    /** The duplicated values (each once, ascending; at most {@link #MAX_REPORTED}), after all were added. */
    public long[] duplicates() throws IOException {
        if (out == null) {
            Arrays.sort(filling, 0, n);
            return scan(filling, n);
        }
        if (n > 0) {
            spill();
        }
        await();
        return merge();
    }

    private long[] scan(long[] v, int count) {
        long[] d = new long[0];
        int nd = 0;
        for (int i = 1; i < count; i++) {
            if (v[i] == v[i - 1] && (i < 2 || v[i - 1] != v[i - 2])) {
                duplicateCount++;
                if (nd < MAX_REPORTED) {
                    if (nd == d.length) {
                        d = Arrays.copyOf(d, Math.max(8, nd * 2));
                    }
                    d[nd++] = v[i];
                }
            }
        }
        return Arrays.copyOf(d, nd);
    }

    /** k-way merge of the sorted runs with a binary heap of their heads. */
    private long[] merge() throws IOException {
        filling = null;
        spare = null; // the buffers are not needed any more: room for the read buffers
        int k = nRuns;
        int per = (int) Math.max(1024, Math.min(1 << 16, (2L << 20) / Math.max(1, k) & ~7L));
        ByteBuffer[] in = new ByteBuffer[k];
        long[] pos = new long[k];
        long[] head = new long[k];
        int[] heap = new int[k];
        int size = 0;
        for (int r = 0; r < k; r++) {
            in[r] = ByteBuffer.allocate(per).order(ByteOrder.LITTLE_ENDIAN);
            in[r].flip();
            pos[r] = runs[r];
            if (next(r, in, pos, head)) {
                heap[size++] = r;
                up(heap, size - 1, head);
            }
        }
        long[] d = new long[0];
        int nd = 0;
        boolean havePrev = false;
        long prev = 0;
        long lastDup = 0;
        boolean anyDup = false;
        while (size > 0) {
            int r = heap[0];
            long v = head[r];
            if (havePrev && v == prev && (!anyDup || lastDup != v)) {
                duplicateCount++;
                anyDup = true;
                lastDup = v;
                if (nd < MAX_REPORTED) {
                    if (nd == d.length) {
                        d = Arrays.copyOf(d, Math.max(8, nd * 2));
                    }
                    d[nd++] = v;
                }
            }
            prev = v;
            havePrev = true;
            if (next(r, in, pos, head)) {
                down(heap, 0, size, head);
            } else {
                heap[0] = heap[--size];
                down(heap, 0, size, head);
            }
        }
        return Arrays.copyOf(d, nd);
    }

    private boolean next(int r, ByteBuffer[] in, long[] pos, long[] head) throws IOException {
        ByteBuffer b = in[r];
        if (!b.hasRemaining()) {
            long end = runs[r + 1];
            if (pos[r] >= end) {
                return false;
            }
            b.clear();
            b.limit((int) Math.min(b.capacity(), end - pos[r]));
            while (b.hasRemaining()) {
                int got = out.read(b, pos[r] + b.position());
                if (got < 0) {
                    throw new IOException(file + ": the run of origin blocks ends early");
                }
            }
            pos[r] += b.limit();
            b.flip();
        }
        head[r] = b.getLong();
        return true;
    }

    private static void up(int[] heap, int i, long[] head) {
        while (i > 0) {
            int p = (i - 1) >>> 1;
            if (head[heap[p]] <= head[heap[i]]) {
                return;
            }
            int t = heap[p];
            heap[p] = heap[i];
            heap[i] = t;
            i = p;
        }
    }

    private static void down(int[] heap, int i, int size, long[] head) {
        while (true) {
            int l = 2 * i + 1;
            if (l >= size) {
                return;
            }
            int m = l + 1 < size && head[heap[l + 1]] < head[heap[l]] ? l + 1 : l;
            if (head[heap[i]] <= head[heap[m]]) {
                return;
            }
            int t = heap[m];
            heap[m] = heap[i];
            heap[i] = t;
            i = m;
        }
    }

    @Override
    public void close() throws IOException {
        try {
            await();
        } catch (IOException e) {
            // closing after a failure: the file goes anyway
        }
        if (spiller != null) {
            spiller.shutdownNow();
        }
        if (out != null) {
            out.close(); // DELETE_ON_CLOSE
            Files.deleteIfExists(file);
        }
    }
}
