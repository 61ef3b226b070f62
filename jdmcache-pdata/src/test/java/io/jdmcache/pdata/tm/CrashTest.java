package io.jdmcache.pdata.tm;

import io.jdmcache.pdata.array.ArrayCursor;
import io.jdmcache.pdata.array.PersistentArray;
import io.jdmcache.pdata.bitset.BitsetCursor;
import io.jdmcache.pdata.bitset.BitsetHandle;
import io.jdmcache.pdata.bitset.PersistentBitset;
import io.jdmcache.pdata.btree.Btree;
import io.jdmcache.pdata.btree.BtreeCursor;
import io.jdmcache.pdata.btree.ValueType;
import io.jdmcache.pdata.io.MemoryBlockDevice;
import io.jdmcache.pdata.testing.CrashingDevice;
import io.jdmcache.pdata.testing.PowerLossException;
import io.jdmcache.pdata.testing.TestStore;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Power cut after every single write of a random workload over a btree, an array and a bitset: reopening
 * always gives exactly one committed state (the last one, or the one being committed if its superblock
 * made it), never a mix, with exact space map counts.
 */
class CrashTest {
    private static final long DEVICE = 4 << 20;

    /** The state of all three structures at one commit. */
    record Snapshot(TreeMap<Long, Long> tree, long[] array, BitSet bits, long bitsLength) {
    }

    /** Runs the workload; records snapshots by commit sequence; returns the last fully committed sequence. */
    static final class Run {
        final Map<Long, Snapshot> snapshots = new java.util.HashMap<>();
        long lastDone;
        boolean crashedInCommit;
    }

    static void workload(TestStore s, long seed, Run run) throws IOException {
        run.lastDone = s.sequence;
        Random rnd = new Random(seed);
        Btree tree = new Btree(s.tm, ValueType.plain(8));
        PersistentArray array = new PersistentArray(s.tm, 8);
        PersistentBitset bitset = new PersistentBitset(s.tm);
        TreeMap<Long, Long> mTree = new TreeMap<>();
        long[] mArray = new long[600];
        BitSet mBits = new BitSet();
        long bitsLen = 3000;
        s.roots[0] = tree.create();
        s.kinds[0] = TestStore.Kind.BTREE;
        s.widths[0] = 8;
        s.roots[1] = array.create(mArray.length, i -> 0);
        s.lengths[1] = mArray.length;
        s.kinds[1] = TestStore.Kind.ARRAY;
        s.widths[1] = 8;
        s.roots[2] = bitset.create(bitsLen, false);
        s.lengths[2] = bitsLen;
        s.kinds[2] = TestStore.Kind.ARRAY;
        s.widths[2] = 8;
        BitsetHandle h = new BitsetHandle(bitset, s.roots[2], bitsLen);
        commit(s, run, mTree, mArray, mBits, bitsLen, h);
        int commits = 6 + rnd.nextInt(6);
        for (int c = 0; c < commits; c++) {
            int ops = 20 + rnd.nextInt(300);
            for (int i = 0; i < ops; i++) {
                int what = rnd.nextInt(10);
                if (what < 4) {
                    long k = rnd.nextInt(2000);
                    long v = rnd.nextLong();
                    s.roots[0] = tree.insert(s.roots[0], k, v);
                    mTree.put(k, v);
                } else if (what < 6) {
                    long k = rnd.nextInt(2000);
                    s.roots[0] = tree.remove(s.roots[0], k);
                    mTree.remove(k);
                } else if (what < 8) {
                    int idx = rnd.nextInt(mArray.length);
                    long v = rnd.nextLong();
                    s.roots[1] = array.set(s.roots[1], idx, v);
                    mArray[idx] = v;
                } else if (what < 9) {
                    int idx = rnd.nextInt((int) bitsLen);
                    boolean v = rnd.nextBoolean();
                    h.set(idx, v);
                    mBits.set(idx, v);
                } else {
                    int newLen = 100 + rnd.nextInt(1200);
                    s.roots[1] = array.resize(s.roots[1], mArray.length, newLen, 42);
                    long[] m = Arrays.copyOf(mArray, newLen);
                    for (int j = mArray.length; j < newLen; j++) {
                        m[j] = 42;
                    }
                    mArray = m;
                    s.lengths[1] = newLen;
                }
            }
            commit(s, run, mTree, mArray, mBits, bitsLen, h);
        }
    }

    private static void commit(TestStore s, Run run, TreeMap<Long, Long> t, long[] a, BitSet b, long bl,
                               BitsetHandle h) throws IOException {
        s.roots[2] = h.flush();
        run.snapshots.put(s.sequence + 1, new Snapshot(new TreeMap<>(t), a.clone(), (BitSet) b.clone(), bl));
        run.crashedInCommit = true;
        s.commit();
        run.crashedInCommit = false;
        run.lastDone = s.sequence;
    }

    static void assertMatches(TestStore s, Snapshot snap) throws IOException {
        BtreeCursor c = new Btree(s.tm, ValueType.plain(8)).cursor(s.roots[0]);
        for (Map.Entry<Long, Long> e : snap.tree().entrySet()) {
            assertThat(c.next()).isTrue();
            assertThat(c.key()).isEqualTo(e.getKey());
            assertThat(c.valueLong()).isEqualTo(e.getValue());
        }
        assertThat(c.next()).isFalse();
        assertThat(s.lengths[1]).isEqualTo(snap.array().length);
        ArrayCursor ac = ArrayCursor.open(s.tm, s.roots[1], 8, snap.array().length);
        for (long v : snap.array()) {
            assertThat(ac.next()).isTrue();
            assertThat(ac.value()).isEqualTo(v);
        }
        BitsetCursor bc = BitsetCursor.open(s.tm, s.roots[2], snap.bitsLength());
        while (bc.next()) {
            assertThat(bc.bit()).isEqualTo(snap.bits().get((int) bc.index()));
        }
        assertThat(s.sm.countsSnapshot()).isEqualTo(s.referencesFound());
    }

    @Property(tries = 10)
    void everyCutPointRecoversACommittedState(@ForAll long seed) throws IOException {
        MemoryBlockDevice base = new MemoryBlockDevice(DEVICE);
        // the formatted starting point is durable
        CrashingDevice fmt = new CrashingDevice(base);
        TestStore.format(fmt, 32).close();
        MemoryBlockDevice formatted = fmt.survivor(CrashingDevice.Loss.DROP_ALL, new Random(0));

        // a run without a cut tells how many writes there are
        CrashingDevice full = new CrashingDevice(formatted);
        Run reference = new Run();
        try (TestStore s = TestStore.open(full, 32)) {
            workload(s, seed, reference);
        }
        long totalWrites = full.writes();
        assertThat(totalWrites).isGreaterThan(10);
        net.jqwik.api.statistics.Statistics.label("writes per run").collect(totalWrites < 100 ? "<100"
                : totalWrites < 300 ? "100-299" : totalWrites < 1000 ? "300-999" : "1000+");
        net.jqwik.api.statistics.Statistics.label("commits per run").collect(reference.lastDone);

        Random rnd = new Random(seed);
        List<Long> seenSequences = new ArrayList<>();
        for (long cut = 1; cut <= totalWrites; cut++) {
            CrashingDevice dev = new CrashingDevice(formatted);
            dev.cutPowerAfterWrite(cut);
            Run run = new Run();
            try (TestStore s = TestStore.open(dev, 32)) {
                workload(s, seed, run);
                throw new AssertionError("workload finished despite a power cut after write " + cut);
            } catch (IOException e) {
                // the power went away somewhere in the workload; anything else is a real failure
                Throwable t = e;
                while (t != null && !(t instanceof PowerLossException)) {
                    t = t.getCause();
                }
                if (t == null) {
                    throw e;
                }
            }
            for (CrashingDevice.Loss loss : CrashingDevice.Loss.values()) {
                MemoryBlockDevice img = dev.survivor(loss, rnd);
                try (TestStore s = TestStore.open(img, 32)) {
                    long seq = s.sequence;
                    boolean allowed = seq == run.lastDone || (run.crashedInCommit && seq == run.lastDone + 1);
                    assertThat(allowed).as("cut %d loss %s: found commit %d, last done %d (in commit: %s)",
                            cut, loss, seq, run.lastDone, run.crashedInCommit).isTrue();
                    if (seq >= 2) {
                        assertMatches(s, reference.snapshots.get(seq));
                    }
                    seenSequences.add(seq);
                }
            }
        }
        // the cuts covered the whole history
        assertThat(seenSequences).contains(reference.lastDone);
    }
}
